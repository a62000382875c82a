import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj } from './json.js';
import { DEFAULT_BASE_URL, SERVICE, resolveAuth } from './request.js';
import { signV4 } from './sigv4.js';

/**
 * `GET /v1/models` to Bedrock's control plane: `ListFoundationModels` (`GET /foundation-models` on
 * `bedrock.{region}.amazonaws.com`, SigV4 service `bedrock`, or a Bedrock API key as a Bearer token).
 * Each summary's `modelId` is the id a chat request names; the list comes back in OpenAI's shape,
 * `owned_by` the model's provider (Anthropic, Amazon, Meta, ...). Bedrock reports no creation time.
 */
export function controlPlaneURL(input: BuildInput, region: string): string {
  const b = input.target.baseURL;
  if (b && b !== DEFAULT_BASE_URL) return b.replace(/\/+$/, '');
  return `https://bedrock.${region}.amazonaws.com`;
}

export function buildModels(input: BuildInput): UpstreamRequest {
  const auth = resolveAuth(input);
  const url = `${controlPlaneURL(input, auth.region)}/foundation-models`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (!auth.accessKeyId) return { url, method: 'GET', headers: { ...headers, authorization: `Bearer ${auth.apiKey}` } };
  const signed = signV4({
    method: 'GET',
    url,
    headers,
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: auth.secretAccessKey!, sessionToken: auth.sessionToken },
    region: auth.region,
    service: SERVICE,
    date: input.ctx.startedAt ?? Date.now(),
  });
  return { url, method: 'GET', headers: signed.headers };
}

export function toOpenAIModelList(json: unknown): unknown {
  if (!isObj(json) || !Array.isArray(json.modelSummaries)) return { object: 'list', data: [] };
  const data = json.modelSummaries.filter(isObj).flatMap((m) => {
    if (typeof m.modelId !== 'string') return [];
    const owner = typeof m.providerName === 'string' ? m.providerName.toLowerCase() : 'aws';
    return [{ id: m.modelId, object: 'model', created: 0, owned_by: owner }];
  });
  return { object: 'list', data };
}
