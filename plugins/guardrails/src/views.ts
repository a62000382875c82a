import type { SSEEvent } from '@waygate/core';

/**
 * The text guardrail checks look at, per endpoint, and the way back: where a mutator's text is written
 * into the request or the answer. Every endpoint-specific detail of the guardrails lives here.
 *
 * | endpoint                    | request text                          | answer text                                |
 * |-----------------------------|---------------------------------------|--------------------------------------------|
 * | `chat.completions`          | the last `user` message's content     | `choices[0].message.content`               |
 * | `messages` (Anthropic)      | the last `user` message's content     | the answer's `text` blocks                 |
 * | `messages.count_tokens`     | the last `user` message's content     | (none)                                     |
 * | `completions`               | `prompt`                              | `choices[0].text`                          |
 * | `embeddings`                | `input`                               | (none)                                     |
 *
 * Content given as parts (`[{type: 'text', text}, {type: 'image_url', ...}]`) is read as its text
 * parts joined by newlines; text written back goes into the first text part and the other text parts
 * are dropped (images and other parts stay). A batch (`prompt` or `input` as an array of several
 * strings) is read joined by newlines, but a single text cannot be written back into several prompts:
 * a mutator must return `transformedJson` for those.
 */
export interface TextView {
  read(json: unknown): string;
  /** A copy of `json` with `text` written in place of what `read` returns. Throws when there is no place for it. */
  write(json: unknown, text: string): Record<string, unknown>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Text of a message content: a string, or the text parts of an array joined by newlines. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  let first = true;
  for (const part of content) {
    if (isObject(part) && part.type === 'text' && typeof part.text === 'string') {
      out += first ? part.text : `\n${part.text}`;
      first = false;
    }
  }
  return out;
}

/** The content with `text` in place of its text: a string stays a string; in parts, the first text part gets it all. */
function writeContent(content: unknown, text: string): unknown {
  if (!Array.isArray(content)) return text;
  const out: unknown[] = [];
  let written = false;
  for (const part of content) {
    if (isObject(part) && part.type === 'text') {
      if (!written) out.push({ ...part, text });
      written = true;
    } else out.push(part);
  }
  if (!written) out.push({ type: 'text', text });
  return out;
}

function lastUserIndex(messages: unknown): number {
  if (!Array.isArray(messages)) return -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (isObject(m) && m.role === 'user') return i;
  }
  return -1;
}

/** Chat completions and Anthropic messages: the last user message. */
const LAST_USER_MESSAGE: TextView = {
  read(json) {
    if (!isObject(json)) return '';
    const i = lastUserIndex(json.messages);
    return i === -1 ? '' : contentText((json.messages as Json[])[i]!.content);
  },
  write(json, text) {
    if (!isObject(json)) throw new Error('the request has no JSON body to write the text into');
    const i = lastUserIndex(json.messages);
    if (i === -1) throw new Error('the request has no user message to write the text into');
    const messages = (json.messages as Json[]).slice();
    messages[i] = { ...messages[i], content: writeContent(messages[i]!.content, text) };
    return { ...json, messages };
  },
};

/** A string field that may also be a batch (array of strings): `prompt`, `input`. */
function batchField(field: string): TextView {
  return {
    read(json) {
      if (!isObject(json)) return '';
      const v = json[field];
      if (typeof v === 'string') return v;
      if (Array.isArray(v)) return v.filter((s) => typeof s === 'string').join('\n');
      return '';
    },
    write(json, text) {
      if (!isObject(json)) throw new Error('the request has no JSON body to write the text into');
      const v = json[field];
      if (typeof v === 'string' || v === undefined) return { ...json, [field]: text };
      if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return { ...json, [field]: [text] };
      throw new Error(
        `"${field}" holds ${Array.isArray(v) ? `${v.length} entries` : 'no text'}; a single text cannot be written back into it (return transformedJson instead)`,
      );
    },
  };
}

const CHAT_ANSWER: TextView = {
  read(json) {
    if (!isObject(json) || !Array.isArray(json.choices)) return '';
    const choice = json.choices[0];
    return isObject(choice) && isObject(choice.message) ? contentText(choice.message.content) : '';
  },
  write(json, text) {
    if (!isObject(json) || !Array.isArray(json.choices) || !isObject(json.choices[0])) throw new Error('the answer has no choice to write the text into');
    const choices = json.choices.slice();
    const c0 = choices[0] as Json;
    const message = isObject(c0.message) ? c0.message : { role: 'assistant' };
    choices[0] = { ...c0, message: { ...message, content: Array.isArray(message.content) ? writeContent(message.content, text) : text } };
    return { ...json, choices };
  },
};

