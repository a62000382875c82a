import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, GatewayError, UpstreamRequest } from '@waygate/core';
import { isObj, num } from './json.js';
import type { Json } from './json.js';

/**
 * Requests to Replicate's HTTP API: a chat completion as a prediction's `input`, created on the
 * model's own endpoint (`owner/name`), on a version (`owner/name:version`, or a bare version id) or
 * on a deployment (`deployments/owner/name`).
 */

export const invalid = (message: string, param?: string): GatewayError => badRequest(ErrorCode.INVALID_REQUEST, message, param);

/** One path segment of a model or deployment name: what Replicate allows, never `.` or `..`. */
const SEGMENT = '[A-Za-z0-9][A-Za-z0-9_.-]*';
const MODEL = new RegExp(`^(${SEGMENT})/(${SEGMENT})(?::([A-Za-z0-9]+))?$`);
const DEPLOYMENT = new RegExp(`^deployments/(${SEGMENT})/(${SEGMENT})$`);
const VERSION_ID = /^[0-9a-f]{64}$/;

/** Where a model's predictions are created, and the version to name in the body (if any). */
export interface PredictionTarget {
  path: string;
  version?: string;
}

/** The request's `model` → the endpoint that creates its predictions. */
export function predictionTarget(model: unknown): PredictionTarget {
  if (typeof model !== 'string' || model === '') throw invalid('replicate: `model` must name a model, as owner/name or owner/name:version', 'model');
  if (VERSION_ID.test(model)) return { path: '/predictions', version: model };
  const d = DEPLOYMENT.exec(model);
  if (d) return { path: `/deployments/${d[1]}/${d[2]}/predictions` };
  const m = MODEL.exec(model);
  if (!m)
    throw invalid(`replicate: model ${JSON.stringify(model.slice(0, 200))} is not owner/name, owner/name:version or deployments/owner/name`, 'model');
  return m[3] ? { path: '/predictions', version: m[3] } : { path: `/models/${m[1]}/${m[2]}/predictions` };
}

/** The text of an OpenAI message's content; Replicate's language models take text only. */
function textOf(content: unknown, where: string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(`${where}: content must be a string or an array of parts`, where);
  return content
    .map((part, j) => {
      if (isObj(part) && part.type === 'text') return String(part.text ?? '');
      const type = isObj(part) ? JSON.stringify(part.type) : 'a non-object';
      throw invalid(`${where}[${j}]: replicate maps text parts only, not ${type} (set the model's own input fields in \`input\`)`, `${where}[${j}]`);
    })
    .join('');
}

const SPEAKERS: Record<string, string> = { user: 'User', assistant: 'Assistant', tool: 'Tool' };

/**
 * The conversation as one `prompt` and a `system_prompt`. A single user message is the prompt as it
 * is (what Replicate's examples send, and what each model's own prompt template wraps); a longer
 * conversation is rendered as a transcript, `User: …` / `Assistant: …` turns separated by blank lines,
 * ending with `Assistant:` for the model to continue. System (and developer) messages are joined into
 * `system_prompt`.
 */
export function renderConversation(messages: unknown): { prompt: string; system_prompt?: string } {
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('replicate: `messages` must be a non-empty array', 'messages');
  const system: string[] = [];
  const turns: Array<{ role: string; text: string }> = [];
  messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    if (!isObj(m)) throw invalid(`${where}: not a message`, where);
    const text = textOf(m.content, `${where}.content`);
    if (m.role === 'system' || m.role === 'developer') system.push(text);
    else if (typeof m.role === 'string' && SPEAKERS[m.role]) turns.push({ role: m.role, text });
    else throw invalid(`${where}: replicate does not map the role ${JSON.stringify(m.role)}`, `${where}.role`);
  });
  if (turns.length === 0) throw invalid('replicate: `messages` needs a user message', 'messages');
  let prompt: string;
  if (turns.length === 1 && turns[0]!.role === 'user') prompt = turns[0]!.text;
  else {
    prompt = turns.map((t) => `${SPEAKERS[t.role]}: ${t.text}`).join('\n\n');
    if (turns[turns.length - 1]!.role !== 'assistant') prompt += '\n\nAssistant:';
  }
  const out: { prompt: string; system_prompt?: string } = { prompt };
  if (system.length) out.system_prompt = system.join('\n\n');
  return out;
}

