import { ErrorCode, GatewayError, badRequest } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { parseArguments } from '@waygate/provider-kit';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { signRequest } from './signer.js';
import type { OciCredentials } from './signer.js';

/**
 * Requests to OCI Generative AI inference: the target's options (Portkey's names), its regional host,
 * the signed POST, and an OpenAI chat.completions body as OCI's `ChatDetails` — a GENERIC chat
 * request (Meta, xAI, OpenAI, Google and other models) or a COHERE one (`cohere.*` models).
 */

/** The nominal base URL; the real host is `inference.generativeai.{region}.oci.oraclecloud.com` for the target's region. */
export const DEFAULT_BASE_URL = 'https://inference.generativeai.us-chicago-1.oci.oraclecloud.com';
export const DEFAULT_API_VERSION = '20231130';
const REGION_RE = /^[a-z0-9-]{1,40}$/;
const API_VERSION_RE = /^\d{8}$/;

/**
 * Reads a provider option from the target's config node (snake_case, e.g. `oracle_region`), else from
 * the `x-waygate-…` / `x-portkey-…` header (e.g. `x-portkey-oracle-region`).
 */
export function targetOption(input: BuildInput, key: string): string | undefined {
  const fromConfig = input.target.node[key];
  if (typeof fromConfig === 'string' && fromConfig) return fromConfig;
  const suffix = key.replace(/_/g, '-');
  const h = input.ctx.headers;
  const own = h[`x-waygate-${suffix}`] ?? h[`x-portkey-${suffix}`];
  return typeof own === 'string' && own ? own : undefined;
}

export type ApiFormat = 'GENERIC' | 'COHERE';

export interface OracleTarget {
  /** Where requests go: the custom host, else the region's inference host. */
  baseURL: string;
  apiVersion: string;
  compartmentId: string;
  servingMode: Json;
  credentials: OciCredentials;
}

/** A required option: a missing credential is a 401 `missing_credentials`, the missing compartment a 400 `invalid_config`. */
function required(input: BuildInput, key: string): string {
  const v = targetOption(input, key);
  if (v) return v;
  const message = `oracle needs ${key} (in the config, or the x-portkey-${key.replace(/_/g, '-')} header)`;
  if (key === 'oracle_compartment_id') throw badRequest(ErrorCode.INVALID_CONFIG, message, key);
  throw new GatewayError(ErrorCode.MISSING_CREDENTIALS, 401, message, { param: key, type: 'authentication_error' });
}

