/**
 * The JSON an answer holds, most likely first: the whole text, the fenced code blocks (```json or
 * without a language), then balanced `{...}` or `[...]` spans inside prose. At most `max` values.
 */
export function extractJson(text: string, max = 10): unknown[] {
  const out: unknown[] = [];
  const add = (s: string): boolean => {
    const t = s.trim();
    if (t[0] !== '{' && t[0] !== '[') return false;
    try {
      out.push(JSON.parse(t));
      return true;
    } catch {
      return false;
    }
  };
  if (add(text)) return out;
  const fence = /```[ \t]*(?:json5?|jsonc|JSON)?[ \t]*\r?\n([\s\S]*?)```/g;
  let fenced = false;
  for (let m = fence.exec(text); m && out.length < max; m = fence.exec(text)) fenced = add(m[1]!) || fenced;
  if (fenced) return out;
  for (let i = nextOpen(text, 0); i !== -1 && out.length < max;) {
    const end = closing(text, i);
    if (end !== -1 && add(text.slice(i, end + 1))) i = nextOpen(text, end + 1);
    else i = nextOpen(text, i + 1);
  }
  return out;
}

function nextOpen(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) return i;
  }
  return -1;
}

/** The index of the bracket closing the one at `start` (strings and escapes respected), or -1. */
function closing(text: string, start: number): number {
  const stack: number[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123) stack.push(125);
    else if (c === 91) stack.push(93);
    else if (c === 125 || c === 93) {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}
