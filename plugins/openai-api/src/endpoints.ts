import { DONE, ErrorCode, GatewayError, openAIUsage } from '@waygate/core';
import type { EndpointCodec, EndpointDefinition, SSEEvent, StreamFormat } from '@waygate/core';
import type { Json } from '@waygate/provider-kit';

/**
 * OpenAI's chat and completion streams: `data: {json}` chunks ending with `data: [DONE]`. The first
 * chat chunk carries only the role: it is a preamble, not content.
 */
export const OPENAI_STREAM: StreamFormat = {
  isContent: isOpenAIContentEvent,
  isEnd: (ev) => ev.data === DONE,
  errorOf: openAIErrorEvent,
  errorEvent: (err) => ({ data: JSON.stringify(err.toBody()) }),
  usage(ev) {
    // Cheap test first (one scan of the event): only the (usually last) chunk whose "usage" is an
    // object, as `"usage":{` or `"usage": {`, is parsed.
    const data = ev.data;
    for (let at = data.indexOf('"usage":'); at !== -1; at = data.indexOf('"usage":', at + 8)) {
      if (data.charCodeAt(at + 8) !== 123 && (data.charCodeAt(at + 8) !== 32 || data.charCodeAt(at + 9) !== 123)) continue;
      try {
        return openAIUsage(JSON.parse(data));
      } catch {
        return undefined;
      }
    }
    return undefined;
  },
};

/**
 * Whether an event carries something the client must see: anything but OpenAI's opening chat chunk,
 * whose every choice has a delta with only a role and empty content. Only the first few events of a
 * stream are tested, so the JSON parse here is not per chunk.
 */
function isOpenAIContentEvent(ev: SSEEvent): boolean {
  if (ev.data.charCodeAt(0) !== 123 || ev.data.indexOf('"role"') === -1) return true;
  let chunk: { choices?: Array<{ delta?: Record<string, unknown>; finish_reason?: unknown }>; usage?: unknown };
  try {
    chunk = JSON.parse(ev.data);
  } catch {
    return true;
  }
  if (!Array.isArray(chunk.choices) || chunk.choices.length === 0 || chunk.usage) return true;
  return !chunk.choices.every((c) => {
    if (c.finish_reason) return false;
    const d = c.delta;
    if (!d) return true;
    for (const k in d) {
      if (k === 'role') continue;
      const v = d[k];
      if (v !== '' && v !== null && v !== undefined) return false;
    }
    return true;
  });
}

/** An event that is an error object (`{"error": ...}`, or `event: error`). */
function openAIErrorEvent(ev: SSEEvent, provider: string): GatewayError | undefined {
  if (ev.event !== 'error' && !ev.data.startsWith('{"error"')) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(ev.data);
  } catch {
    body = ev.data;
  }
  const inner = (body as { error?: { message?: string } })?.error;
  const message = typeof inner?.message === 'string' ? inner.message : 'error event';
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, `${provider} sent an error event: ${message}`, {
    retryable: true,
    upstream: { status: 200, body },
  });
}

/** The JSON objects of a stream's events (`[DONE]` and anything that is not a JSON object skipped). */
function* jsonChunks(events: readonly SSEEvent[]): Generator<Json> {
  for (const ev of events) {
    if (ev.data === DONE || ev.data.charCodeAt(0) !== 123) continue;
    try {
      yield JSON.parse(ev.data) as Json;
    } catch {
      /* not JSON: skipped */
    }
  }
}

/**
 * OpenAI chat completions in both forms: a `chat.completion` as the `chat.completion.chunk` stream
 * OpenAI would have sent (role, content, tool calls, finish, usage, `[DONE]`), and back.
 */
