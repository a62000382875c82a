import { ErrorCode, badRequest } from '@waygate/core';
import { isObj } from './format.js';
import type { Json } from './format.js';

/**
 * Anthropic Messages request → OpenAI chat.completions request, for providers that only speak the
 * canonical format. Pure; every field this cannot express is either dropped (listed in the README)
 * or, when dropping it would change the meaning silently, a 400 naming the field.
 */

export interface RequestOptions {
  /** Map `thinking: {type:'enabled', budget_tokens}` to `reasoning_effort` (default: drop it). */
  thinkingToReasoningEffort?: boolean;
}

/** `reasoning_effort` for a thinking budget: under 4k tokens low, under 16k medium, else high. */
export function reasoningEffort(budget: unknown): 'low' | 'medium' | 'high' {
  const n = typeof budget === 'number' ? budget : 0;
  if (n < 4096) return 'low';
  if (n < 16384) return 'medium';
  return 'high';
}

/** The text of Anthropic's `system` (a string, or text blocks joined with blank lines). */
export function systemText(system: unknown, param = 'system'): string | undefined {
  if (system === undefined || system === null) return undefined;
  if (typeof system === 'string') return system;
  if (!Array.isArray(system)) throw badRequest(ErrorCode.INVALID_REQUEST, 'system must be a string or an array of text blocks', param);
  const parts: string[] = [];
  system.forEach((b, i) => {
    if (!isObj(b) || b.type !== 'text' || typeof b.text !== 'string') {
      throw badRequest(ErrorCode.INVALID_REQUEST, `${param}[${i}] must be a text block`, `${param}[${i}]`);
    }
    parts.push(b.text);
  });
  return parts.join('\n\n');
}

/** An Anthropic image block as an OpenAI `image_url` part (base64 sources as data: URLs). */
function imagePart(block: Json, param: string): Json {
  const src = isObj(block.source) ? block.source : {};
  if (src.type === 'base64' && typeof src.data === 'string') {
    return { type: 'image_url', image_url: { url: `data:${src.media_type ?? 'image/png'};base64,${src.data}` } };
  }
  if (src.type === 'url' && typeof src.url === 'string') return { type: 'image_url', image_url: { url: src.url } };
  throw badRequest(ErrorCode.INVALID_REQUEST, `${param}.source: only base64 and url image sources can be sent to this provider`, `${param}.source`);
}

/** An Anthropic document block as an OpenAI part: base64 PDFs as `file` parts, plain text as text. */
function documentPart(block: Json, param: string): Json {
  const src = isObj(block.source) ? block.source : {};
  if (src.type === 'base64' && typeof src.data === 'string') {
    const media = src.media_type ?? 'application/pdf';
    return {
      type: 'file',
      file: { filename: typeof block.title === 'string' ? block.title : 'document.pdf', file_data: `data:${media};base64,${src.data}` },
    };
  }
  if (src.type === 'text' && typeof src.data === 'string') return { type: 'text', text: src.data };
  throw badRequest(ErrorCode.INVALID_REQUEST, `${param}.source: only base64 and text document sources can be sent to this provider`, `${param}.source`);
}

/** A user turn's non-tool blocks as OpenAI content parts. */
function userPart(block: Json, param: string): Json {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: String(block.text ?? '') };
    case 'image':
      return imagePart(block, param);
    case 'document':
      return documentPart(block, param);
    default:
      throw badRequest(ErrorCode.INVALID_REQUEST, `Content block type ${JSON.stringify(block.type)} cannot be sent to this provider`, `${param}.type`);
  }
}

/** OpenAI parts as the simplest content: one string when they are all text. */
function simplify(parts: Json[]): string | Json[] {
  return parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('') : parts;
}

/** A tool_result's content as a tool message's text, and its images (sent in the user turn that follows). */
function toolResult(block: Json, param: string): { text: string; images: Json[] } {
  const c = block.content;
  if (c === undefined || c === null) return { text: '', images: [] };
  if (typeof c === 'string') return { text: c, images: [] };
  if (!Array.isArray(c)) throw badRequest(ErrorCode.INVALID_REQUEST, `${param}.content must be a string or an array of blocks`, `${param}.content`);
  const texts: string[] = [];
  const images: Json[] = [];
  c.forEach((b, i) => {
    if (!isObj(b)) return;
    const p = `${param}.content[${i}]`;
    if (b.type === 'text') texts.push(String(b.text ?? ''));
    else if (b.type === 'image') images.push(imagePart(b, p));
    else if (b.type === 'document') {
      const part = documentPart(b, p);
      if (part.type === 'text') texts.push(part.text);
      else images.push(part);
    } else throw badRequest(ErrorCode.INVALID_REQUEST, `Content block type ${JSON.stringify(b.type)} cannot be sent to this provider`, `${p}.type`);
  });
  return { text: texts.join('\n'), images };
}