/** The OCI credentials of a target: tenancy, user, fingerprint and private key are all required. */
export function resolveCredentials(input: BuildInput): OciCredentials {
  const credentials: OciCredentials = {
    tenancy: required(input, 'oracle_tenancy'),
    user: required(input, 'oracle_user'),
    fingerprint: required(input, 'oracle_fingerprint'),
    privateKey: required(input, 'oracle_private_key'),
  };
  const passphrase = targetOption(input, 'oracle_key_passphrase');
  if (passphrase) credentials.passphrase = passphrase;
  for (const k of ['tenancy', 'user', 'fingerprint'] as const) {
    if (/["\\\r\n]/.test(credentials[k])) throw badRequest(ErrorCode.INVALID_CONFIG, `oracle_${k} holds a character a keyId cannot`, `oracle_${k}`);
  }
  return credentials;
}

/** The model id a request names (on-demand), or the endpoint OCID (dedicated, when no `oracle_endpoint_id`). */
export function modelOf(input: BuildInput): string {
  const m = input.body?.model;
  if (typeof m !== 'string' || !m)
    throw badRequest(ErrorCode.INVALID_REQUEST, 'model is required (an OCI Generative AI model id, e.g. meta.llama-3.3-70b-instruct)', 'model');
  return m;
}

/** The serving mode: ON_DEMAND with the model id, or DEDICATED with the endpoint OCID. */
export function servingModeOf(input: BuildInput): Json {
  const mode = (targetOption(input, 'oracle_serving_mode') ?? 'ON_DEMAND').toUpperCase();
  if (mode === 'ON_DEMAND') return { servingType: 'ON_DEMAND', modelId: modelOf(input) };
  if (mode === 'DEDICATED') return { servingType: 'DEDICATED', endpointId: targetOption(input, 'oracle_endpoint_id') ?? modelOf(input) };
  throw badRequest(
    ErrorCode.INVALID_CONFIG,
    `oracle_serving_mode must be ON_DEMAND or DEDICATED (got ${JSON.stringify(mode.slice(0, 40))})`,
    'oracle_serving_mode',
  );
}

/** Everything a request to the target needs besides its body. */
export function resolveTarget(input: BuildInput): OracleTarget {
  const apiVersion = targetOption(input, 'oracle_api_version') ?? DEFAULT_API_VERSION;
  if (!API_VERSION_RE.test(apiVersion))
    throw badRequest(ErrorCode.INVALID_CONFIG, 'oracle_api_version must be a date such as 20231130', 'oracle_api_version');
  const b = input.target.baseURL;
  let baseURL: string;
  if (b && b !== DEFAULT_BASE_URL) baseURL = b.replace(/\/+$/, '');
  else {
    const region = targetOption(input, 'oracle_region');
    if (!region) throw badRequest(ErrorCode.INVALID_CONFIG, 'oracle needs oracle_region (e.g. us-chicago-1), or a custom_host', 'oracle_region');
    if (!REGION_RE.test(region))
      throw badRequest(ErrorCode.INVALID_CONFIG, `oracle_region must match [a-z0-9-]+ (got ${JSON.stringify(region.slice(0, 40))})`, 'oracle_region');
    baseURL = `https://inference.generativeai.${region}.oci.oraclecloud.com`;
  }
  return {
    baseURL,
    apiVersion,
    compartmentId: required(input, 'oracle_compartment_id'),
    servingMode: servingModeOf(input),
    credentials: resolveCredentials(input),
  };
}

/** A signed POST of a JSON body to `/{apiVersion}/actions/{action}` on the target's host. */
export function signedAction(
  input: BuildInput,
  t: OracleTarget,
  action: 'chat' | 'embedText',
  payload: Json,
  accept = 'application/json',
): UpstreamRequest {
  const url = `${t.baseURL}/${t.apiVersion}/actions/${action}`;
  const body = JSON.stringify(payload);
  const headers = signRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', accept },
    body,
    credentials: t.credentials,
    date: input.ctx.startedAt ?? Date.now(),
  });
  return { url, method: 'POST', headers, body };
}

// ---------------------------------------------------------------- chat: which format

/** COHERE for `cohere.*` models (unless `oracle_api_format` says otherwise), GENERIC for every other. */
export function apiFormatOf(input: BuildInput): ApiFormat {
  const forced = targetOption(input, 'oracle_api_format')?.toUpperCase();
  if (forced === 'GENERIC' || forced === 'COHERE') return forced;
  if (forced) throw badRequest(ErrorCode.INVALID_CONFIG, 'oracle_api_format must be GENERIC or COHERE', 'oracle_api_format');
  const model = String(input.body?.model ?? '');
  return /^cohere\.command/i.test(model) && !/vision/i.test(model) ? 'COHERE' : 'GENERIC';
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : typeof p === 'string' ? p : '')).join('');
  return '';
}

const stops = (stop: unknown): string[] | undefined =>
  typeof stop === 'string' ? [stop] : Array.isArray(stop) && stop.length ? stop.map(String) : undefined;

/** The sampling options both formats share, OpenAI names → OCI's. */
function sampling(body: Json, out: Json): void {
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.topP = body.top_p;
  if (typeof body.top_k === 'number') out.topK = body.top_k;
  if (typeof body.frequency_penalty === 'number') out.frequencyPenalty = body.frequency_penalty;
  if (typeof body.presence_penalty === 'number') out.presencePenalty = body.presence_penalty;
  if (typeof body.seed === 'number') out.seed = body.seed;
}

function streaming(input: BuildInput, out: Json): void {
  if (input.ctx.stream || input.body?.stream === true) {
    out.isStream = true;
    out.streamOptions = { isIncludeUsage: true }; // always: the gateway counts tokens even when the caller did not ask
  }
}

// ---------------------------------------------------------------- GENERIC

const DETAIL: Record<string, string> = { auto: 'AUTO', high: 'HIGH', low: 'LOW' };

