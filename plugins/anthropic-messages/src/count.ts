import { isObj } from './format.js';

/**
 * A local estimate of a Messages request's input tokens, for `/v1/messages/count_tokens` when the
 * target's provider has no token counting endpoint: the characters (UTF-16 code units) of every
 * text the model reads, divided by 4 and rounded up, plus a flat 1,600 tokens per image or base64
 * document (about what Anthropic charges for a 1.15-megapixel image). Counted: `system`; per
 * message its text blocks, tool_use name and input JSON, tool_result content, thinking text and
 * text documents (other blocks by their JSON); per tool its name, description and input_schema
 * JSON (other tools by their JSON). It is an estimate: a real tokenizer may count quite differently.
 */
export const CHARS_PER_TOKEN = 4;
export const TOKENS_PER_IMAGE = 1600;

export function estimateInputTokens(body: Record<string, unknown> | undefined): number {
  const acc = { chars: 0, images: 0 };
  if (!body) return 0;
  addSystem(body.system, acc);
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) if (isObj(m)) addContent(m.content, acc);
  }
  if (Array.isArray(body.tools)) {
    for (const t of body.tools) {
      if (!isObj(t)) continue;
      if (t.type === undefined || t.type === 'custom') {
        acc.chars += String(t.name ?? '').length + (typeof t.description === 'string' ? t.description.length : 0);
        acc.chars += JSON.stringify(t.input_schema ?? {}).length;
      } else acc.chars += JSON.stringify(t).length;
    }
  }
  return Math.ceil(acc.chars / CHARS_PER_TOKEN) + acc.images * TOKENS_PER_IMAGE;
}

interface Acc {
  chars: number;
  images: number;
}

function addSystem(system: unknown, acc: Acc): void {
  if (typeof system === 'string') acc.chars += system.length;
  else if (Array.isArray(system)) for (const b of system) if (isObj(b) && typeof b.text === 'string') acc.chars += b.text.length;
}

function addContent(content: unknown, acc: Acc): void {
  if (typeof content === 'string') {
    acc.chars += content.length;
    return;
  }
  if (!Array.isArray(content)) return;
  for (const b of content) {
    if (!isObj(b)) continue;
    switch (b.type) {
      case 'text':
        acc.chars += String(b.text ?? '').length;
        break;
      case 'thinking':
        acc.chars += String(b.thinking ?? '').length;
        break;
      case 'redacted_thinking':
        break;
      case 'tool_use':
        acc.chars += String(b.name ?? '').length + JSON.stringify(b.input ?? {}).length;
        break;
      case 'tool_result':
        addContent(b.content, acc);
        break;
      case 'image':
        acc.images++;
        break;
      case 'document': {
        const src = isObj(b.source) ? b.source : {};
        if (src.type === 'text' && typeof src.data === 'string') acc.chars += src.data.length;
        else if (src.type === 'content') addContent(src.content, acc);
        else acc.images++;
        break;
      }
      default:
        acc.chars += JSON.stringify(b).length;
    }
  }
}