/** Anthropic's `messages` → OpenAI messages (after the system message, if any). */
function translateMessages(messages: unknown, out: Json[]): void {
  if (!Array.isArray(messages)) throw badRequest(ErrorCode.INVALID_REQUEST, 'messages must be an array', 'messages');
  messages.forEach((raw, i) => {
    const param = `messages[${i}]`;
    if (!isObj(raw)) throw badRequest(ErrorCode.INVALID_REQUEST, `${param} must be an object`, param);
    const role = raw.role;
    if (role !== 'user' && role !== 'assistant') {
      throw badRequest(ErrorCode.INVALID_REQUEST, `${param}.role must be "user" or "assistant"`, `${param}.role`);
    }
    const content = raw.content;
    if (typeof content === 'string') {
      out.push({ role, content });
      return;
    }
    if (!Array.isArray(content))
      throw badRequest(ErrorCode.INVALID_REQUEST, `${param}.content must be a string or an array of blocks`, `${param}.content`);

    if (role === 'assistant') {
      let text = '';
      const calls: Json[] = [];
      content.forEach((b, j) => {
        if (!isObj(b)) return;
        const p = `${param}.content[${j}]`;
        if (b.type === 'text') text += String(b.text ?? '');
        else if (b.type === 'tool_use') {
          calls.push({ id: String(b.id ?? ''), type: 'function', function: { name: String(b.name ?? ''), arguments: JSON.stringify(b.input ?? {}) } });
        } else if (b.type === 'thinking' || b.type === 'redacted_thinking') {
          // Anthropic's signed reasoning means nothing to another provider: dropped.
        } else {
          throw badRequest(
            ErrorCode.INVALID_REQUEST,
            `Assistant content block type ${JSON.stringify(b.type)} cannot be sent to this provider`,
            `${p}.type`,
          );
        }
      });
      const msg: Json = { role: 'assistant', content: text || (calls.length ? null : '') };
      if (calls.length) msg.tool_calls = calls;
      out.push(msg);
      return;
    }

    // A user turn: tool results become `tool` messages (they must follow the assistant's tool calls
    // at once), then the rest of the turn, with any images the tool results carried, as one user message.
    const parts: Json[] = [];
    const fromTools: Json[] = [];
    content.forEach((b, j) => {
      if (!isObj(b)) return;
      const p = `${param}.content[${j}]`;
      if (b.type === 'tool_result') {
        const r = toolResult(b, p);
        out.push({ role: 'tool', tool_call_id: String(b.tool_use_id ?? ''), content: r.text });
        fromTools.push(...r.images);
      } else parts.push(userPart(b, p));
    });
    parts.push(...fromTools);
    if (parts.length) out.push({ role: 'user', content: simplify(parts) });
  });
}

/** Anthropic tools → OpenAI function tools. Anthropic's server tools (typed) have no equivalent elsewhere. */
function translateTools(tools: unknown): Json[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw badRequest(ErrorCode.INVALID_REQUEST, 'tools must be an array', 'tools');
  return tools.map((t, i) => {
    const param = `tools[${i}]`;
    if (!isObj(t)) throw badRequest(ErrorCode.INVALID_REQUEST, `${param} must be an object`, param);
    if (t.type !== undefined && t.type !== null && t.type !== 'custom') {
      throw badRequest(ErrorCode.INVALID_REQUEST, `${param}: the tool type ${JSON.stringify(t.type)} is served only by Anthropic`, `${param}.type`);
    }
    const fn: Json = { name: t.name, parameters: t.input_schema ?? { type: 'object', properties: {} } };
    if (typeof t.description === 'string') fn.description = t.description;
    return { type: 'function', function: fn };
  });
}

/** Anthropic's tool_choice → OpenAI's (and `disable_parallel_tool_use` → `parallel_tool_calls: false`). */
function translateToolChoice(choice: unknown, out: Json): void {
  // OpenAI refuses a tool_choice without tools; without tools there is nothing to choose anyway.
  if (!isObj(choice) || !out.tools) return;
  switch (choice.type) {
    case 'auto':
      out.tool_choice = 'auto';
      break;
    case 'any':
      out.tool_choice = 'required';
      break;
    case 'none':
      out.tool_choice = 'none';
      break;
    case 'tool':
      out.tool_choice = { type: 'function', function: { name: String(choice.name ?? '') } };
      break;
    default:
      throw badRequest(
        ErrorCode.INVALID_REQUEST,
        `tool_choice.type ${JSON.stringify(choice.type)} is not one of auto, any, tool, none`,
        'tool_choice.type',
      );
  }
  if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
}

/** Translates an Anthropic Messages request body to an OpenAI chat.completions request body. */
export function toChatRequest(body: Json, opts: RequestOptions = {}): Json {
  const messages: Json[] = [];
  const system = systemText(body.system);
  if (system !== undefined && system !== '') messages.push({ role: 'system', content: system });
  translateMessages(body.messages, messages);

  const out: Json = { model: body.model, messages };
  if (typeof body.max_tokens === 'number') out.max_tokens = body.max_tokens;
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length) out.stop = body.stop_sequences;
  if (isObj(body.metadata) && typeof body.metadata.user_id === 'string') out.user = body.metadata.user_id;
  const tools = translateTools(body.tools);
  if (tools?.length) out.tools = tools;
  translateToolChoice(body.tool_choice, out);
  if (opts.thinkingToReasoningEffort && isObj(body.thinking) && body.thinking.type === 'enabled') {
    out.reasoning_effort = reasoningEffort(body.thinking.budget_tokens);
  }
  if (body.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}
