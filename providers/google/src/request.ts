import { ErrorCode, badRequest } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj } from './json.js';
import { nestedDeeper, parseArguments } from '@waygate/provider-kit';
import type { Json } from './json.js';

/**
 * Requests to the Gemini API: an OpenAI chat.completions body translated to a GenerateContentRequest,
 * sent as `POST {base}/models/{model}:generateContent` (or `:streamGenerateContent?alt=sse`) with the
 * key in `x-goog-api-key`.
 */

export const GOOGLE_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

/** A model name as Gemini's path wants it: without a leading `models/`. */
export function modelPath(model: unknown): string {
  if (typeof model !== 'string' || !model.trim()) throw badRequest(ErrorCode.INVALID_REQUEST, 'model is required for google', 'model');
  const m = model.replace(/^models\//, '');
  return `models/${encodeURIComponent(m)}`;
}

/** An OpenAI `image_url` (or `file`) part as a Gemini part: data URLs → inlineData, http(s)/gs URLs → fileData. */
function mediaPart(url: unknown, mimeHint: unknown, param: string): Json {
  if (typeof url !== 'string' || !url) throw badRequest(ErrorCode.INVALID_REQUEST, 'image_url.url must be a non-empty string', param);
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (m) return { inlineData: { mimeType: m[1], data: m[2] } };
  if (/^(https?|gs):\/\//i.test(url)) {
    const mimeType = typeof mimeHint === 'string' && mimeHint ? mimeHint : guessMime(url);
    return { fileData: { mimeType, fileUri: url } };
  }
  throw badRequest(ErrorCode.INVALID_REQUEST, 'image_url.url must be a data: URL (base64) or an http(s) URL for google', param);
}

function guessMime(url: string): string {
  const ext = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase();
  const map: Record<string, string> = {
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    webp: 'image/webp',
    gif: 'image/gif',
    heic: 'image/heic',
    pdf: 'application/pdf',
    mp3: 'audio/mp3',
    wav: 'audio/wav',
    mp4: 'video/mp4',
  };
  return (ext && map[ext]) || 'image/jpeg';
}

/** OpenAI content (string or parts) → Gemini parts. */
function toParts(content: unknown, param: string): Json[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  if (!Array.isArray(content)) return [];
  const out: Json[] = [];
  content.forEach((part, i) => {
    if (!isObj(part)) return;
    const p = `${param}[${i}]`;
    if (part.type === 'text') out.push({ text: String(part.text ?? '') });
    else if (part.type === 'image_url') {
      const iu = part.image_url;
      out.push(mediaPart(isObj(iu) ? iu.url : iu, isObj(iu) ? (iu.mime_type ?? iu.format) : undefined, p));
    } else if (part.type === 'input_audio' && isObj(part.input_audio)) {
      out.push({ inlineData: { mimeType: `audio/${part.input_audio.format ?? 'wav'}`, data: String(part.input_audio.data ?? '') } });
    } else throw badRequest(ErrorCode.INVALID_REQUEST, `Content part type ${JSON.stringify(part.type)} is not supported by google`, p);
  });
  return out;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

/** Translates an OpenAI chat.completions request body to a Gemini GenerateContentRequest body. */
export function toGeminiRequest(body: Json): Json {
  const system: Json[] = [];
  const contents: Json[] = [];
  const callNames = new Map<string, string>();
  let toolTurn: Json | undefined;
  const msgs: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  msgs.forEach((raw, i) => {
    if (!isObj(raw)) return;
    const param = `messages[${i}].content`;
    const role = raw.role;
    if (role === 'system' || role === 'developer') {
      const t = textOf(raw.content);
      if (t) system.push({ text: t });
      return;
    }
    if (role === 'tool' || role === 'function') {
      const id = typeof raw.tool_call_id === 'string' ? raw.tool_call_id : undefined;
      const name = (id && callNames.get(id)) ?? (typeof raw.name === 'string' ? raw.name : undefined);
      if (!name)
        throw badRequest(ErrorCode.INVALID_REQUEST, `No earlier assistant tool call has the id ${JSON.stringify(id)}`, `messages[${i}].tool_call_id`);
      const text = textOf(raw.content);
      let content: unknown = text;
      try {
        // JSON nested past the limit stays text: as an object it would overflow the stack when serialized.
        const v = nestedDeeper(text) ? text : JSON.parse(text);
        if (typeof v === 'object' && v !== null) content = v;
      } catch {
        /* plain text */
      }
      const part = { functionResponse: { name, response: { content } } };
      if (toolTurn) toolTurn.parts.push(part);
      else contents.push((toolTurn = { role: 'user', parts: [part] }));
      return;
    }
    toolTurn = undefined;
    if (role === 'assistant') {
      const parts = toParts(raw.content, param);
      if (Array.isArray(raw.tool_calls)) {
        for (const call of raw.tool_calls) {
          if (!isObj(call)) continue;
          const fn = isObj(call.function) ? call.function : {};
          const name = String(fn.name ?? '');
          if (typeof call.id === 'string') callNames.set(call.id, name);
          const part: Json = { functionCall: { name, args: parseArguments(fn.arguments) } };
          // Gemini's thought signature, as this adapter (and Google's own OpenAI layer) hands it out.
          const sig = isObj(call.extra_content) && isObj(call.extra_content.google) ? call.extra_content.google.thought_signature : undefined;
          if (typeof sig === 'string' && sig) part.thoughtSignature = sig;
          parts.push(part);
        }
      }
      if (parts.length) contents.push({ role: 'model', parts });
      return;
    }
    contents.push({ role: 'user', parts: toParts(raw.content, param) });
  });

  const out: Json = { contents };
  if (system.length) out.systemInstruction = { parts: system };

  const tools: Json[] = [];
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    if (!isObj(t) || t.type !== 'function' || !isObj(t.function)) continue;
    const f = t.function;
    const decl: Json = { name: f.name };
    if (f.description) decl.description = f.description;
    if (f.parameters) decl.parameters = f.parameters;
    tools.push(decl);
  }
  if (tools.length) out.tools = [{ functionDeclarations: tools }];

  const tc = body.tool_choice;
  let fcc: Json | undefined;
  if (tc === 'none') fcc = { mode: 'NONE' };
  else if (tc === 'auto') fcc = { mode: 'AUTO' };
  else if (tc === 'required') fcc = { mode: 'ANY' };
  else if (isObj(tc) && isObj(tc.function) && typeof tc.function.name === 'string') fcc = { mode: 'ANY', allowedFunctionNames: [tc.function.name] };
  if (fcc && (tools.length || fcc.mode === 'NONE')) out.toolConfig = { functionCallingConfig: fcc };

  const gc: Json = {};
  if (body.stop !== undefined && body.stop !== null) gc.stopSequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === 'number') gc.maxOutputTokens = max;
  if (typeof body.temperature === 'number') gc.temperature = body.temperature;
  if (typeof body.top_p === 'number') gc.topP = body.top_p;
  if (typeof body.top_k === 'number') gc.topK = body.top_k;
  if (typeof body.n === 'number' && body.n !== 1) gc.candidateCount = body.n;
  if (typeof body.seed === 'number') gc.seed = body.seed;
  if (typeof body.presence_penalty === 'number') gc.presencePenalty = body.presence_penalty;
  if (typeof body.frequency_penalty === 'number') gc.frequencyPenalty = body.frequency_penalty;
  const rf = body.response_format;
  if (isObj(rf) && rf.type === 'json_object') gc.responseMimeType = 'application/json';
  else if (isObj(rf) && rf.type === 'json_schema') {
    gc.responseMimeType = 'application/json';
    if (isObj(rf.json_schema) && isObj(rf.json_schema.schema)) gc.responseJsonSchema = rf.json_schema.schema;
  }
  if (Object.keys(gc).length) out.generationConfig = gc;
  return out;
}

export function headers(input: BuildInput): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json' };
  if (input.target.apiKey) h['x-goog-api-key'] = input.target.apiKey;
  return h;
}

export function base(input: BuildInput): string {
  return (input.target.baseURL ?? GOOGLE_BASE_URL).replace(/\/+$/, '');
}

/** The upstream request for a chat completion. */
export function buildChat(input: BuildInput): UpstreamRequest {
  const body = input.body ?? {};
  const stream = body.stream === true;
  const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  return {
    url: `${base(input)}/${modelPath(body.model)}:${method}`,
    method: 'POST',
    headers: headers(input),
    body: JSON.stringify(toGeminiRequest(body)),
  };
}