export const OPENAI_CHAT_CODEC: EndpointCodec = {
  toEvents(json) {
    const c = json as Json;
    const head = { id: c.id ?? '', object: 'chat.completion.chunk', created: c.created ?? 0, model: c.model ?? '' };
    const ev = (choices: unknown[], extra?: Json): SSEEvent => ({ data: JSON.stringify({ ...head, choices, ...extra }) });
    const out: SSEEvent[] = [];
    for (const choice of (c.choices ?? []) as Json[]) {
      const index = choice.index ?? 0;
      const msg = (choice.message ?? {}) as Json;
      out.push(ev([{ index, delta: { role: msg.role ?? 'assistant', content: '' }, logprobs: null, finish_reason: null }]));
      const delta: Json = {};
      for (const k in msg) {
        if (k === 'role' || k === 'tool_calls') continue;
        if (msg[k] !== null && msg[k] !== undefined) delta[k] = msg[k];
      }
      if (Object.keys(delta).length) out.push(ev([{ index, delta, logprobs: choice.logprobs ?? null, finish_reason: null }]));
      const calls = msg.tool_calls as Json[] | undefined;
      if (calls?.length) {
        const tool_calls = calls.map((t, i) => ({ index: i, id: t.id, type: t.type ?? 'function', function: t.function }));
        out.push(ev([{ index, delta: { tool_calls }, logprobs: null, finish_reason: null }]));
      }
      out.push(ev([{ index, delta: {}, logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }]));
    }
    if (c.usage) out.push(ev([], { usage: c.usage }));
    out.push({ data: DONE });
    return out;
  },
  fromEvents(events) {
    let head: Json | undefined;
    let usage: unknown;
    const choices = new Map<number, { message: Json; finish_reason: unknown; logprobs: unknown; calls: Json[] }>();
    for (const chunk of jsonChunks(events)) {
      if (chunk.error) continue;
      head ??= chunk;
      if (chunk.usage) usage = chunk.usage;
      for (const ch of (chunk.choices ?? []) as Json[]) {
        const index = ch.index ?? 0;
        let c = choices.get(index);
        if (!c) choices.set(index, (c = { message: { role: 'assistant', content: null }, finish_reason: null, logprobs: null, calls: [] }));
        const d = (ch.delta ?? {}) as Json;
        for (const k in d) {
          const v = d[k];
          if (k === 'role') c.message.role = v;
          else if (k === 'tool_calls') {
            for (const t of v as Json[]) {
              const i = t.index ?? 0;
              const call = (c.calls[i] ??= { id: t.id, type: t.type ?? 'function', function: { name: '', arguments: '' } });
              if (t.id) call.id = t.id;
              if (t.function?.name) call.function.name += t.function.name;
              if (t.function?.arguments) call.function.arguments += t.function.arguments;
            }
          } else if (typeof v === 'string') c.message[k] = (typeof c.message[k] === 'string' ? c.message[k] : '') + v;
          else if (v !== null && v !== undefined) c.message[k] = v;
        }
        if (ch.finish_reason) c.finish_reason = ch.finish_reason;
        if (ch.logprobs) c.logprobs = ch.logprobs;
      }
    }
    const out: Json = {
      id: head?.id ?? '',
      object: 'chat.completion',
      created: head?.created ?? 0,
      model: head?.model ?? '',
      choices: [...choices.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([index, c]) => {
          const message = { ...c.message };
          if (c.calls.length) message.tool_calls = c.calls.filter(Boolean);
          if (!('refusal' in message)) message.refusal = null;
          return { index, message, logprobs: c.logprobs, finish_reason: c.finish_reason };
        }),
    };
    if (head?.system_fingerprint !== undefined) out.system_fingerprint = head.system_fingerprint;
    if (head?.service_tier !== undefined) out.service_tier = head.service_tier;
    if (usage) out.usage = usage;
    return out;
  },
};

/** OpenAI's legacy completions in both forms (`text_completion` objects in both). */
export const OPENAI_COMPLETIONS_CODEC: EndpointCodec = {
  toEvents(json) {
    const c = json as Json;
    const out: SSEEvent[] = [];
    for (const choice of (c.choices ?? []) as Json[]) {
      out.push({ data: JSON.stringify({ ...c, choices: [{ ...choice }], usage: undefined }) });
    }
    if (c.usage) out.push({ data: JSON.stringify({ ...c, choices: [], usage: c.usage }) });
    out.push({ data: DONE });
    return out;
  },
  fromEvents(events) {
    let head: Json | undefined;
    let usage: unknown;
    const texts = new Map<number, { text: string; finish_reason: unknown; logprobs: unknown }>();
    for (const chunk of jsonChunks(events)) {
      head ??= chunk;
      if (chunk.usage) usage = chunk.usage;
      for (const ch of (chunk.choices ?? []) as Json[]) {
        const i = ch.index ?? 0;
        const t = texts.get(i) ?? { text: '', finish_reason: null, logprobs: null };
        t.text += ch.text ?? '';
        if (ch.finish_reason) t.finish_reason = ch.finish_reason;
        if (ch.logprobs) t.logprobs = ch.logprobs;
        texts.set(i, t);
      }
    }
    const out: Json = {
      id: head?.id ?? '',
      object: 'text_completion',
      created: head?.created ?? 0,
      model: head?.model ?? '',
      choices: [...texts.entries()].sort((a, b) => a[0] - b[0]).map(([index, t]) => ({ index, ...t })),
    };
    if (usage) out.usage = usage;
    return out;
  },
};

/** OpenAI's API, the canonical format inside the kernel: what this plugin registers. */
export const OPENAI_ENDPOINTS: readonly EndpointDefinition[] = Object.freeze([
  { id: 'chat.completions', routes: [{ method: 'POST', path: '/v1/chat/completions' }], stream: OPENAI_STREAM, codec: OPENAI_CHAT_CODEC },
  { id: 'completions', routes: [{ method: 'POST', path: '/v1/completions' }], stream: OPENAI_STREAM, codec: OPENAI_COMPLETIONS_CODEC },
  { id: 'embeddings', routes: [{ method: 'POST', path: '/v1/embeddings' }] },
  { id: 'models', routes: [{ method: 'GET', path: '/v1/models' }] },
] satisfies EndpointDefinition[]);
