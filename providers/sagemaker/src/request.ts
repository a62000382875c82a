import { ErrorCode, badRequest } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { resolveAuth, signV4, targetOption } from '@waygate/provider-bedrock';
import { generateBody } from '@waygate/provider-tgi';
import type { TgiKind } from '@waygate/provider-tgi';

/**
 * Requests to SageMaker Runtime: `InvokeEndpoint` (`POST /endpoints/{EndpointName}/invocations`)
 * and `InvokeEndpointWithResponseStream` (`…/invocations-response-stream`) on
 * `runtime.sagemaker.{region}.amazonaws.com`, signed with SigV4 for the service `sagemaker`. The
 * body is the canonical OpenAI body as it is: the LLM containers SageMaker hosts (LMI/DJL, TGI's
 * Messages API, vLLM) take OpenAI's chat completions and embeddings bodies. With `sagemaker_format:
 * "tgi"` the body is Hugging Face TGI's own `{inputs, parameters}` instead (mapped by
 * `@waygate/provider-tgi`). Credentials and region are read the way the Bedrock adapter reads them
 * (its `resolveAuth`, its signer).
 */

/** The nominal base URL; the real host is `runtime.sagemaker.{region}.amazonaws.com` for the target's region. */
export const DEFAULT_BASE_URL = 'https://runtime.sagemaker.us-east-1.amazonaws.com';
export const SERVICE = 'sagemaker';
const AUTH = { provider: 'sagemaker', apiKeys: false };

/** SageMaker's EndpointName (and inference component name): letters, digits and inner hyphens, at most 63. */
const NAME_RE = /^[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}$/;
/** A header value AWS accepts: visible US-ASCII and spaces, at most 1024 characters (no CR or LF). */
const HEADER_VALUE_RE = /^[\x20-\x7e]{1,1024}$/;

/** The endpoint name: `amzn_sagemaker_endpoint_name` (or its header), else the request's `model`. */
export const ENDPOINT_OPTION = { key: 'amzn_sagemaker_endpoint_name', header: 'amzn-sagemaker-endpoint-name' } as const;

/** The container's wire format: `sagemaker_format` (or its header). Waygate's option: Portkey has none. */
export const FORMAT_OPTION = { key: 'sagemaker_format', header: 'sagemaker-format' } as const;

/** `openai`: OpenAI's bodies and answers as they are (the default); `tgi`: Hugging Face TGI's `inputs`/`parameters` and `generated_text`. */
export type SageMakerFormat = 'openai' | 'tgi';

/** The container format a request's target names, checked; `openai` when it names none. */
export function sageMakerFormat(input: BuildInput): SageMakerFormat {
  const v = targetOption(input, FORMAT_OPTION.key, FORMAT_OPTION.header);
  if (v === undefined || v === 'openai') return 'openai';
  if (v === 'tgi') return 'tgi';
  throw badRequest(ErrorCode.INVALID_CONFIG, `${FORMAT_OPTION.key} must be "openai" or "tgi" (got ${JSON.stringify(v.slice(0, 40))})`, FORMAT_OPTION.key);
}

interface HeaderOption {
  /** The target's config key (snake_case, Portkey's name). */
  key: string;
  /** The request header after `x-waygate-` / `x-portkey-`. */
  header: string;
  /** The header sent to SageMaker. */
  upstream: string;
  /** Whether InvokeEndpointWithResponseStream takes it too (TargetModel and EnableExplanations are InvokeEndpoint's only). */
  streams: boolean;
  pattern?: RegExp;
}

const opt = (name: string, streams: boolean, pattern?: RegExp): HeaderOption => ({
  key: `amzn_sagemaker_${name.replace(/-/g, '_')}`,
  header: `amzn-sagemaker-${name}`,
  upstream: `x-amzn-sagemaker-${name}`,
  streams,
  pattern,
});

/** The optional SageMaker request headers, each read from the target (Portkey's option names). */
export const HEADER_OPTIONS: readonly HeaderOption[] = [
  opt('custom-attributes', true),
  opt('target-model', false),
  opt('target-variant', true),
  opt('target-container-hostname', true),
  opt('inference-id', true),
  opt('enable-explanations', false),
  opt('inference-component', true, NAME_RE),
  opt('session-id', true),
];

