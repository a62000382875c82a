// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
