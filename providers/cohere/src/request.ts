import { badRequest, ErrorCode, GatewayError } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';

/** Requests to Cohere's v2 API: an OpenAI chat completion as `POST {base}/chat`, with a bearer key. */

export function headersFor(input: BuildInput): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (input.target.apiKey) headers['authorization'] = `Bearer ${input.target.apiKey}`;
  return headers;
}

export function invalid(message: string, param?: string): GatewayError {
  return badRequest(ErrorCode.INVALID_REQUEST, message, param);
}

/** OpenAI message content (string or parts) → Cohere content (string or text / image_url parts). */
function toContent(content: unknown, where: string): string | Json[] | undefined {
  if (content === null || content === undefined) return undefined;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(`${where}: content must be a string or an array of parts`, where);
  return content.map((part, i) => {
    if (!isObj(part)) throw invalid(`${where}[${i}]: not a content part`, where);
    if (part.type === 'text') return { type: 'text', text: String(part.text ?? '') };
    if (part.type === 'image_url') {
      const url = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url;
      if (typeof url !== 'string') throw invalid(`${where}[${i}]: image_url needs a url`, where);
      const image_url: Json = { url };
      if (typeof part.image_url?.detail === 'string') image_url.detail = part.image_url.detail;
      return { type: 'image_url', image_url };
    }
    throw invalid(`${where}[${i}]: Cohere does not accept content parts of type ${JSON.stringify(part.type)}`, where);
  });
}

/** Text of an OpenAI content value, for roles where Cohere takes only text. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isObj(p) && p.type === 'text' ? String(p.text ?? '') : '')).join('');
  return '';
}

function toMessage(m: unknown, i: number): Json {
  const where = `messages[${i}]`;
  if (!isObj(m)) throw invalid(`${where}: not a message`, where);
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: textOf(m.content) };
    case 'user':
      return { role: 'user', content: toContent(m.content, `${where}.content`) ?? '' };
    case 'assistant': {
      const out: Json = { role: 'assistant' };
      const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
      if (calls.length) {
        out.tool_calls = calls.map((c: Json) => ({
          id: c.id,
          type: 'function',
          function: {
            name: c.function?.name,
            arguments: typeof c.function?.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function?.arguments ?? {}),
          },
        }));
        const plan = textOf(m.content);
        if (plan) out.tool_plan = plan;
      } else {
        const content = toContent(m.content, `${where}.content`);
        out.content = content ?? '';
      }
      return out;
    }
    case 'tool': {
      if (typeof m.tool_call_id !== 'string') throw invalid(`${where}: a tool message needs tool_call_id`, `${where}.tool_call_id`);
      return { role: 'tool', tool_call_id: m.tool_call_id, content: typeof m.content === 'string' ? m.content : textOf(m.content) };
    }
    default:
      throw invalid(`${where}: Cohere does not accept the role ${JSON.stringify(m.role)}`, `${where}.role`);
  }
}

/** An OpenAI chat completion request → Cohere's v2 `/chat` body. */
export function toCohereChat(body: Json): Json {
  if (!Array.isArray(body.messages)) throw invalid('messages must be an array', 'messages');
  if (typeof body.n === 'number' && body.n > 1) throw invalid('Cohere returns one choice: n must be 1', 'n');
  const out: Json = { model: body.model, messages: body.messages.map(toMessage) };
  if (body.stream === true) out.stream = true;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') out.max_tokens = maxTokens;
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.p = body.top_p;
  if (typeof body.top_k === 'number') out.k = body.top_k;
  if (typeof body.seed === 'number') out.seed = body.seed;
  if (typeof body.frequency_penalty === 'number') out.frequency_penalty = body.frequency_penalty;
  if (typeof body.presence_penalty === 'number') out.presence_penalty = body.presence_penalty;
  if (typeof body.stop === 'string') out.stop_sequences = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length) out.stop_sequences = body.stop;
  if (body.logprobs === true) out.logprobs = true;

  let tools: Json[] | undefined = Array.isArray(body.tools)
    ? body.tools.map((t: Json, i: number) => {
        if (!isObj(t) || t.type !== 'function' || !isObj(t.function)) throw invalid(`tools[${i}]: only function tools are supported`, `tools[${i}]`);
        const fn: Json = { name: t.function.name };
        if (t.function.description !== undefined) fn.description = t.function.description;
        fn.parameters = t.function.parameters ?? { type: 'object', properties: {} };
        return { type: 'function', function: fn };
      })
    : undefined;
  const choice = body.tool_choice;
  if (choice === 'required') out.tool_choice = 'REQUIRED';
  else if (choice === 'none') out.tool_choice = 'NONE';
  else if (isObj(choice) && choice.type === 'function') {
    // Cohere cannot name one tool: offer only that tool and require a call.
    const name = choice.function?.name;
    tools = tools?.filter((t) => t.function.name === name);
    if (!tools?.length) throw invalid(`tool_choice names ${JSON.stringify(name)}, which is not in tools`, 'tool_choice');
    out.tool_choice = 'REQUIRED';
  }
  if (tools?.length) out.tools = tools;

  const rf = body.response_format;
  if (isObj(rf)) {
    if (rf.type === 'json_object') out.response_format = { type: 'json_object' };
    else if (rf.type === 'json_schema') {
      const schema = rf.json_schema?.schema;
      out.response_format = isObj(schema) ? { type: 'json_object', json_schema: schema } : { type: 'json_object' };
    }
  }
  return out;
}

/** The upstream request for a chat completion. */
export function buildChat(input: BuildInput): UpstreamRequest {
  const body = toCohereChat(input.body ?? {});
  const headers = headersFor(input);
  if (body.stream) headers['accept'] = 'text/event-stream';
  return { url: `${input.target.baseURL}/chat`, method: 'POST', headers, body: JSON.stringify(body) };
}