function genericContent(content: unknown, param: string): Json[] {
  if (typeof content === 'string') return [{ type: 'TEXT', text: content }];
  if (!Array.isArray(content)) return [];
  const out: Json[] = [];
  content.forEach((part, i) => {
    const p = `${param}[${i}]`;
    if (typeof part === 'string') out.push({ type: 'TEXT', text: part });
    else if (!isObj(part)) return;
    else if (part.type === 'text') out.push({ type: 'TEXT', text: String(part.text ?? '') });
    else if (part.type === 'image_url') {
      const img: unknown = part.image_url;
      const url: unknown = isObj(img) ? img.url : img;
      if (typeof url !== 'string' || !url) throw badRequest(ErrorCode.INVALID_REQUEST, 'image_url.url is required', p);
      const imageUrl: Json = { url };
      const detail = isObj(img) && typeof img.detail === 'string' ? DETAIL[img.detail.toLowerCase()] : undefined;
      if (detail) imageUrl.detail = detail;
      out.push({ type: 'IMAGE', imageUrl });
    } else throw badRequest(ErrorCode.INVALID_REQUEST, `Content part type ${JSON.stringify(part.type)} is not supported by oracle`, p);
  });
  return out;
}

function genericToolCalls(calls: unknown): Json[] {
  const out: Json[] = [];
  for (const tc of Array.isArray(calls) ? calls : []) {
    if (!isObj(tc) || !isObj(tc.function)) continue;
    const args = tc.function.arguments;
    out.push({
      id: String(tc.id ?? ''),
      type: 'FUNCTION',
      name: String(tc.function.name ?? ''),
      arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
    });
  }
  return out;
}

function genericResponseFormat(rf: unknown): Json | undefined {
  if (!isObj(rf)) return undefined;
  if (rf.type === 'text') return { type: 'TEXT' };
  if (rf.type === 'json_object') return { type: 'JSON_OBJECT' };
  if (rf.type === 'json_schema' && isObj(rf.json_schema)) {
    const s = rf.json_schema;
    const jsonSchema: Json = { name: String(s.name ?? 'response') };
    if (typeof s.description === 'string') jsonSchema.description = s.description;
    if (isObj(s.schema)) jsonSchema.schema = s.schema;
    if (typeof s.strict === 'boolean') jsonSchema.isStrict = s.strict;
    return { type: 'JSON_SCHEMA', jsonSchema };
  }
  return undefined;
}

function genericToolChoice(choice: unknown): Json | undefined {
  if (choice === 'auto') return { type: 'AUTO' };
  if (choice === 'none') return { type: 'NONE' };
  if (choice === 'required') return { type: 'REQUIRED' };
  if (isObj(choice) && isObj(choice.function) && typeof choice.function.name === 'string') return { type: 'FUNCTION', name: choice.function.name };
  return undefined;
}

/** An OpenAI chat.completions body as a GENERIC chat request. */
export function toGenericChatRequest(body: Json, model = String(body.model ?? '')): Json {
  const messages: Json[] = [];
  const msgs: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  msgs.forEach((raw, i) => {
    if (!isObj(raw)) return;
    const param = `messages[${i}].content`;
    const named = (m: Json): Json => (typeof raw.name === 'string' && raw.name ? { ...m, name: raw.name } : m);
    switch (raw.role) {
      case 'system':
      case 'developer':
        messages.push(named({ role: 'SYSTEM', content: genericContent(raw.content, param) }));
        break;
      case 'user':
        messages.push(named({ role: 'USER', content: genericContent(raw.content, param) }));
        break;
      case 'assistant': {
        const calls = genericToolCalls(raw.tool_calls);
        const content = genericContent(raw.content, param);
        // OCI: an assistant message that calls tools has null content, not "".
        const m: Json = { role: 'ASSISTANT', content: calls.length && !textOf(raw.content) ? null : content };
        if (calls.length) m.toolCalls = calls;
        messages.push(named(m));
        break;
      }
      case 'tool':
      case 'function':
        messages.push({ role: 'TOOL', toolCallId: String(raw.tool_call_id ?? raw.name ?? ''), content: [{ type: 'TEXT', text: textOf(raw.content) }] });
        break;
      default:
        throw badRequest(ErrorCode.INVALID_REQUEST, `Unknown message role ${JSON.stringify(raw.role)}`, `messages[${i}].role`);
    }
  });

  const out: Json = { apiFormat: 'GENERIC', messages };
  if (typeof body.max_tokens === 'number') out.maxTokens = body.max_tokens;
  if (typeof body.max_completion_tokens === 'number') {
    // OpenAI models on OCI take maxCompletionTokens (reasoning included); the others know maxTokens only.
    if (/^openai\./i.test(model)) out.maxCompletionTokens = body.max_completion_tokens;
    else out.maxTokens ??= body.max_completion_tokens;
  }
  sampling(body, out);
  const stop = stops(body.stop);
  if (stop) out.stop = stop;
  if (typeof body.n === 'number') out.numGenerations = body.n;
  if (isObj(body.logit_bias)) out.logitBias = body.logit_bias;
  if (body.logprobs === true) out.logProbs = typeof body.top_logprobs === 'number' ? body.top_logprobs : 1;
  if (typeof body.parallel_tool_calls === 'boolean') out.isParallelToolCalls = body.parallel_tool_calls;
  if (typeof body.reasoning_effort === 'string') out.reasoningEffort = body.reasoning_effort.toUpperCase();
  if (typeof body.verbosity === 'string') out.verbosity = body.verbosity.toUpperCase();
  if (isObj(body.metadata)) out.metadata = body.metadata;
  const rf = genericResponseFormat(body.response_format);
  if (rf) out.responseFormat = rf;
  const tools: unknown[] = Array.isArray(body.tools) ? body.tools : [];
  const defs = tools
    .filter((t): t is Json => isObj(t) && isObj(t.function))
    .map((t) => {
      const d: Json = { type: 'FUNCTION', name: String(t.function.name) };
      if (typeof t.function.description === 'string') d.description = t.function.description;
      d.parameters = isObj(t.function.parameters) ? t.function.parameters : { type: 'object', properties: {} };
      return d;
    });
  if (defs.length) {
    out.tools = defs;
    const choice = genericToolChoice(body.tool_choice);
    if (choice) out.toolChoice = choice;
  }
  return out;
}

