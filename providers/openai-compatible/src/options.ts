import { z } from 'zod';

/** The endpoints a preset from the options serves unless it names some. */
export const ENDPOINTS = ['chat.completions', 'completions', 'embeddings', 'models'] as const;

/** What a preset from the options may name: the four, and `moderations` (OpenAI's) and `rerank` (Cohere's shape, as Jina and vLLM serve it). */
export const NAMEABLE_ENDPOINTS = [...ENDPOINTS, 'moderations', 'rerank'] as const;

/** The plugin's options. */
export const optionsSchema = z.strictObject({
  /** Only register these preset slugs (default: all). */
  only: z.array(z.string().min(1)).optional(),
  /** More OpenAI-compatible providers, by slug: `{ "my-llm": { "base_url": "https://llm.example.com/v1" } }`. */
  presets: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a slug of lower-case letters, digits, ".", "_" or "-"'),
      z.strictObject({
        base_url: z.url({ protocol: /^https?$/ }).optional(),
        display_name: z.string().optional(),
        endpoints: z.array(z.enum(NAMEABLE_ENDPOINTS)).min(1).optional(),
      }),
    )
    .default({}),
});

export type OpenAICompatibleOptions = z.output<typeof optionsSchema>;
