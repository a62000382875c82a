import { ErrorCode, GatewayError, badRequest } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj } from './json.js';
import { parseArguments } from '@waygate/provider-kit';
import type { Json } from './json.js';
import { signV4 } from './sigv4.js';

/**
 * Requests to Bedrock Runtime: the target's region and credentials, its host, SigV4 signing (or a
 * Bedrock API key as a Bearer token), and an OpenAI chat.completions body as a Converse request.
 */

/** The nominal base URL; the real host is `bedrock-runtime.{region}.amazonaws.com` for the target's region. */
export const DEFAULT_BASE_URL = 'https://bedrock-runtime.us-east-1.amazonaws.com';
export const DEFAULT_REGION = 'us-east-1';
export const SERVICE = 'bedrock';
const REGION_RE = /^[a-z0-9-]{1,32}$/;

/** Reads a provider option from the target's config node (snake_case), else from `x-waygate-…` / `x-portkey-…` headers. */
export function targetOption(input: BuildInput, key: string, headerSuffix: string): string | undefined {
  const fromConfig = input.target.node[key];
  if (typeof fromConfig === 'string' && fromConfig) return fromConfig;
  const h = input.ctx.headers;
  const own = h[`x-waygate-${headerSuffix}`] ?? h[`x-portkey-${headerSuffix}`];
  return typeof own === 'string' && own ? own : undefined;
}

export interface BedrockAuth {
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** A Bedrock API key (sent as `Authorization: Bearer`), used when no access key pair is given. */
  apiKey?: string;
}

/** Who asks for credentials: the provider named in errors, and whether a Bedrock API key may stand in for a key pair. */
export interface AuthPolicy {
  provider: string;
  apiKeys: boolean;
}
const BEDROCK_AUTH: AuthPolicy = { provider: 'bedrock', apiKeys: true };

/** The target's region and credentials, from config keys or headers (also for other AWS services signed the same way). */
export function resolveAuth(input: BuildInput, policy: AuthPolicy = BEDROCK_AUTH): BedrockAuth {
  const region = targetOption(input, 'aws_region', 'aws-region') ?? DEFAULT_REGION;
  if (!REGION_RE.test(region))
    throw badRequest(ErrorCode.INVALID_CONFIG, `aws_region must match [a-z0-9-]+ (got ${JSON.stringify(region.slice(0, 40))})`, 'aws_region');
  const accessKeyId = targetOption(input, 'aws_access_key_id', 'aws-access-key-id');
  const secretAccessKey = targetOption(input, 'aws_secret_access_key', 'aws-secret-access-key');
  const sessionToken = targetOption(input, 'aws_session_token', 'aws-session-token');
  if (accessKeyId && secretAccessKey) return { region, accessKeyId, secretAccessKey, sessionToken };
  if (accessKeyId || secretAccessKey) {
    throw new GatewayError(ErrorCode.MISSING_CREDENTIALS, 400, `${policy.provider} needs both aws_access_key_id and aws_secret_access_key`, {
      param: 'aws_secret_access_key',
    });
  }
  if (policy.apiKeys && input.target.apiKey) return { region, apiKey: input.target.apiKey };
  throw new GatewayError(
    ErrorCode.MISSING_CREDENTIALS,
    401,
    `${policy.provider} needs AWS credentials: aws_access_key_id and aws_secret_access_key (config or x-portkey-aws-* headers)${policy.apiKeys ? ', or a Bedrock API key' : ''}`,
    { type: 'authentication_error' },
  );
}

/** The base URL for a target: its custom host if it has one, else the region's Bedrock Runtime host. */
export function baseURLFor(input: BuildInput, region: string): string {
  const b = input.target.baseURL;
  if (b && b !== DEFAULT_BASE_URL) return b.replace(/\/+$/, '');
  return `https://bedrock-runtime.${region}.amazonaws.com`;
}

/** A signed (or Bearer-authorised) POST of a JSON body to a path on the target's Bedrock Runtime host. */
export function signedPost(input: BuildInput, path: string, payload: Json, accept = 'application/json'): UpstreamRequest {
  const auth = resolveAuth(input);
  return signedPostTo(input, `${baseURLFor(input, auth.region)}${path}`, payload, auth, accept);
}

/** A signed (or Bearer-authorised) POST of a JSON body to a URL (another Bedrock host, such as Agent Runtime's). */
export function signedPostTo(input: BuildInput, url: string, payload: Json, auth: BedrockAuth, accept = 'application/json'): UpstreamRequest {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept };
  if (!auth.accessKeyId) {
    headers.authorization = `Bearer ${auth.apiKey}`;
    return { url, method: 'POST', headers, body };
  }
  const signed = signV4({
    method: 'POST',
    url,
    headers,
    body,
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: auth.secretAccessKey!, sessionToken: auth.sessionToken },
    region: auth.region,
    service: SERVICE,
    date: input.ctx.startedAt ?? Date.now(),
  });
  return { url, method: 'POST', headers: signed.headers, body };
}

export function modelOf(input: BuildInput): string {
  const m = input.body?.model;
  if (typeof m !== 'string' || !m)
    throw badRequest(ErrorCode.INVALID_REQUEST, 'model is required (a Bedrock model id, inference profile id or ARN)', 'model');
  return m;
}

