import { DONE } from '@waygate/core';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { ChunkWriter, isObj } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { badAnswer, streamError } from './errors.js';
import type { TgiKind } from './request.js';
import { answerId, finishReason, usageOf } from './response.js';

/**
 * TGI's `/generate_stream` (Server-Sent Events, `data: {json}` each) → OpenAI chunks. Each event is
 * `{index, token: {id, text, logprob, special}, generated_text, details}`; the last one has
 * `generated_text` and `details` (`finish_reason`, `generated_tokens`, `input_length`) set, and the
 * stream then closes (TGI sends no `[DONE]`). Special tokens (`</s>`, `<|eot_id|>`) are not text and
 * are skipped, as TGI leaves them out of `generated_text`. An event `{error, error_type}` fails the
 * stream; a stream that closes before its last event was cut.
 *
 * Chat: `chat.completion.chunk` events, the role first. Completions: `text_completion` chunks. The
 * usage chunk follows the finish when the client asked for it (`stream_options.include_usage`).
 */
export class TgiStreamTransformer implements StreamTransformer {
  readonly #kind: TgiKind;
  readonly #provider: string;
  readonly #includeUsage: boolean;
  readonly #out: ChunkWriter;
  #started = false;
  #done = false;

  constructor(kind: TgiKind, model: string, includeUsage: boolean, provider = 'tgi') {
    this.#kind = kind;
    this.#provider = provider;
    this.#includeUsage = includeUsage;
    this.#out = new ChunkWriter({ id: answerId(kind), model });
  }

  /** One piece of the answer: a chat delta, or a completion's text. */
  #piece(text: string, finish: string | null = null): SSEEvent {
    if (this.#kind === 'chat') return this.#out.delta(text === '' && finish ? {} : { content: text }, finish);
    return this.#out.text(text, finish);
  }

  #usageChunk(usage: Json): SSEEvent {
    return this.#kind === 'chat' ? this.#out.usage(usage) : this.#out.textUsage(usage);
  }

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    if (this.#done || ev.data === '') return undefined;
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      throw badAnswer(this.#provider, 'sent a stream event that is not valid JSON');
    }
    if (!isObj(data)) throw badAnswer(this.#provider, 'sent a stream event that is not an object');
    if (data.error !== undefined && data.error !== null) throw streamError(data, this.#provider);
    const out: SSEEvent[] = [];
    if (this.#kind === 'chat' && !this.#started) out.push(this.#out.delta({ role: 'assistant', content: '' }));
    this.#started = true;
    const token = isObj(data.token) ? data.token : undefined;
    if (token && token.special !== true && typeof token.text === 'string' && token.text !== '') out.push(this.#piece(token.text));
    const last = (data.generated_text !== undefined && data.generated_text !== null) || isObj(data.details);
    if (last) {
      this.#done = true;
      const details = isObj(data.details) ? data.details : undefined;
      out.push(this.#piece('', finishReason(details?.finish_reason)));
      const usage = usageOf(details);
      if (usage && this.#includeUsage) out.push(this.#usageChunk(usage));
      out.push({ data: DONE });
    }
    return out;
  }

  /** A stream that closed before its last event (the one with `generated_text`) was cut. */
  flush(): undefined {
    if (!this.#done) throw new Error(`the ${this.#provider} stream ended before its last event`);
    return undefined;
  }
}
