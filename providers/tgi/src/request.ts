import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, GatewayError, UpstreamRequest } from '@waygate/core';
import { contentText, isObj, num } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';

/**
 * Requests to TGI's native API: `POST /generate` (and `/generate_stream`) take one text, `inputs`,
 * and the sampling `parameters`. An OpenAI chat's messages are flattened into that text (see
 * `chatPrompt`); an OpenAI completion's `prompt` is the text as it is.
 */

/** Which OpenAI API a request came in on, and so the shape of its answer. */
export type TgiKind = 'chat' | 'completion';

export const invalid = (message: string, param?: string): GatewayError => badRequest(ErrorCode.INVALID_REQUEST, message, param);

/** The text of an OpenAI message's content: a string, or its text parts joined (TGI's `inputs` is text only). */
function textOf(content: unknown, where: string, provider: string): string {
  return contentText(content, where, (part) => `${provider} takes text parts only, not ${isObj(part) ? JSON.stringify(part.type) : 'a non-object'}`);
}

const SPEAKERS: Readonly<Record<string, string>> = { user: 'User', assistant: 'Assistant', tool: 'Tool' };

/**
 * An OpenAI conversation as the one text TGI's `/generate` takes (no chat template is applied there):
 * a lone user message is sent as it is; anything longer is a transcript: the system (and developer)
 * messages first, as a paragraph, then `User: …`, `Assistant: …` and `Tool: …` turns separated by blank
 * lines, ending with `Assistant:` for the model to continue when the last turn is not the assistant's.
 * A model that needs its own template takes the completions API, with the prompt already rendered.
 */
export function chatPrompt(messages: unknown, provider = 'tgi'): string {
  if (!Array.isArray(messages) || messages.length === 0) throw invalid(`${provider}: \`messages\` must be a non-empty array`, 'messages');
  const system: string[] = [];
  const turns: Array<{ role: string; text: string }> = [];
  messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    if (!isObj(m)) throw invalid(`${where}: not a message`, where);
    const text = textOf(m.content, `${where}.content`, provider);
    if (m.role === 'system' || m.role === 'developer') system.push(text);
    else if (typeof m.role === 'string' && SPEAKERS[m.role]) turns.push({ role: m.role, text });
    else throw invalid(`${where}: ${provider} does not map the role ${JSON.stringify(m.role)}`, `${where}.role`);
  });
  if (turns.length === 0) throw invalid(`${provider}: \`messages\` needs a user message`, 'messages');
  if (system.length === 0 && turns.length === 1 && turns[0]!.role === 'user') return turns[0]!.text;
  const parts = system.length ? [system.join('\n\n')] : [];
  for (const t of turns) parts.push(`${SPEAKERS[t.role]}: ${t.text}`);
  let prompt = parts.join('\n\n');
  if (turns[turns.length - 1]!.role !== 'assistant') prompt += '\n\nAssistant:';
  return prompt;
}

/** An OpenAI completion's `prompt`: one string (or an array of one). TGI has no suffix (fill in the middle). */
export function completionPrompt(body: Json, provider = 'tgi'): string {
  const p = body.prompt;
  const prompt = typeof p === 'string' ? p : Array.isArray(p) && p.length === 1 && typeof p[0] === 'string' ? p[0] : undefined;
  if (prompt === undefined) throw invalid(`${provider}: \`prompt\` must be a string (one prompt per request)`, 'prompt');
  if (typeof body.suffix === 'string' && body.suffix !== '') throw invalid(`${provider}: \`suffix\` is not supported by /generate`, 'suffix');
  if (body.echo === true) throw invalid(`${provider}: \`echo\` is not supported`, 'echo');
  return prompt;
}

/** OpenAI's `stop` as TGI's `stop` list. */
function stopList(stop: unknown, provider: string): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return stop.length ? (stop as string[]) : undefined;
  throw invalid(`${provider}: \`stop\` must be a string or an array of strings`, 'stop');
}

/**
 * The OpenAI sampling fields as TGI's `parameters`: `max_completion_tokens` (or `max_tokens`) →
 * `max_new_tokens`; `temperature` (0 is greedy: `do_sample: false`; TGI refuses a temperature of 0);
 * `top_p` when strictly between 0 and 1 (TGI's range; 1 is no nucleus filter); `stop`; `seed`;
 * `frequency_penalty`; a `json_schema` response format → `grammar`. `details: true` is always asked
 * for: the finish reason and the token counts are there. The request's own `parameters` object (TGI's
 * fields: `top_k`, `repetition_penalty`, `truncate`, `adapter_id`, ...) is applied over what was mapped.
 */
export function generateParameters(body: Json, provider = 'tgi'): Json {
  if (Array.isArray(body.tools) && body.tools.length) throw invalid(`${provider}: tool calling is not mapped to /generate`, 'tools');
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw invalid(`${provider}: only n = 1 is supported`, 'n');
  const out: Json = {};
  const max = num(body.max_completion_tokens) ?? num(body.max_tokens);
  if (max !== undefined) out.max_new_tokens = max;
  const temperature = num(body.temperature);
  if (temperature !== undefined) {
    if (temperature > 0) out.temperature = temperature;
    else out.do_sample = false;
  }
  const topP = num(body.top_p);
  if (topP !== undefined && topP > 0 && topP < 1) out.top_p = topP;
  const stop = stopList(body.stop, provider);
  if (stop) out.stop = stop;
  const seed = num(body.seed);
  if (seed !== undefined) out.seed = seed;
  const frequency = num(body.frequency_penalty);
  if (frequency !== undefined) out.frequency_penalty = frequency;
  const rf = body.response_format;
  if (isObj(rf) && rf.type === 'json_schema' && isObj(rf.json_schema) && isObj(rf.json_schema.schema)) {
    out.grammar = { type: 'json', value: rf.json_schema.schema };
  }
  out.details = true;
  if (body.parameters !== undefined) {
    if (!isObj(body.parameters)) throw invalid(`${provider}: \`parameters\` must be an object of TGI's generation parameters`, 'parameters');
    Object.assign(out, body.parameters);
  }
  return out;
}

/** The body of `POST /generate`: `{inputs, parameters}`, from an OpenAI chat or completion request. */
export function generateBody(body: Json | undefined, kind: TgiKind, provider = 'tgi'): { inputs: string; parameters: Json } {
  const b = body ?? {};
  const inputs = kind === 'chat' ? chatPrompt(b.messages, provider) : completionPrompt(b, provider);
  return { inputs, parameters: generateParameters(b, provider) };
}

/** The headers of a call to TGI: JSON, SSE when streamed, the target's key as a bearer token (TGI's `--api-key`, a Hugging Face token). */
export function tgiHeaders(input: BuildInput, stream: boolean): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
  if (input.target.apiKey) headers.authorization = `Bearer ${input.target.apiKey}`;
  return headers;
}

/**
 * The upstream request: `POST {base}/generate`, or `{base}/generate_stream` when the client streams.
 * `base` is the server's root (the custom host); `extra` adds parameters of a service built on TGI.
 */
export function generateRequest(input: BuildInput, kind: TgiKind, base: string, provider = 'tgi', extra?: Json): UpstreamRequest {
  const stream = input.body?.stream === true;
  const payload = generateBody(input.body, kind, provider);
  if (extra) payload.parameters = { ...extra, ...payload.parameters };
  return {
    url: `${base.replace(/\/+$/, '')}${stream ? '/generate_stream' : '/generate'}`,
    method: 'POST',
    headers: tgiHeaders(input, stream),
    body: JSON.stringify(payload),
  };
}