// ---------------------------------------------------------------- COHERE

const PY_TYPES: Record<string, string> = { string: 'str', integer: 'int', number: 'float', boolean: 'bool', array: 'List', object: 'Dict' };

/** An OpenAI function tool as a Cohere tool: JSON Schema properties → parameter definitions (Python type names). */
function cohereTool(t: Json): Json {
  const f = t.function;
  const params = isObj(f.parameters) ? f.parameters : {};
  const props = isObj(params.properties) ? params.properties : {};
  const req = new Set(Array.isArray(params.required) ? params.required.map(String) : []);
  const defs: Json = {};
  for (const [name, schema] of Object.entries(props)) {
    const s = isObj(schema) ? schema : {};
    const type = typeof s.type === 'string' ? s.type : Array.isArray(s.type) ? String(s.type.find((x: unknown) => x !== 'null') ?? 'string') : 'string';
    const d: Json = { type: PY_TYPES[type] ?? 'str' };
    if (typeof s.description === 'string') d.description = s.description;
    if (req.has(name)) d.isRequired = true;
    defs[name] = d;
  }
  const tool: Json = { name: String(f.name), description: typeof f.description === 'string' ? f.description : '' };
  if (Object.keys(defs).length) tool.parameterDefinitions = defs;
  return tool;
}

/** A tool's output as Cohere's `outputs` (an array of objects). */
function toolOutputs(content: unknown): Json[] {
  const text = textOf(content);
  try {
    const v: unknown = JSON.parse(text);
    if (isObj(v)) return [v];
    if (Array.isArray(v) && v.length && v.every(isObj)) return v;
  } catch {
    // not JSON: the text as it is
  }
  return [{ output: text }];
}

/**
 * An OpenAI chat.completions body as a COHERE chat request: leading system messages → `preambleOverride`,
 * the last user message → `message`, everything before → `chatHistory` (USER, CHATBOT with `toolCalls`,
 * SYSTEM, TOOL with `toolResults`); when the conversation ends with tool answers, `message` is empty
 * and they are `toolResults`, each naming the call (name and parameters) it answers.
 */
