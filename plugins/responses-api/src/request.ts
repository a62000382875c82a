import { badRequest, ErrorCode } from '@waygate/core';
import { isObj } from './format.js';
import type { Json } from './format.js';

/**
 * A Responses request → an OpenAI chat.completions request, for providers that only speak chat:
 * `instructions` and `input` (a string or items) become messages, function tools and `tool_choice`
 * keep their meaning, `text.format` becomes `response_format`. Built-in tools cannot be bridged.
 */

/** Tool types only OpenAI runs (prefixes match dated variants such as web_search_preview_2025_03_11). */
export const BUILT_IN_TOOLS = [
  'web_search',
  'file_search',
  'computer_use',
  'code_interpreter',
  'image_generation',
  'mcp',
  'local_shell',
  'shell',
  'custom',
  'apply_patch',
];

type ChatMessage = Json & { role: string };

function contentPart(part: unknown, i: number): Json {
  if (!isObj(part)) throw badRequest(ErrorCode.INVALID_REQUEST, 'input: a content part must be an object', `input.content.${i}`);
  if (part.type === 'input_text' || part.type === 'output_text') return { type: 'text', text: String(part.text ?? '') };
  if (part.type === 'input_image') {
    if (typeof part.image_url !== 'string')
      throw badRequest(ErrorCode.INVALID_REQUEST, 'input_image: only image_url is supported on this provider (no file_id)', 'input');
    return { type: 'image_url', image_url: { url: part.image_url, ...(typeof part.detail === 'string' ? { detail: part.detail } : {}) } };
  }
  throw badRequest(ErrorCode.INVALID_REQUEST, `input: content type ${JSON.stringify(part.type)} is not supported on this provider`, 'input');
}

/** The text of a message's content when it is only text parts (for system and assistant messages). */
function textOf(content: unknown): string | Json[] {
  if (typeof content === 'string') return content;
  const parts = (Array.isArray(content) ? content : []).map(contentPart);
  return parts.every((p) => p.type === 'text') ? parts.map((p) => p.text as string).join('') : parts;
}

/** Input items → chat messages; consecutive function calls become one assistant message's tool_calls. */
export function toMessages(input: unknown, instructions: unknown): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (typeof instructions === 'string' && instructions) messages.push({ role: 'system', content: instructions });
  if (typeof input === 'string') return [...messages, { role: 'user', content: input }];
  if (!Array.isArray(input)) throw badRequest(ErrorCode.INVALID_REQUEST, 'input: a string or an array of items is required', 'input');
  for (const item of input) {
    if (!isObj(item)) throw badRequest(ErrorCode.INVALID_REQUEST, 'input: each item must be an object', 'input');
    const type = item.type ?? 'message';
    if (type === 'message') {
      const role = item.role === 'developer' ? 'system' : String(item.role ?? 'user');
      const content =
        role === 'user'
          ? typeof item.content === 'string'
            ? item.content
            : (Array.isArray(item.content) ? item.content : []).map(contentPart)
          : textOf(item.content);
      messages.push({ role, content });
    } else if (type === 'function_call') {
      const call = {
        id: String(item.call_id ?? item.id ?? ''),
        type: 'function',
        function: { name: String(item.name ?? ''), arguments: String(item.arguments ?? '') },
      };
      const last = messages[messages.length - 1];
      if (last?.role === 'assistant' && Array.isArray(last.tool_calls)) last.tool_calls.push(call);
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (type === 'function_call_output') {
      const output = typeof item.output === 'string' ? item.output : JSON.stringify(item.output ?? '');
      messages.push({ role: 'tool', tool_call_id: String(item.call_id ?? ''), content: output });
    } else if (type !== 'reasoning') {
      throw badRequest(ErrorCode.INVALID_REQUEST, `input: item type ${JSON.stringify(type)} is not supported on this provider`, 'input');
    }
  }
  return messages;
}

function toTools(tools: unknown): Json[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  return tools.map((t) => {
    const type = isObj(t) ? String(t.type) : '';
    if (!isObj(t) || type !== 'function') {
      const builtIn = BUILT_IN_TOOLS.some((b) => type.startsWith(b));
      const why = builtIn ? 'is a built-in tool only OpenAI runs' : 'is not a function tool';
      throw badRequest(
        ErrorCode.INVALID_REQUEST,
        `tools: ${JSON.stringify(type)} ${why}; this provider is reached through chat.completions and takes function tools only`,
        'tools',
      );
    }
    const fn: Json = { name: t.name, parameters: t.parameters ?? { type: 'object', properties: {} } };
    if (t.description !== undefined) fn.description = t.description;
    if (typeof t.strict === 'boolean') fn.strict = t.strict;
    return { type: 'function', function: fn };
  });
}

function toToolChoice(choice: unknown): unknown {
  if (typeof choice === 'string' || choice === undefined) return choice;
  if (isObj(choice) && choice.type === 'function') return { type: 'function', function: { name: choice.name } };
  throw badRequest(ErrorCode.INVALID_REQUEST, 'tool_choice: only "auto", "none", "required" or a function can be bridged', 'tool_choice');
}

function toResponseFormat(text: unknown): unknown {
  const format = isObj(text) ? text.format : undefined;
  if (!isObj(format) || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    const schema: Json = { name: format.name ?? 'response', schema: format.schema };
    if (format.description !== undefined) schema.description = format.description;
    if (typeof format.strict === 'boolean') schema.strict = format.strict;
    return { type: 'json_schema', json_schema: schema };
  }
  throw badRequest(ErrorCode.INVALID_REQUEST, `text.format: ${JSON.stringify(format.type)} is not supported`, 'text.format');
}

/** The chat.completions request for a Responses request. */
export function toChatRequest(body: Json): Json {
  if (body.previous_response_id !== undefined && body.previous_response_id !== null) {
    throw badRequest(
      ErrorCode.INVALID_REQUEST,
      'previous_response_id is not supported on this provider yet: send the whole conversation in input',
      'previous_response_id',
    );
  }
  const out: Json = { model: body.model, messages: toMessages(body.input, body.instructions) };
  const tools = toTools(body.tools);
  if (tools) out.tools = tools;
  const choice = toToolChoice(body.tool_choice);
  if (choice !== undefined && tools) out.tool_choice = choice;
  if (typeof body.parallel_tool_calls === 'boolean' && tools) out.parallel_tool_calls = body.parallel_tool_calls;
  const format = toResponseFormat(body.text);
  if (format) out.response_format = format;
  if (typeof body.max_output_tokens === 'number') out.max_tokens = body.max_output_tokens;
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (isObj(body.reasoning) && typeof body.reasoning.effort === 'string') out.reasoning_effort = body.reasoning.effort;
  if (typeof body.user === 'string') out.user = body.user;
  if (body.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}
