import { DEFAULT_LIMITS, compileUncached } from './regex.js';
import type { CompileOptions, SafeRegex } from './regex.js';

/**
 * Compiled patterns by (engine, flags, pattern), least recently used dropped first past `max`
 * entries: each distinct pattern is compiled once however many configs carry it, and a stream of
 * distinct patterns (configs sent with requests) cannot grow memory without bound. The same pattern
 * gives the same object. The limits are checked on every call, cached or not, so a pattern compiled
 * under a looser limit is still refused under a stricter one.
 */
export class RegexCache {
  readonly #map = new Map<string, SafeRegex>();
  constructor(readonly max = 1000) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`a regex cache holds at least one pattern (got ${max})`);
  }

  compile(pattern: string, flags = '', options: CompileOptions = {}): SafeRegex {
    const engine = options.engine ?? 're2';
    const key = `${engine}\u0000${flags}\u0000${pattern}`;
    const hit = this.#map.get(key);
    if (hit) {
      const maxProgramSize = options.maxProgramSize ?? DEFAULT_LIMITS.maxProgramSize;
      if (pattern.length <= (options.maxLength ?? DEFAULT_LIMITS.maxLength) && (hit.engine !== 're2' || hit.cost <= maxProgramSize)) {
        this.#map.delete(key);
        this.#map.set(key, hit);
        return hit;
      }
      // Over this caller's limits: compiling again throws the limit's error.
      return compileUncached(pattern, flags, options);
    }
    const re = compileUncached(pattern, flags, options);
    if (this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value!);
    this.#map.set(key, re);
    return re;
  }

  get size(): number {
    return this.#map.size;
  }

  clear(): void {
    this.#map.clear();
  }
}

/** The process's shared cache (1000 patterns), used by compileSafe(). */
export const sharedCache = new RegexCache(1000);

/**
 * Compiles a pattern once per (engine, flags, pattern), from the shared cache. Throws a
 * SafeRegexError for a pattern the engine refuses or one over the limits.
 */
export function compileSafe(pattern: string, flags = '', options: CompileOptions = {}): SafeRegex {
  return sharedCache.compile(pattern, flags, options);
}
