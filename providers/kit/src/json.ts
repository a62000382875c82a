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

/** A value as a string, or undefined when it is not one. */
export function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

/** A value as a finite number, or undefined when it is not one. */
export function num(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

/**
 * Parses the JSON `arguments` string of an OpenAI tool call into an object, as providers whose tool
 * calls take an object want it. JSON that is not an object is wrapped as `{ value }`; text that is
 * not JSON is an empty object (the upstream then answers about the arguments itself).
 */
export function parseArguments(args: unknown): Json {
  if (isObj(args)) return args;
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return isObj(parsed) ? parsed : { value: parsed };
  } catch {
    return {};
  }
}
