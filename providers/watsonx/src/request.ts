import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, GatewayError, UpstreamRequest } from '@waygate/core';
import { isObj, num } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { targetOption } from '@waygate/provider-openai';

/**
 * Requests to IBM watsonx.ai on `https://{watsonx_region}.ml.cloud.ibm.com` (a custom host replaces
 * it): with a project or a space, chat goes to the native `POST /ml/v1/text/chat` (`chat_stream` when
 * streamed) `?version=2024-05-31`; without, every endpoint goes to the OpenAI-shaped model gateway
 * `/ml/gateway/v1/…` as it came. The bearer token is the key itself when it is one (a JWT), else
 * the IAM token prepare() exchanged the API key for.
 */

export const WATSONX_HOST_TEMPLATE = 'https://{watsonx_region}.ml.cloud.ibm.com';
export const CHAT_VERSION = '2024-05-31';
const REGION_RE = /^[a-z]{2}-[a-z]{2,8}(?:-\d)?$/;
/** Project and space ids are GUIDs; anything else goes nowhere near a body. */
const ID_RE = /^[A-Za-z0-9-]{1,64}$/;
/** The key of this adapter's entry in `BuildInput.prepared`. */
export const SLOT = 'watsonx';

export function invalid(message: string, param?: string): GatewayError {
  return badRequest(ErrorCode.INVALID_REQUEST, message, param);
}

/** Whether the key is already a bearer token (an IAM access token is a JWT), not an API key to exchange. */
export const isBearerToken = (key: string): boolean => /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(key);

/** The base URL: a custom host as given, else the region's host (a missing or unsafe region is a 400 naming it). */
export function watsonxBase(input: BuildInput): string {
  const base = input.target.baseURL ?? WATSONX_HOST_TEMPLATE;
  if (base !== WATSONX_HOST_TEMPLATE) return base.replace(/\/+$/, '');
  const region = targetOption(input, 'watsonx_region', 'watsonx-region');
  const where = `${input.target.path}.watsonx_region`;
  if (region === undefined)
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${where}: watsonx needs watsonx_region (or the x-waygate-watsonx-region header), an IBM Cloud region (us-south, eu-de, jp-tok, ...), or a custom_host`,
      where,
    );
  if (!REGION_RE.test(region))
    throw badRequest(ErrorCode.INVALID_CONFIG, `${where}: watsonx needs watsonx_region to be an IBM Cloud region (us-south, eu-de, jp-tok, ...)`, where);
  return `https://${region}.ml.cloud.ibm.com`;
}

/** The project or space a native call runs in (`watsonx_project_id` / `watsonx_space_id`, or their headers). */
export function scopeOf(input: BuildInput): { project_id: string } | { space_id: string } | undefined {
  const project = targetOption(input, 'watsonx_project_id', 'watsonx-project-id');
  const space = targetOption(input, 'watsonx_space_id', 'watsonx-space-id');
  if (project !== undefined && space !== undefined)
    throw badRequest(ErrorCode.INVALID_CONFIG, 'watsonx takes watsonx_project_id or watsonx_space_id, not both', 'watsonx_project_id');
  const id = project ?? space;
  if (id === undefined) return undefined;
  if (!ID_RE.test(id))
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${project ? 'watsonx_project_id' : 'watsonx_space_id'} must be a watsonx.ai project or space id`,
      project ? 'watsonx_project_id' : 'watsonx_space_id',
    );
  return project ? { project_id: project } : { space_id: id };
}

export function headersFor(input: BuildInput, stream = false): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
  const key = input.target.apiKey;
  if (key) {
    const token = isBearerToken(key) ? key : (input.prepared?.[SLOT] as string | undefined);
    if (!token) throw new Error('watsonx: the IAM token was not prepared');
    h['authorization'] = `Bearer ${token}`;
  }
  return h;
}

/** OpenAI message content → watsonx's: a string, or `text` / `image_url` parts (the same shape). */
function toMessage(m: unknown, i: number): Json {
  const where = `messages[${i}]`;
  if (!isObj(m)) throw invalid(`${where}: not a message`, where);
  const role = m.role === 'developer' ? 'system' : m.role;
  if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'tool') {
    throw invalid(`${where}: watsonx takes system, user, assistant and tool messages, not ${JSON.stringify(m.role)}`, where);
  }
  const out: Json = { role };
  if (m.content !== undefined && m.content !== null) out.content = m.content;
  if (role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length) out.tool_calls = m.tool_calls;
  if (role === 'tool') {
    if (typeof m.tool_call_id !== 'string') throw invalid(`${where}: a tool message needs tool_call_id`, where);
    out.tool_call_id = m.tool_call_id;
  }
  return out;
}

/**
 * An OpenAI chat request → a watsonx.ai text/chat body: `model` → `model_id`, the project or space,
 * `tool_choice` `none`/`auto`/`required` → `tool_choice_option`, a named function stays
 * `tool_choice`; the sampling options keep their names. `stream`, `stream_options` and `user` are not sent.
 */
export function toWatsonxChat(body: Json, scope: Json): Json {
  if (typeof body.model !== 'string' || !body.model) throw invalid('model is required, e.g. "ibm/granite-3-8b-instruct"', 'model');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages must be a non-empty array', 'messages');
  const out: Json = { model_id: body.model, ...scope, messages: body.messages.map(toMessage) };
  if (Array.isArray(body.tools) && body.tools.length) out.tools = body.tools;
  const choice = body.tool_choice;
  if (choice === 'none' || choice === 'auto' || choice === 'required') out.tool_choice_option = choice;
  else if (isObj(choice)) out.tool_choice = choice;
  const max = num(body.max_completion_tokens) ?? num(body.max_tokens);
  if (max !== undefined) out.max_tokens = max;
  for (const k of ['temperature', 'top_p', 'frequency_penalty', 'presence_penalty', 'seed', 'n', 'top_logprobs'] as const) {
    const v = num(body[k]);
    if (v !== undefined) out[k] = v;
  }
  if (typeof body.stop === 'string') out.stop = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length) out.stop = body.stop;
  if (typeof body.logprobs === 'boolean') out.logprobs = body.logprobs;
  if (isObj(body.response_format)) out.response_format = body.response_format;
  if (isObj(body.logit_bias)) out.logit_bias = body.logit_bias;
  return out;
}

/** Chat: native with a project or space, else the model gateway. */
export function buildChat(input: BuildInput): UpstreamRequest {
  const base = watsonxBase(input);
  const scope = scopeOf(input);
  if (!scope) return buildGateway(input, '/chat/completions');
  const body = input.body ?? {};
  const stream = body.stream === true;
  const url = `${base}/ml/v1/text/${stream ? 'chat_stream' : 'chat'}?version=${CHAT_VERSION}`;
  return { url, method: 'POST', headers: headersFor(input, stream), body: JSON.stringify(toWatsonxChat(body, scope)) };
}

/** The model gateway, OpenAI's wire format: the body as it came. */
export function buildGateway(input: BuildInput, path: string, method: UpstreamRequest['method'] = 'POST'): UpstreamRequest {
  const url = `${watsonxBase(input)}/ml/gateway/v1${path}`;
  const stream = input.body?.stream === true;
  if (method === 'GET') return { url, method, headers: headersFor(input) };
  return { url, method, headers: headersFor(input, stream), body: input.rawBody ?? JSON.stringify(input.body ?? {}) };
}
