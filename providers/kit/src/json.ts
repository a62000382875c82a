import { ErrorCode, badRequest } from '@waygate/core';
import type { GatewayError } from '@waygate/core';
/**
 * The JSON helpers adapters and format translators share: a loose JSON object type for wire
 * formats the code reads field by field, and the guards that go with it.
 */

/** A JSON object of a wire format, read field by field (providers' shapes are wider than any type). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire formats are read field by field, each field checked where it is used
export type Json = Record<string, any>;

/** Whether a value is a JSON object (not null, not an array). */
export function isObj(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** JSON text that holds an object, parsed; undefined for anything else (not JSON, an array, a scalar). */
export function parseObject(text: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A value as a string, or undefined when it is not one. */
export function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

/** A value as a finite number, or undefined when it is not one. */
export function num(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

/**
 * The deepest nesting of arrays and objects taken from JSON text inside a body (a tool call's
 * `arguments`): as the gateway's default `server.maxJsonDepth`, so what the body's own depth check
 * bounds cannot come back deeper from a string in it.
 */
export const MAX_NESTED_JSON_DEPTH = 64;

/** Whether JSON text nests arrays and objects deeper than `max`: an iterative scan (strings skipped), safe on any input. */
export function nestedDeeper(json: string, max: number = MAX_NESTED_JSON_DEPTH): boolean {
  for (let i = 0, depth = 0, k = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      // Past the string, to the next quote after an even number of backslashes.
      do {
        if ((i = json.indexOf('"', i + 1)) === -1) return false;
        for (k = i; json.charCodeAt(k - 1) === 0x5c; k--);
      } while ((i - k) % 2 === 1);
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The 400 for tool call arguments nested deeper than MAX_NESTED_JSON_DEPTH. */
export function argumentsTooDeep(): GatewayError {
  return badRequest(ErrorCode.INVALID_REQUEST, `A tool call's arguments are nested deeper than ${MAX_NESTED_JSON_DEPTH} levels`);
}

/**
 * Parses the JSON `arguments` string of an OpenAI tool call into an object, as providers whose tool
 * calls take an object want it. JSON that is not an object is wrapped as `{ value }`; text that is
 * not JSON is an empty object (the upstream then answers about the arguments itself); JSON nested
 * deeper than MAX_NESTED_JSON_DEPTH is a 400 (its object would overflow the stack when serialized).
 */
export function parseArguments(args: unknown): Json {
  if (isObj(args)) return args;
  if (typeof args !== 'string' || args.trim() === '') return {};
  if (nestedDeeper(args)) throw argumentsTooDeep();
  try {
    const parsed: unknown = JSON.parse(args);
    return isObj(parsed) ? parsed : { value: parsed };
  } catch {
    return {};
  }
}
