import { DONE } from '@waygate/core';
import type { SSEEvent, Usage } from '@waygate/core';

/**
 * Builds canonical stream events (OpenAI's `chat.completion.chunk`) for adapters that translate a
 * provider's stream. `id` and `model` may be filled in once the provider has said them.
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

  /** A chunk with the given choices, and usage when given. */
  choices(choices: unknown[], usage?: Usage): SSEEvent {
    const chunk: Record<string, unknown> = { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices };
    if (usage) chunk.usage = usage;
    return { data: JSON.stringify(chunk) };
  }

  /** The usage chunk OpenAI sends last when `stream_options.include_usage` was asked for. */
  usage(usage: Usage): SSEEvent {
    return this.choices([], usage);
  }

  /** The end-of-stream sentinel. */
  done(): SSEEvent {
    return { data: DONE };
  }
}