export function toCohereChatRequest(body: Json): Json {
  const msgs = (Array.isArray(body.messages) ? body.messages : []).filter(isObj) as Json[];
  const calls = new Map<string, Json>(); // tool_call_id → Cohere call
  const callOf = (m: Json): Json => calls.get(String(m.tool_call_id ?? '')) ?? { name: String(m.name ?? ''), parameters: {} };
  let i = 0;
  const preamble: string[] = [];
  for (; i < msgs.length && (msgs[i]!.role === 'system' || msgs[i]!.role === 'developer'); i++) preamble.push(textOf(msgs[i]!.content));

  let end = msgs.length;
  while (end > i && (msgs[end - 1]!.role === 'tool' || msgs[end - 1]!.role === 'function')) end--;
  const trailingTools = msgs.slice(end);
  let message = '';
  if (!trailingTools.length) {
    const last = msgs[msgs.length - 1];
    if (!last || last.role !== 'user' || msgs.length - 1 < i)
      throw badRequest(ErrorCode.INVALID_REQUEST, 'Cohere models on oracle need the conversation to end with a user message or tool results', 'messages');
    message = textOf(last.content);
    end = msgs.length - 1;
  }

  const history: Json[] = [];
  msgs.slice(i, end).forEach((m, k) => {
    const at = `messages[${i + k}]`;
    if (Array.isArray(m.content) && m.content.some((p: unknown) => isObj(p) && p.type !== 'text'))
      throw badRequest(ErrorCode.INVALID_REQUEST, 'Cohere chat on oracle takes text content only', `${at}.content`);
    switch (m.role) {
      case 'system':
      case 'developer':
        history.push({ role: 'SYSTEM', message: textOf(m.content) });
        break;
      case 'user':
        history.push({ role: 'USER', message: textOf(m.content) });
        break;
      case 'assistant': {
        const entry: Json = { role: 'CHATBOT', message: textOf(m.content) };
        const tcs: Json[] = [];
        for (const tc of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
          if (!isObj(tc) || !isObj(tc.function)) continue;
          const call = { name: String(tc.function.name ?? ''), parameters: parseArguments(tc.function.arguments) };
          calls.set(String(tc.id ?? ''), call);
          tcs.push(call);
        }
        if (tcs.length) entry.toolCalls = tcs;
        history.push(entry);
        break;
      }
      case 'tool':
      case 'function':
        history.push({ role: 'TOOL', toolResults: [{ call: callOf(m), outputs: toolOutputs(m.content) }] });
        break;
      default:
        throw badRequest(ErrorCode.INVALID_REQUEST, `Unknown message role ${JSON.stringify(m.role)}`, `${at}.role`);
    }
  });
  if (!trailingTools.length && Array.isArray(msgs[msgs.length - 1]!.content)) {
    const parts = msgs[msgs.length - 1]!.content as unknown[];
    if (parts.some((p) => isObj(p) && p.type !== 'text'))
      throw badRequest(ErrorCode.INVALID_REQUEST, 'Cohere chat on oracle takes text content only', `messages[${msgs.length - 1}].content`);
  }

  const out: Json = { apiFormat: 'COHERE', message };
  if (history.length) out.chatHistory = history;
  if (trailingTools.length) out.toolResults = trailingTools.map((m) => ({ call: callOf(m), outputs: toolOutputs(m.content) }));
  if (preamble.length) out.preambleOverride = preamble.join('\n\n');
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === 'number') out.maxTokens = max;
  sampling(body, out);
  const stop = stops(body.stop);
  if (stop) out.stopSequences = stop;
  const rf = body.response_format;
  if (isObj(rf) && rf.type === 'json_object') out.responseFormat = { type: 'JSON_OBJECT' };
  else if (isObj(rf) && rf.type === 'json_schema' && isObj(rf.json_schema))
    out.responseFormat = isObj(rf.json_schema.schema) ? { type: 'JSON_OBJECT', schema: rf.json_schema.schema } : { type: 'JSON_OBJECT' };
  const tools: unknown[] = Array.isArray(body.tools) ? body.tools : [];
  if (tools.length && body.tool_choice !== 'none') out.tools = tools.filter((t): t is Json => isObj(t) && isObj(t.function)).map(cohereTool);
  return out;
}

// ---------------------------------------------------------------- the chat request

/** The ChatDetails body for a chat completion. */
export function toChatDetails(input: BuildInput, t: Pick<OracleTarget, 'compartmentId' | 'servingMode'>): Json {
  const body = input.body ?? {};
  const chatRequest = apiFormatOf(input) === 'COHERE' ? toCohereChatRequest(body) : toGenericChatRequest(body);
  streaming(input, chatRequest);
  return { compartmentId: t.compartmentId, servingMode: t.servingMode, chatRequest };
}

/** The upstream request for a chat completion: `POST /{version}/actions/chat`, streamed as SSE when asked. */
export function buildChat(input: BuildInput): UpstreamRequest {
  const t = resolveTarget(input);
  const stream = input.ctx.stream || input.body?.stream === true;
  return signedAction(input, t, 'chat', toChatDetails(input, t), stream ? 'text/event-stream' : 'application/json');
}