/** OpenAI's `stop` → Replicate's `stop_sequences`, the comma-separated string its language models take. */
function stopSequences(stop: unknown): string | undefined {
  if (stop === undefined || stop === null) return undefined;
  const list = typeof stop === 'string' ? [stop] : Array.isArray(stop) && stop.every((s) => typeof s === 'string') ? (stop as string[]) : undefined;
  if (!list) throw invalid('replicate: `stop` must be a string or an array of strings', 'stop');
  if (list.some((s) => s.includes(',')))
    throw invalid("replicate: a stop sequence cannot contain a comma (Replicate's stop_sequences is comma-separated)", 'stop');
  return list.length ? list.join(',') : undefined;
}

/** The requested token limit, `max_completion_tokens` first. */
export function maxTokensOf(body: Json | undefined): number | undefined {
  return num(body?.max_completion_tokens) ?? num(body?.max_tokens);
}

/** An OpenAI chat completion request → the prediction's `input`. Throws a 400 for what cannot be mapped. */
export function toReplicateInput(body: Json | undefined): Json {
  const b = body ?? {};
  if (Array.isArray(b.tools) && b.tools.length) throw invalid('replicate: tool calling is not mapped (Replicate models take a prompt)', 'tools');
  if (num(b.n) !== undefined && b.n !== 1) throw invalid('replicate: only n = 1 is supported', 'n');
  const input: Json = { ...renderConversation(b.messages) };
  const max = maxTokensOf(b);
  if (max !== undefined) {
    // Llama 3 and newer models name it max_tokens; Llama 2, Mistral and most others max_new_tokens.
    input.max_tokens = max;
    input.max_new_tokens = max;
  }
  for (const key of ['temperature', 'top_p', 'seed', 'presence_penalty', 'frequency_penalty'] as const) {
    const v = num(b[key]);
    if (v !== undefined) input[key] = v;
  }
  const stop = stopSequences(b.stop);
  if (stop !== undefined) input.stop_sequences = stop;
  // The model's own input fields (top_k, prompt_template, image...), over what was mapped.
  if (b.input !== undefined) {
    if (!isObj(b.input)) throw invalid("replicate: `input` must be an object of the model's input fields", 'input');
    Object.assign(input, b.input);
  }
  return input;
}

/** The headers of every call to Replicate: the target's key as a bearer token. */
export function headersFor(input: BuildInput, accept = 'application/json'): Record<string, string> {
  const headers: Record<string, string> = { accept };
  if (input.target.apiKey) headers.authorization = `Bearer ${input.target.apiKey}`;
  return headers;
}

/**
 * The request that creates the prediction. Not streamed: `Prefer: wait` (sync mode, `wait=<s>` when
 * the request has less than Replicate's 60 s to give). Streamed: `stream: true`, no wait (the answer
 * carries `urls.stream` at once).
 */
export function createPrediction(input: BuildInput, stream: boolean, budgetMs: number): UpstreamRequest {
  const where = predictionTarget(input.body?.model);
  const payload: Json = {};
  if (where.version) payload.version = where.version;
  payload.input = toReplicateInput(input.body);
  if (stream) payload.stream = true;
  const headers = headersFor(input);
  headers['content-type'] = 'application/json';
  if (!stream) headers.prefer = budgetMs >= 60_000 ? 'wait' : `wait=${Math.max(1, Math.floor(budgetMs / 1000))}`;
  return { url: `${baseOf(input)}${where.path}`, method: 'POST', headers, body: JSON.stringify(payload) };
}

/** The target's base URL, without a trailing slash. */
export const baseOf = (input: BuildInput): string => (input.target.baseURL ?? '').replace(/\/+$/, '');