/** The endpoint name for a request, checked (it goes into the path). */
export function endpointName(input: BuildInput): string {
  const name = targetOption(input, ENDPOINT_OPTION.key, ENDPOINT_OPTION.header) ?? (typeof input.body?.model === 'string' ? input.body.model : '');
  if (!name)
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `sagemaker needs an endpoint name: ${ENDPOINT_OPTION.key} (or the x-portkey-${ENDPOINT_OPTION.header} header), or the request's model`,
      ENDPOINT_OPTION.key,
    );
  if (!NAME_RE.test(name))
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `a SageMaker endpoint name is letters, digits and inner hyphens, at most 63 (got ${JSON.stringify(name.slice(0, 70))})`,
      ENDPOINT_OPTION.key,
    );
  return name;
}

/** The SageMaker headers the target asks for, checked; those the operation does not take are left out. */
export function sageMakerHeaders(input: BuildInput, stream: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of HEADER_OPTIONS) {
    const v = targetOption(input, o.key, o.header);
    if (v === undefined || (stream && !o.streams)) continue;
    if (!HEADER_VALUE_RE.test(v) || (o.pattern && !o.pattern.test(v)))
      throw badRequest(ErrorCode.INVALID_CONFIG, `${o.key} must be ${o.pattern ? 'a SageMaker name' : 'visible ASCII'}, at most 1024 characters`, o.key);
    out[o.upstream] = v;
  }
  return out;
}

/** The base URL for a target: its custom host if it has one, else the region's SageMaker Runtime host. */
export function baseURLFor(input: BuildInput, region: string): string {
  const b = input.target.baseURL;
  if (b && b !== DEFAULT_BASE_URL) return b.replace(/\/+$/, '');
  return `https://runtime.${SERVICE}.${region}.amazonaws.com`;
}

/**
 * A signed InvokeEndpoint (or, when `stream`, InvokeEndpointWithResponseStream) of `body`: by default
 * the canonical body (the client's bytes when nothing changed them).
 */
export function buildInvoke(
  input: BuildInput,
  stream: boolean,
  body: string | Uint8Array = input.rawBody ?? JSON.stringify(input.body ?? {}),
): UpstreamRequest {
  const auth = resolveAuth(input, AUTH);
  const name = endpointName(input);
  const url = `${baseURLFor(input, auth.region)}/endpoints/${encodeURIComponent(name)}/${stream ? 'invocations-response-stream' : 'invocations'}`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'application/vnd.amazon.eventstream' : 'application/json',
    ...sageMakerHeaders(input, stream),
  };
  const signed = signV4({
    method: 'POST',
    url,
    headers,
    body,
    // With API keys refused, resolveAuth returns a key pair or throws.
    credentials: { accessKeyId: auth.accessKeyId!, secretAccessKey: auth.secretAccessKey!, sessionToken: auth.sessionToken },
    region: auth.region,
    service: SERVICE,
    date: input.ctx.startedAt ?? Date.now(),
  });
  return { url, method: 'POST', headers: signed.headers, body };
}

const streams = (input: BuildInput): boolean => input.ctx.stream || input.body?.stream === true;

/**
 * TGI's body for an OpenAI chat or completion (`@waygate/provider-tgi`'s mapping): `{inputs, parameters}`,
 * and `stream: true` when streamed (TGI's SageMaker route, `/invocations`, streams its `generate_stream`
 * events only when the body asks).
 */
export function tgiBody(input: BuildInput, kind: TgiKind, stream: boolean): string {
  const body: Record<string, unknown> = generateBody(input.body, kind, 'sagemaker');
  if (stream) body.stream = true;
  return JSON.stringify(body);
}

/** A chat completion: streamed through InvokeEndpointWithResponseStream when the request streams; TGI's body with `sagemaker_format: "tgi"`. */
export function buildChat(input: BuildInput): UpstreamRequest {
  const stream = streams(input);
  return sageMakerFormat(input) === 'tgi' ? buildInvoke(input, stream, tgiBody(input, 'chat', stream)) : buildInvoke(input, stream);
}

/** A text completion: TGI's body, so only with `sagemaker_format: "tgi"` (an OpenAI-style container's completions route is not InvokeEndpoint's). */
export function buildCompletion(input: BuildInput): UpstreamRequest {
  if (sageMakerFormat(input) !== 'tgi')
    throw badRequest(
      ErrorCode.UNSUPPORTED_ENDPOINT,
      `sagemaker serves completions only for a TGI container (${FORMAT_OPTION.key}: "tgi"); use chat completions`,
      FORMAT_OPTION.key,
    );
  const stream = streams(input);
  return buildInvoke(input, stream, tgiBody(input, 'completion', stream));
}

/** Embeddings: InvokeEndpoint with OpenAI's embeddings body. */
export function buildEmbeddings(input: BuildInput): UpstreamRequest {
  return buildInvoke(input, false);
}
