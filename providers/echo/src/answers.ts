import { createHash } from 'node:crypto';

/**
 * The echo provider's answers, pure functions of the request: the reply repeats the last user
 * message (prefixed "echo: "), usage counts whitespace-separated words, and embeddings are derived
 * from a SHA-256 of the input, so the same request always gets the same answer.
 */
export const ECHO_MODELS = ['echo-1'] as const;
const CREATED = 1_700_000_000;

type Json = Record<string, unknown>;

const words = (s: string) => (s.trim() === '' ? 0 : s.trim().split(/\s+/).length);

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p: unknown) => (p && typeof p === 'object' && typeof (p as Json).text === 'string' ? ((p as Json).text as string) : ''))
      .filter((s) => s !== '')
      .join(' ');
  }
  return '';
}

export class EchoInputError extends Error {}

/** The messages' texts: every one counts as prompt, the last user message is echoed. */
export function echoReply(body: Json): { reply: string; finish: string; prompt: number; completion: number; model: string } {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw new EchoInputError('messages must be a non-empty array');
  const texts = messages.map((m: unknown) => (m && typeof m === 'object' ? text((m as Json).content) : ''));
  const lastUser = [...messages].reverse().find((m: unknown) => m && typeof m === 'object' && (m as Json).role === 'user') as Json | undefined;
  let reply = `echo: ${lastUser ? text(lastUser.content) : ''}`;
  const max =
    typeof body.max_tokens === 'number' ? body.max_tokens : typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : undefined;
  let finish = 'stop';
  if (max !== undefined && max >= 0 && words(reply) > max) {
    reply = reply.split(/\s+/).slice(0, max).join(' ');
    finish = 'length';
  }
  return {
    reply,
    finish,
    prompt: texts.reduce((n, t) => n + words(t), 0),
    completion: words(reply),
    model: typeof body.model === 'string' ? body.model : 'echo-1',
  };
}

const idFor = (body: Json) => `chatcmpl-echo-${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 24)}`;

export function chatCompletion(body: Json): Json {
  const r = echoReply(body);
  return {
    id: idFor(body),
    object: 'chat.completion',
    created: CREATED,
    model: r.model,
    choices: [{ index: 0, message: { role: 'assistant', content: r.reply }, finish_reason: r.finish, logprobs: null }],
    usage: { prompt_tokens: r.prompt, completion_tokens: r.completion, total_tokens: r.prompt + r.completion },
  };
}

/** The same answer as SSE: a role chunk, one chunk per word, a finish chunk, a usage chunk, [DONE]. */
export function chatStream(body: Json): string {
  const r = echoReply(body);
  const finish = r.finish;
  const base = { id: idFor(body), object: 'chat.completion.chunk', created: CREATED, model: r.model };
  const chunk = (delta: Json, finish_reason: string | null) => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason }] })}\n\n`;
  const parts = r.reply.split(/(?<=\s)/);
  let out = chunk({ role: 'assistant', content: '' }, null);
  for (const p of parts) out += chunk({ content: p }, null);
  out += chunk({}, finish);
  out += `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: r.prompt, completion_tokens: r.completion, total_tokens: r.prompt + r.completion } })}\n\n`;
  return out + 'data: [DONE]\n\n';
}

export function embeddings(body: Json): Json {
  const input = body.input;
  const items = typeof input === 'string' ? [input] : Array.isArray(input) ? input : undefined;
  if (!items || items.length === 0 || !items.every((i) => typeof i === 'string'))
    throw new EchoInputError('input must be a string or a non-empty array of strings');
  const dims =
    typeof body.dimensions === 'number' && Number.isInteger(body.dimensions) && body.dimensions > 0 && body.dimensions <= 4096 ? body.dimensions : 8;
  const data = (items as string[]).map((s, index) => {
    const v: number[] = [];
    for (let i = 0; v.length < dims; i++) {
      const h = createHash('sha256').update(`${i}\u0000${s}`).digest();
      for (let j = 0; j + 1 < h.length && v.length < dims; j += 2) v.push(Math.round((h.readUInt16BE(j) / 65535) * 2000 - 1000) / 1000);
    }
    const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v;
    return { object: 'embedding', index, embedding };
  });
  const tokens = (items as string[]).reduce((n, s) => n + words(s), 0);
  return { object: 'list', data, model: typeof body.model === 'string' ? body.model : 'echo-1', usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

export function modelList(): Json {
  return { object: 'list', data: ECHO_MODELS.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'waygate-echo' })) };
}
