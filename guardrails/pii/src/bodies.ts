/**
 * Where the text is in a request or an answer body, in every format the gateway speaks: OpenAI
 * chat and completions, embeddings, Anthropic messages. `mapTexts` calls a function on every text
 * and returns the body with the results in place, copying only what changed (the body it was given
 * is never modified: it may be the client's parsed request, shared with the cache).
 */

type Json = Record<string, unknown>;
export type TextFn = (text: string) => string;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Maps an array, returning the same array when no element changed. */
function mapArray(arr: unknown[], fn: (v: unknown) => unknown): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < arr.length; i++) {
    const v = fn(arr[i]);
    if (v !== arr[i]) (out ??= arr.slice())[i] = v;
  }
  return out ?? arr;
}

/** An object with some keys mapped, the same object when nothing changed. */
function mapKeys(obj: Json, keys: readonly string[], fn: (v: unknown, key: string) => unknown): Json {
  let out: Json | undefined;
  for (const k of keys) {
    if (!(k in obj)) continue;
    const v = fn(obj[k], k);
    if (v !== obj[k]) (out ??= { ...obj })[k] = v;
  }
  return out ?? obj;
}

/**
 * How deep `deep` walks: the most `server.maxJsonDepth` allows, which bounds the bodies themselves;
 * only JSON inside a string (tool-call arguments) can be deeper, and is then mapped as text.
 */
const MAX_DEPTH = 1000;
const TOO_DEEP = new Error(`nested deeper than ${MAX_DEPTH}`);

/** Every string anywhere inside a JSON value (tool inputs, structured content). */
function deep(v: unknown, fn: TextFn, depth = 0): unknown {
  if (typeof v === 'string') return fn(v);
  if (Array.isArray(v)) return depth < MAX_DEPTH ? mapArray(v, (x) => deep(x, fn, depth + 1)) : tooDeep();
  if (isObject(v)) return depth < MAX_DEPTH ? mapKeys(v, Object.keys(v), (x) => deep(x, fn, depth + 1)) : tooDeep();
  return v;
}

function tooDeep(): never {
  throw TOO_DEEP;
}

/**
 * Tool-call arguments: a JSON string whose strings are mapped (it stays valid JSON), else (not JSON,
 * or nested too deep to walk without risking the stack) the string itself, as text.
 */
function jsonString(s: unknown, fn: TextFn): unknown {
  if (typeof s !== 'string') return s;
  let parsed: unknown;
  let mapped: unknown;
  try {
    parsed = JSON.parse(s);
    mapped = deep(parsed, fn);
  } catch (err) {
    if (err instanceof SyntaxError || err === TOO_DEEP) return fn(s);
    throw err;
  }
  return mapped === parsed ? s : JSON.stringify(mapped);
}

/** Content as a string, OpenAI parts or Anthropic blocks (text, tool use and tool results). */
function content(c: unknown, fn: TextFn): unknown {
  if (typeof c === 'string') return fn(c);
  if (!Array.isArray(c)) return c;
  return mapArray(c, (part) => {
    if (typeof part === 'string') return fn(part);
    if (!isObject(part)) return part;
    switch (part.type) {
      case 'text':
      case 'input_text':
      case 'output_text':
        return mapKeys(part, ['text'], (t) => (typeof t === 'string' ? fn(t) : t));
      case 'tool_use':
        return mapKeys(part, ['input'], (x) => deep(x, fn));
      case 'tool_result':
        return mapKeys(part, ['content'], (x) => content(x, fn));
      default:
        return part;
    }
  });
}

function toolCalls(calls: unknown, fn: TextFn): unknown {
  if (!Array.isArray(calls)) return calls;
  return mapArray(calls, (call) =>
    isObject(call) ? mapKeys(call, ['function'], (f) => (isObject(f) ? mapKeys(f, ['arguments'], (a) => jsonString(a, fn)) : f)) : call,
  );
}

/** A chat or Anthropic message: its content, tool calls and legacy function call. */
function message(m: unknown, fn: TextFn): unknown {
  if (!isObject(m)) return m;
  return mapKeys(m, ['content', 'tool_calls', 'function_call'], (v, k) =>
    k === 'content' ? content(v, fn) : k === 'tool_calls' ? toolCalls(v, fn) : isObject(v) ? mapKeys(v, ['arguments'], (a) => jsonString(a, fn)) : v,
  );
}

/** A prompt or embeddings input: a string, a list of strings (token arrays are left alone), or message-like items. */
function promptLike(v: unknown, fn: TextFn): unknown {
  if (typeof v === 'string') return fn(v);
  if (Array.isArray(v)) return mapArray(v, (x) => (typeof x === 'string' ? fn(x) : isObject(x) ? message(x, fn) : x));
  return v;
}

/** The request with every message, the system prompt, the prompt and the input mapped. */
export function mapRequestTexts(body: Json, fn: TextFn): Json {
  return mapKeys(body, ['messages', 'system', 'prompt', 'input'], (v, k) => {
    if (k === 'messages') return Array.isArray(v) ? mapArray(v, (m) => message(m, fn)) : v;
    if (k === 'system') return content(v, fn);
    return promptLike(v, fn);
  });
}

/** The answer with every choice (message or text) and every Anthropic content block mapped. */
export function mapResponseTexts(body: Json, fn: TextFn): Json {
  return mapKeys(body, ['choices', 'content'], (v, k) => {
    if (k === 'content') return content(v, fn);
    if (!Array.isArray(v)) return v;
    return mapArray(v, (choice) =>
      isObject(choice)
        ? mapKeys(choice, ['message', 'text'], (x, key) => (key === 'text' ? (typeof x === 'string' ? fn(x) : x) : message(x, fn)))
        : choice,
    );
  });
}
