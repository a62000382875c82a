import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, GatewayError, UpstreamRequest } from '@waygate/core';
import { contentText, isObj, num } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';

/**
 * Requests to AI21 Studio (`https://api.ai21.com/studio/v1`), with `Authorization: Bearer <key>`:
 * Jamba chat as `POST {base}/chat/completions` (OpenAI's shape, narrower), Jurassic-2 completions as
 * `POST {base}/{model}/complete`, embeddings as `POST {base}/embed`.
 */

export function invalid(message: string, param?: string): GatewayError {
  return badRequest(ErrorCode.INVALID_REQUEST, message, param);
}

function headers(input: BuildInput, stream = false): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
  if (input.target.apiKey) h['authorization'] = `Bearer ${input.target.apiKey}`;
  return h;
}

/** Jamba takes a message's content as a string: text parts are joined, any other part is a 400. */
function textOf(content: unknown, where: string): string {
  return contentText(content, where, (p) => `AI21's Jamba takes text only, not ${JSON.stringify(isObj(p) ? p.type : p)} parts`);
}

function toMessage(m: unknown, i: number): Json {
  const where = `messages[${i}]`;
  if (!isObj(m)) throw invalid(`${where}: not a message`, where);
  const content = textOf(m.content, `${where}.content`);
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content };
    case 'user':
      return { role: 'user', content };
    case 'assistant': {
      const out: Json = { role: 'assistant', content };
      if (Array.isArray(m.tool_calls) && m.tool_calls.length) {
        out.tool_calls = m.tool_calls.map((c: unknown, k: number) => {
          if (!isObj(c) || !isObj(c.function) || typeof c.function.name !== 'string')
            throw invalid(`${where}.tool_calls[${k}]: not a function call`, where);
          const args = c.function.arguments;
          return {
            id: c.id,
            type: 'function',
            function: { name: c.function.name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
          };
        });
      }
      return out;
    }
    case 'tool':
      if (typeof m.tool_call_id !== 'string') throw invalid(`${where}: a tool message needs tool_call_id`, where);
      return { role: 'tool', tool_call_id: m.tool_call_id, content };
    default:
      throw invalid(`${where}: AI21 takes system, user, assistant and tool messages, not ${JSON.stringify(m.role)}`, where);
  }
}

/**
 * An OpenAI chat request → a Jamba chat body. Jamba's differences: content is a string; `n` is 1 to
 * 16, must be 1 when streaming and cannot go with `temperature: 0`; only function tools, and no
 * `tool_choice` (`none` sends no tools; forcing a call is a 400); JSON mode without a schema; its own
 * `documents` pass. Fields Jamba does not document are not sent.
 */
export function toJambaChat(body: Json): Json {
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages must be a non-empty array', 'messages');
  const out: Json = { model: body.model, messages: body.messages.map(toMessage) };

  const choice = body.tool_choice;
  if (choice !== undefined && choice !== null && choice !== 'auto' && choice !== 'none') {
    throw invalid("AI21's Jamba cannot be made to call a tool: tool_choice may be auto or none", 'tool_choice');
  }
  if (Array.isArray(body.tools) && body.tools.length && choice !== 'none') {
    out.tools = body.tools.map((t: unknown, i: number) => {
      if (!isObj(t) || t.type !== 'function' || !isObj(t.function)) throw invalid(`tools[${i}]: only function tools are supported`, `tools[${i}]`);
      const fn: Json = { name: t.function.name, parameters: t.function.parameters ?? { type: 'object', properties: {} } };
      if (t.function.description !== undefined) fn.description = t.function.description;
      return { type: 'function', function: fn };
    });
  }
  if (Array.isArray(body.documents)) out.documents = body.documents;

  const rf = body.response_format;
  if (isObj(rf)) {
    if (rf.type === 'json_object' || rf.type === 'text') out.response_format = { type: rf.type };
    else throw invalid(`AI21's JSON mode takes no schema: response_format must be text or json_object, not ${JSON.stringify(rf.type)}`, 'response_format');
  }

  const max = num(body.max_completion_tokens) ?? num(body.max_tokens);
  if (max !== undefined) out.max_tokens = max;
  const temperature = num(body.temperature);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = num(body.top_p);
  if (topP !== undefined) out.top_p = topP;
  if (typeof body.stop === 'string') out.stop = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length) out.stop = body.stop;

  const stream = body.stream === true;
  if (body.n !== undefined && body.n !== null) {
    if (!Number.isInteger(body.n) || body.n < 1 || body.n > 16) throw invalid('AI21 answers 1 to 16 choices: n must be an integer from 1 to 16', 'n');
    if (body.n > 1 && stream) throw invalid('AI21 streams one choice: n must be 1 with stream', 'n');
    if (body.n > 1 && temperature === 0) throw invalid('AI21 refuses n > 1 with temperature 0 (every choice would be the same)', 'n');
    out.n = body.n;
  }
  if (stream) out.stream = true;
  return out;
}

