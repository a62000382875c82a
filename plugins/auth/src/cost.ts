import { calcPrice } from '@pydantic/genai-prices';
import type { Usage } from '@waygate/core';
import { z } from 'zod';
import { globs } from './keys.js';

/**
 * The cost of an answer in USD, from the price table of `@pydantic/genai-prices` (bundled data, no
 * network: its auto-update is never turned on) unless the operator's `prices` name the model. A
 * model neither knows is unpriced: the cost is `undefined`, never 0.
 */

/** An operator's price for the models a glob names, in USD per million tokens. */
export const PriceSchema = z.strictObject({
  input_per_mtok: z.number().min(0),
  output_per_mtok: z.number().min(0),
  /** Cached input (read from the provider's prompt cache). Default: the input price. */
  cached_input_per_mtok: z.number().min(0).optional(),
  /** Input written to the provider's prompt cache (Anthropic). Default: the input price. */
  cache_write_per_mtok: z.number().min(0).optional(),
});
export type Price = z.output<typeof PriceSchema>;

/** The tokens of an answer, split the way they are priced. */
export interface Tokens {
  /** Every input token, cached ones included (OpenAI's prompt_tokens). */
  input: number;
  output: number;
  /** Of `input`: read from the provider's cache. */
  cachedRead: number;
  /** Of `input`: written to the provider's cache. */
  cacheWrite: number;
  /** Of `output`: reasoning tokens (billed as output). */
  reasoning: number;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/** Tokens from the usage the gateway recorded (OpenAI's shape; Anthropic's answers are mapped to it with the cache counts kept). */
export function tokensOf(u: Usage | undefined): Tokens | undefined {
  if (!u) return undefined;
  const details = (u.completion_tokens_details ?? {}) as Record<string, unknown>;
  return {
    input: num(u.prompt_tokens),
    output: num(u.completion_tokens),
    cachedRead: num(u.prompt_tokens_details?.cached_tokens) || num(u.cache_read_input_tokens),
    cacheWrite: num(u.cache_creation_input_tokens),
    reasoning: num(details.reasoning_tokens),
  };
}

/** Waygate's provider ids → the price table's. */
const TABLE_PROVIDER: Record<string, string> = {
  openai: 'openai',
  'azure-openai': 'azure',
  anthropic: 'anthropic',
  google: 'google',
  'vertex-ai': 'google',
  bedrock: 'aws',
  cohere: 'cohere',
};

export class PriceBook {
  readonly #overrides: Array<{ test: (model: string) => boolean; price: Price }>;
  readonly #memo = new Map<string, ((t: Tokens) => number) | null>();

  constructor(overrides: Record<string, Price>) {
    this.#overrides = Object.entries(overrides).map(([pattern, price]) => ({ test: globs([pattern])!, price }));
  }

  /** The cost of `tokens` on `model` served by `provider`; undefined when no price is known. */
  #hour = 0;

  cost(model: string | undefined, provider: string | undefined, tokens: Tokens): number | undefined {
    if (!model) return undefined;
    const hour = Math.floor(Date.now() / 3_600_000);
    if (hour !== this.#hour) {
      this.#hour = hour;
      this.#memo.clear();
    }
    const memoKey = `${provider ?? ''}\u0000${model}`;
    let fn = this.#memo.get(memoKey);
    if (fn === undefined) {
      fn = this.#pricer(model, provider);
      if (this.#memo.size > 5000) this.#memo.clear();
      this.#memo.set(memoKey, fn);
    }
    return fn ? fn(tokens) : undefined;
  }

  #pricer(model: string, provider: string | undefined): ((t: Tokens) => number) | null {
    const own = this.#overrides.find((o) => o.test(model))?.price;
    if (own) {
      return (t) => {
        const read = Math.min(t.cachedRead, t.input);
        const write = Math.min(t.cacheWrite, t.input - read);
        const plain = t.input - read - write;
        return (
          (plain * own.input_per_mtok +
            read * (own.cached_input_per_mtok ?? own.input_per_mtok) +
            write * (own.cache_write_per_mtok ?? own.input_per_mtok) +
            t.output * own.output_per_mtok) /
          1e6
        );
      };
    }
    const providerId = provider ? TABLE_PROVIDER[provider] : undefined;
    const probe = { input_tokens: 1, output_tokens: 1 };
    // The provider's table first; a model the table files under another provider (a custom host serving an OpenAI model) by its name alone.
    const found = (providerId && calcPrice(probe, model, { providerId })) || calcPrice(probe, model);
    if (!found) return null;
    // calcPrice costs 30-130 µs a call (it revalidates the model's prices each time): the model's
    // prices are read once (and again each hour: a table may change a price from a date on) and
    // applied here the way the table's own calculation does (checked against it in the tests).
    const mp = found.model_price as Record<string, TablePrice | undefined>;
    const rate = (key: string, input: number): number | undefined => {
      const p = mp[key];
      if (p === undefined || typeof p === 'number') return p;
      let r = p.base;
      for (const tier of p.tiers) if (input > tier.start) r = tier.price;
      return r;
    };
    return (t) => {
      const input = rate('input_mtok', t.input) ?? 0;
      const read = Math.min(t.cachedRead, t.input);
      const write = Math.min(t.cacheWrite, t.input - read);
      return (
        ((t.input - read - write) * input +
          read * (rate('cache_read_mtok', t.input) ?? input) +
          write * (rate('cache_write_mtok', t.input) ?? input) +
          t.output * (rate('output_mtok', t.input) ?? 0)) /
          1e6 +
        (rate('requests_kcount', t.input) ?? 0) / 1000
      );
    };
  }
}

/** A price in the table: per unit, or by tiers of the request's input tokens. */
type TablePrice = number | { base: number; tiers: Array<{ start: number; price: number }> };