const COMPLETION_ANSWER: TextView = {
  read(json) {
    if (!isObject(json) || !Array.isArray(json.choices)) return '';
    const choice = json.choices[0];
    return isObject(choice) && typeof choice.text === 'string' ? choice.text : '';
  },
  write(json, text) {
    if (!isObject(json) || !Array.isArray(json.choices) || !isObject(json.choices[0])) throw new Error('the answer has no choice to write the text into');
    const choices = json.choices.slice();
    choices[0] = { ...(choices[0] as Json), text };
    return { ...json, choices };
  },
};

const MESSAGES_ANSWER: TextView = {
  read(json) {
    return isObject(json) ? contentText(json.content) : '';
  },
  write(json, text) {
    if (!isObject(json)) throw new Error('the answer has no JSON body to write the text into');
    return { ...json, content: writeContent(Array.isArray(json.content) ? json.content : [], text) };
  },
};

const REQUEST_VIEWS: Record<string, TextView> = {
  'chat.completions': LAST_USER_MESSAGE,
  messages: LAST_USER_MESSAGE,
  'messages.count_tokens': LAST_USER_MESSAGE,
  completions: batchField('prompt'),
  embeddings: batchField('input'),
};

const RESPONSE_VIEWS: Record<string, TextView> = {
  'chat.completions': CHAT_ANSWER,
  completions: COMPLETION_ANSWER,
  messages: MESSAGES_ANSWER,
};

/** How the request's text is read and written on this endpoint (undefined: the endpoint has no request text). */
export function requestView(endpoint: string): TextView | undefined {
  return REQUEST_VIEWS[endpoint];
}

/** How the answer's text is read and written on this endpoint (undefined: output guardrails do not apply). */
export function responseView(endpoint: string): TextView | undefined {
  return RESPONSE_VIEWS[endpoint];
}

/** Reads the text each stream event adds (undefined: none). One per stream: it may keep state. */
export type StreamTextReader = (ev: SSEEvent) => string | undefined;

/** A reader of the streamed answer's text for this endpoint, or undefined when its streams are not understood. */
export function streamTextReader(endpoint: string): StreamTextReader | undefined {
  if (endpoint === 'chat.completions') return openAIDelta('"content"', (choice) => (isObject(choice.delta) ? choice.delta.content : undefined));
  if (endpoint === 'completions') return openAIDelta('"text"', (choice) => choice.text);
  if (endpoint === 'messages') return anthropicDeltas();
  return undefined;
}

/** OpenAI chunks: the first choice's new text. Events without the field's name are not parsed. */
function openAIDelta(marker: string, pick: (choice: Json) => unknown): StreamTextReader {
  return (ev) => {
    const data = ev.data;
    if (data.charCodeAt(0) !== 123 || data.indexOf(marker) === -1) return undefined;
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return undefined;
    }
    if (!isObject(chunk) || !Array.isArray(chunk.choices)) return undefined;
    for (const choice of chunk.choices) {
      if (!isObject(choice) || (choice.index ?? 0) !== 0) continue;
      const text = pick(choice);
      return typeof text === 'string' && text.length > 0 ? text : undefined;
    }
    return undefined;
  };
}

/** Anthropic's `content_block_delta` events with `text_delta`; text blocks after the first are joined by a newline, as `read` joins them. */
function anthropicDeltas(): StreamTextReader {
  let lastBlock: number | undefined;
  return (ev) => {
    if (ev.event !== undefined ? ev.event !== 'content_block_delta' : ev.data.indexOf('"content_block_delta"') === -1) return undefined;
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      return undefined;
    }
    if (!isObject(data) || !isObject(data.delta) || data.delta.type !== 'text_delta' || typeof data.delta.text !== 'string') return undefined;
    const index = typeof data.index === 'number' ? data.index : 0;
    const sep = lastBlock !== undefined && lastBlock !== index ? '\n' : '';
    lastBlock = index;
    return sep + data.delta.text;
  };
}

/**
 * The event that carries `hook_results` at the end of a stream. Portkey's shape: for Anthropic-style
 * streams (named events) `event: hook_results`; for OpenAI's, a `data:` chunk, here with an empty
 * `choices` so that OpenAI SDKs iterating the stream see an ordinary (empty) chunk.
 */
export function hookResultsEvent(endpoint: string, hookResults: unknown, namedEvents: boolean): SSEEvent {
  if (endpoint === 'messages' || namedEvents) return { event: 'hook_results', data: JSON.stringify({ hook_results: hookResults }) };
  return { data: JSON.stringify({ choices: [], hook_results: hookResults }) };
}

/** Whether an event is a `hook_results` event (one a cache replays from an earlier answer, say). */
export function isHookResultsEvent(ev: SSEEvent): boolean {
  return ev.event === 'hook_results' || ev.data.startsWith('{"choices":[],"hook_results":');
}
