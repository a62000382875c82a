import { DONE } from '@waygate/core';
import type { SSEEvent, Usage } from '@waygate/core';

/** The two kinds of OpenAI stream chunk: the chat API's and the completions API's. */
export type ChunkObject = 'chat.completion.chunk' | 'text_completion';

/**
 * Builds canonical stream events (OpenAI's `chat.completion.chunk`, and the completions API's
 * `text_completion` chunks) for adapters that translate a provider's stream. `id` and `model` may be
 * filled in once the provider has said them.
 */
export class ChunkWriter {
  id: string;
  model: string;
  created: number;

  constructor(init: { id?: string; model?: string; created?: number } = {}) {
    this.id = init.id ?? '';
    this.model = init.model ?? '';
    this.created = init.created ?? Math.floor(Date.now() / 1000);
  }

  /** A chunk with one choice's delta (and its finish reason, when it finishes). */
  delta(delta: Record<string, unknown>, finish: string | null = null, index = 0): SSEEvent {
    return this.choices([{ index, delta, logprobs: null, finish_reason: finish }]);
  }

  /** A chunk with the given choices, and usage when given (a `text_completion` chunk when `object` says so). */
  choices(choices: unknown[], usage?: Usage, object: ChunkObject = 'chat.completion.chunk'): SSEEvent {
    const chunk: Record<string, unknown> = { id: this.id, object, created: this.created, model: this.model, choices };
    if (usage) chunk.usage = usage;
    return { data: JSON.stringify(chunk) };
  }

  /** The usage chunk OpenAI sends last when `stream_options.include_usage` was asked for. */
  usage(usage: Usage): SSEEvent {
    return this.choices([], usage);
  }

  /** A completions API chunk (`text_completion`): one choice's `text` (and its finish reason, when it finishes). */
  text(text: string, finish: string | null = null, index = 0): SSEEvent {
    return this.choices([{ index, text, logprobs: null, finish_reason: finish }], undefined, 'text_completion');
  }

  /** The completions API's usage chunk: a `text_completion` with no choices. */
  textUsage(usage: Usage): SSEEvent {
    return this.choices([], usage, 'text_completion');
  }

  /** The end-of-stream sentinel. */
  done(): SSEEvent {
    return { data: DONE };
  }
}
