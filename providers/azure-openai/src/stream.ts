import type { SSEEvent, StreamTransformer } from '@waygate/core';

/**
 * Azure's streams are OpenAI's with one quirk: the first event is a chunk with `object: ""`, no
 * choices and the prompt's `prompt_filter_results`. That chunk is held and its filter results are
 * attached to the next chunk (so it does not count as content, and a failure before the first token
 * can still be retried); a lone one is sent as a proper `chat.completion.chunk`. Everything else is
 * relayed as it came. A stream that closes without `[DONE]` is reported as interrupted.
 */
export class AzureStreamTransformer implements StreamTransformer {
  #pendingFilter: unknown;
  #done = false;

  transform(ev: SSEEvent): SSEEvent | SSEEvent[] | undefined {
    if (this.#done) return undefined;
    if (ev.data === '[DONE]') {
      this.#done = true;
      const out = this.#releaseFilter();
      return out ? [out, { data: '[DONE]' }] : { data: '[DONE]' };
    }
    if (ev.data.indexOf('prompt_filter_results') === -1 && this.#pendingFilter === undefined) return ev;
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(ev.data);
    } catch {
      return ev;
    }
    if (!chunk || typeof chunk !== 'object' || Array.isArray(chunk)) return ev;
    const onlyFilter = Array.isArray(chunk.choices) && chunk.choices.length === 0 && !chunk.usage && chunk.prompt_filter_results !== undefined;
    if (onlyFilter && this.#pendingFilter === undefined) {
      this.#pendingFilter = chunk.prompt_filter_results;
      return undefined;
    }
    if (this.#pendingFilter !== undefined) {
      if (chunk.prompt_filter_results === undefined) chunk.prompt_filter_results = this.#pendingFilter;
      this.#pendingFilter = undefined;
    }
    if (chunk.object !== 'chat.completion.chunk' && chunk.object !== 'text_completion') chunk.object = 'chat.completion.chunk';
    return { data: JSON.stringify(chunk) };
  }

  flush(): SSEEvent | SSEEvent[] | undefined {
    if (this.#done) return undefined;
    const out = this.#releaseFilter();
    if (out) return out;
    throw new Error('the upstream closed the stream without [DONE]');
  }

  #releaseFilter(): SSEEvent | undefined {
    if (this.#pendingFilter === undefined) return undefined;
    const chunk = {
      id: '',
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: '',
      choices: [],
      prompt_filter_results: this.#pendingFilter,
    };
    this.#pendingFilter = undefined;
    return { data: JSON.stringify(chunk) };
  }
}
