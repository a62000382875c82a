import { createHash } from 'node:crypto';
import { cacheNamespace, canonicalRequest, targetIdentity } from '@waygate/cache-engine';
import type { RequestContext, Target } from '@waygate/core';

/**
 * What the semantic cache compares and what must match exactly. Only the text of the last user
 * message (the prompt, for legacy completions) is compared by meaning; everything else in the
 * request (the earlier messages, the system prompt, every parameter) goes into the partition key,
 * which must match exactly. Requests whose answer depends on more than that text and a small
 * context are not eligible (see `semanticPrompt`).
 */

/** Limits on what an eligible request may carry besides the compared text. */
export interface EligibilityLimits {
  /** Most messages before the last user message (a system prompt counts as one). */
  maxContextMessages: number;
  /** Most characters of text in those earlier messages together. */
  maxContextChars: number;
  /** Most characters in the compared text itself. */
  maxPromptChars: number;
}

export type SemanticPrompt =
  | {
      eligible: true;
      /** The text that is embedded and compared. */
      text: string;
      /** The request without the compared text: what the partition key hashes. */
      rest: Record<string, unknown>;
    }
  | { eligible: false; reason: string };

/** Endpoints whose answers the semantic cache can serve. */
export const SEMANTIC_ENDPOINTS: ReadonlySet<string> = new Set(['chat.completions', 'completions', 'messages']);

/** Body keys that hold the compared prompt: a target whose override_params set one is not eligible. */
export const PROMPT_KEYS: readonly string[] = ['messages', 'prompt', 'system'];

type Json = Record<string, unknown>;

const no = (reason: string): SemanticPrompt => ({ eligible: false, reason });

/**
 * Decides whether a request is eligible for the semantic cache and, if so, splits it into the text
 * to compare and the rest. The rules (also in the README):
 *
 * - endpoint `chat.completions`, `messages` (Anthropic) or `completions`;
 * - chat and messages: the last message is the user's, and it is text only (a string, or only
 *   `text` parts: no image, audio, file or document, no tool result);
 * - at most `maxContextMessages` earlier messages (system prompt included) holding at most
 *   `maxContextChars` characters, all text: no tool calls, no tool results, no images;
 * - no `tools` or `functions` (a tool call's arguments come from the very words a paraphrase changes);
 * - one answer: `n` absent or 1 (and `best_of` absent or 1 for completions);
 * - completions: `prompt` is one string;
 * - the compared text is not empty and at most `maxPromptChars` characters.
 */
export function semanticPrompt(endpoint: string, body: Json | undefined, limits: EligibilityLimits): SemanticPrompt {
  if (!SEMANTIC_ENDPOINTS.has(endpoint)) return no(`the ${endpoint} endpoint is not served by the semantic cache`);
  if (!body) return no('the request has no body');
  if (body.n !== undefined && body.n !== null && body.n !== 1) return no('more than one answer asked for (n)');
  if (endpoint === 'completions') return completionPrompt(body, limits);
  if (nonEmpty(body.tools) || nonEmpty(body.functions)) return no('the request offers tools');
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return no('the request has no messages');
  const last = messages[messages.length - 1] as Json | null;
  if (!last || typeof last !== 'object' || last.role !== 'user') return no("the last message is not the user's");
  const text = textOf(last.content);
  if (text === undefined) return no('the last message is not text only');
  const checked = checkText(text, limits);
  if (checked) return no(checked);

  let contextMessages = messages.length - 1;
  let contextChars = 0;
  if (endpoint === 'messages' && body.system !== undefined && body.system !== null) {
    const system = textOf(body.system);
    if (system === undefined) return no('the system prompt is not text only');
    contextMessages++;
    contextChars += system.length;
  }
  if (contextMessages > limits.maxContextMessages) {
    return no(`more than ${limits.maxContextMessages} messages before the last one`);
  }
  for (let i = 0; i < messages.length - 1; i++) {
    const m = messages[i] as Json | null;
    if (!m || typeof m !== 'object') return no('a message is not an object');
    if (m.role === 'tool' || m.role === 'function') return no('the conversation holds tool results');
    if (nonEmpty(m.tool_calls) || (m.function_call !== undefined && m.function_call !== null)) return no('the conversation holds tool calls');
    const t = m.content === null && m.role === 'assistant' ? '' : textOf(m.content);
    if (t === undefined) return no('an earlier message is not text only');
    contextChars += t.length;
  }
  if (contextChars > limits.maxContextChars) return no(`more than ${limits.maxContextChars} characters of context`);

  // The partition sees the whole request but the compared text: the earlier messages as they are,
  // and the last message without its content (its role and any name still count).
  const { content: _compared, ...lastRest } = last;
  const rest: Json = { ...body, messages: [...messages.slice(0, -1), lastRest] };
  return { eligible: true, text, rest };
}

function completionPrompt(body: Json, limits: EligibilityLimits): SemanticPrompt {
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== 1) return no('more than one answer asked for (best_of)');
  let prompt = body.prompt;
  if (Array.isArray(prompt) && prompt.length === 1) prompt = prompt[0];
  if (typeof prompt !== 'string') return no('the prompt is not one string');
  const checked = checkText(prompt, limits);
  if (checked) return no(checked);
  const { prompt: _compared, ...rest } = body;
  return { eligible: true, text: prompt, rest };
}

function checkText(text: string, limits: EligibilityLimits): string | undefined {
  if (text.trim().length === 0) return 'the prompt is empty';
  if (text.length > limits.maxPromptChars) return `the prompt is longer than ${limits.maxPromptChars} characters`;
  return undefined;
}

/**
 * The text of a message's content: a string, or an array of only text parts (OpenAI's
 * `{type:"text",text}` and `refusal` parts, Anthropic's `{type:"text",text}` blocks) joined by new
 * lines. Undefined for anything else (images, audio, files, documents, tool blocks).
 */
export function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  let out = '';
  for (let i = 0; i < content.length; i++) {
    const part = content[i] as Json | null;
    if (!part || typeof part !== 'object') return undefined;
    let t: unknown;
    if (part.type === 'text') t = part.text;
    else if (part.type === 'refusal') t = part.refusal;
    else return undefined;
    if (typeof t !== 'string') return undefined;
    out += i === 0 ? t : '\n' + t;
  }
  return out;
}

function nonEmpty(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null;
}

/** Whether a target's override_params replace part of the compared prompt. */
export function overridesPrompt(target: Target): boolean {
  const o = target.node.override_params;
  if (!o) return false;
  for (const k of PROMPT_KEYS) if (o[k] !== undefined) return true;
  return false;
}

/**
 * The partition key (hex SHA-256): the endpoint, the cache namespace, the target's identity
 * (provider, base URL, model as sent, credentials), the embedder (vectors of two embedding models
 * are not comparable) and the request without its compared text, with the target's override_params
 * applied and the fields that never change an answer left out (core's KEY_IGNORED_FIELDS: `stream`,
 * `stream_options`, `user`, ...). Two requests can share an answer only inside one partition.
 */
export function partitionKey(ctx: RequestContext, target: Target, rest: Json, embedderId: string): string {
  const overrides = target.node.override_params;
  const body = overrides ? { ...rest, ...overrides } : rest;
  return createHash('sha256')
    .update(`waygate-semantic-v1\u0000${ctx.endpoint}\u0000${cacheNamespace(ctx)}\u0000${targetIdentity(ctx, target)}\u0000${embedderId}\u0000`)
    .update(canonicalRequest(body))
    .digest('hex');
}

/** A short hash of the compared text (16 bytes, hex), for the identical-prompt shortcut. */
export function textHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