// ---------------------------------------------------------------- request mapping

const IMAGE_FORMATS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

function contentBlocks(content: unknown, param: string): Json[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  if (!Array.isArray(content)) return [];
  const out: Json[] = [];
  content.forEach((part, i) => {
    if (!isObj(part)) return;
    const p = `${param}[${i}]`;
    if (part.type === 'text') {
      if (part.text) out.push({ text: String(part.text) });
    } else if (part.type === 'image_url') {
      const url: unknown = isObj(part.image_url) ? part.image_url.url : part.image_url;
      const m = typeof url === 'string' ? /^data:([^;,]+);base64,(.*)$/s.exec(url) : null;
      const format = m ? IMAGE_FORMATS[m[1]!.toLowerCase()] : undefined;
      if (!m || !format) throw badRequest(ErrorCode.INVALID_REQUEST, 'Bedrock takes images as base64 data: URLs (png, jpeg, gif, webp)', p);
      out.push({ image: { format, source: { bytes: m[2] } } });
    } else throw badRequest(ErrorCode.INVALID_REQUEST, `Content part type ${JSON.stringify(part.type)} is not supported by Bedrock`, p);
  });
  return out;
}

/** Translates an OpenAI chat.completions body to a Bedrock Converse request body. */
export function toConverseRequest(body: Json): Json {
  const system: Json[] = [];
  const messages: Json[] = [];
  const push = (role: 'user' | 'assistant', blocks: Json[]) => {
    if (!blocks.length) return;
    const last = messages[messages.length - 1];
    if (last && last.role === role)
      last.content.push(...blocks); // Converse wants turns to alternate
    else messages.push({ role, content: blocks });
  };
  const msgs: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  msgs.forEach((raw, i) => {
    if (!isObj(raw)) return;
    const param = `messages[${i}].content`;
    switch (raw.role) {
      case 'system':
      case 'developer': {
        const t = textOf(raw.content);
        if (t) system.push({ text: t });
        break;
      }
      case 'user':
        push('user', contentBlocks(raw.content, param));
        break;
      case 'assistant': {
        const blocks = contentBlocks(raw.content, param);
        for (const tc of Array.isArray(raw.tool_calls) ? raw.tool_calls : []) {
          if (!isObj(tc) || !isObj(tc.function)) continue;
          blocks.push({ toolUse: { toolUseId: String(tc.id ?? ''), name: String(tc.function.name ?? ''), input: parseArguments(tc.function.arguments) } });
        }
        push('assistant', blocks);
        break;
      }
      case 'tool':
      case 'function': {
        const text = textOf(raw.content);
        push('user', [{ toolResult: { toolUseId: String(raw.tool_call_id ?? raw.name ?? ''), content: [{ text }] } }]);
        break;
      }
      default:
        throw badRequest(ErrorCode.INVALID_REQUEST, `Unknown message role ${JSON.stringify(raw.role)}`, `messages[${i}].role`);
    }
  });

  const out: Json = { messages };
  if (system.length) out.system = system;
  const inf: Json = {};
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === 'number') inf.maxTokens = max;
  if (typeof body.temperature === 'number') inf.temperature = body.temperature;
  if (typeof body.top_p === 'number') inf.topP = body.top_p;
  if (typeof body.stop === 'string') inf.stopSequences = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length) inf.stopSequences = body.stop.map(String);
  if (Object.keys(inf).length) out.inferenceConfig = inf;

  const tools: unknown[] = Array.isArray(body.tools) ? body.tools : [];
  const choice = body.tool_choice;
  const historyUsesTools = messages.some((m) => m.content.some((b: Json) => b.toolUse || b.toolResult));
  if (tools.length && (choice !== 'none' || historyUsesTools)) {
    const specs = tools
      .filter((t): t is Json => isObj(t) && isObj(t.function))
      .map((t) => {
        const spec: Json = {
          name: String(t.function.name),
          inputSchema: { json: isObj(t.function.parameters) ? t.function.parameters : { type: 'object', properties: {} } },
        };
        if (typeof t.function.description === 'string') spec.description = t.function.description;
        return { toolSpec: spec };
      });
    const toolConfig: Json = { tools: specs };
    if (choice === 'auto') toolConfig.toolChoice = { auto: {} };
    else if (choice === 'required') toolConfig.toolChoice = { any: {} };
    else if (isObj(choice) && isObj(choice.function) && typeof choice.function.name === 'string')
      toolConfig.toolChoice = { tool: { name: choice.function.name } };
    out.toolConfig = toolConfig;
  }
  if (isObj(body.additional_model_request_fields)) out.additionalModelRequestFields = body.additional_model_request_fields;
  if (isObj(body.guardrail_config)) out.guardrailConfig = body.guardrail_config;
  return out;
}

/** The upstream request for a chat completion: `/converse`, or `/converse-stream` when the request streams. */
export function buildChat(input: BuildInput): UpstreamRequest {
  const model = encodeURIComponent(modelOf(input));
  const stream = input.ctx.stream || input.body?.stream === true;
  const path = `/model/${model}/${stream ? 'converse-stream' : 'converse'}`;
  return signedPost(input, path, toConverseRequest(input.body ?? {}), stream ? 'application/vnd.amazon.eventstream' : 'application/json');
}