/** An OpenAI completions request → a Jurassic-2 complete body (camelCase; penalties as `{scale}`). */
export function toJ2Complete(body: Json): Json {
  let prompt = body.prompt;
  if (Array.isArray(prompt) && prompt.length === 1) prompt = prompt[0];
  if (typeof prompt !== 'string') throw invalid('Jurassic-2 completes one text prompt: prompt must be a string', 'prompt');
  for (const field of ['logprobs', 'echo', 'suffix', 'best_of'] as const) {
    const v = body[field];
    if (v !== undefined && v !== null && v !== false && v !== 0) throw invalid(`Jurassic-2's complete has no place for ${field}`, field);
  }
  if (body.stream === true) throw invalid("Jurassic-2's complete does not stream: send stream false", 'stream');
  const out: Json = { prompt };
  if (body.n !== undefined && body.n !== null) {
    if (!Number.isInteger(body.n) || body.n < 1 || body.n > 16) throw invalid('n must be an integer from 1 to 16', 'n');
    out.numResults = body.n;
  }
  const max = num(body.max_tokens);
  if (max !== undefined) out.maxTokens = max;
  const temperature = num(body.temperature);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = num(body.top_p);
  if (topP !== undefined) out.topP = topP;
  const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop : undefined;
  if (stop?.length) out.stopSequences = stop;
  const frequency = num(body.frequency_penalty);
  if (frequency !== undefined) out.frequencyPenalty = { scale: frequency };
  const presence = num(body.presence_penalty);
  if (presence !== undefined) out.presencePenalty = { scale: presence };
  return out;
}

/** The model as one path segment of `/{model}/complete` (`j2-ultra`). */
export function j2Model(model: unknown): string {
  if (typeof model !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(model))
    throw invalid('model must be a Jurassic-2 model name, e.g. "j2-ultra"', 'model');
  return model;
}

/** An OpenAI embeddings request → AI21's `{texts, type}` (`type` from the body: `segment`, the default, or `query`). */
export function toAI21Embed(body: Json): Json {
  const input = body.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input : undefined;
  if (!texts?.length || texts.some((t) => typeof t !== 'string'))
    throw invalid('AI21 embeds text: input must be a string or an array of strings', 'input');
  if (body.encoding_format !== undefined && body.encoding_format !== 'float' && body.encoding_format !== 'base64') {
    throw invalid('encoding_format must be "float" or "base64"', 'encoding_format');
  }
  const type = body.type ?? 'segment';
  if (type !== 'segment' && type !== 'query') throw invalid('type must be "segment" or "query"', 'type');
  return { texts, type };
}

export function buildChat(input: BuildInput): UpstreamRequest {
  const body = input.body ?? {};
  if (typeof body.model !== 'string' || !body.model) throw invalid('model is required, e.g. "jamba-mini"', 'model');
  const out = toJambaChat(body);
  return { url: `${input.target.baseURL}/chat/completions`, method: 'POST', headers: headers(input, out.stream === true), body: JSON.stringify(out) };
}

export function buildComplete(input: BuildInput): UpstreamRequest {
  const body = input.body ?? {};
  const model = j2Model(body.model);
  return { url: `${input.target.baseURL}/${model}/complete`, method: 'POST', headers: headers(input), body: JSON.stringify(toJ2Complete(body)) };
}

export function buildEmbed(input: BuildInput): UpstreamRequest {
  return { url: `${input.target.baseURL}/embed`, method: 'POST', headers: headers(input), body: JSON.stringify(toAI21Embed(input.body ?? {})) };
}
