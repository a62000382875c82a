import { ChunkWriter } from '@waygate/provider-kit';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { badAnswer } from './errors.js';
import { fromPalmMessage, fromPalmText } from './response.js';
import type { Json } from '@waygate/provider-kit';

/**
 * PaLM's methods do not stream. A client that asks for a stream gets the whole answer as one: the
 * request is the same, the JSON answer is read whole (bounded by `upstream.maxStreamBytes`) and
 * handed on as one event, which the transformers below turn into OpenAI's chunks.
 */
export async function* decodeWholeAnswer(body: AsyncIterable<Uint8Array>): AsyncIterable<SSEEvent> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(Buffer.from(chunk));
  yield { data: Buffer.concat(parts).toString('utf8') };
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw badAnswer('answered with a body that is not valid JSON');
  }
}

/**
 * The stream of one whole PaLM answer: the answer mapped as the JSON path maps it (`answer`), then
 * written as chunks by a writer with its id and created time (`events`), `[DONE]` last.
 */
abstract class PalmWholeStream implements StreamTransformer {
  readonly #model: string;
  readonly #id: string;

  constructor(model: string, id: string) {
    this.#model = model;
    this.#id = id;
  }

  protected abstract answer(json: unknown, model: string, id: string): Json;

  protected abstract events(choices: Json[], out: ChunkWriter): SSEEvent[];

  transform(ev: SSEEvent): SSEEvent[] {
    const answer = this.answer(parse(ev.data), this.#model, this.#id);
    const out = new ChunkWriter({ id: answer.id, model: this.#model, created: answer.created });
    return [...this.events(answer.choices as Json[], out), out.done()];
  }
}

/** A generateMessage answer → chat.completion.chunk events: each candidate's role and text, its finish, `[DONE]`. */
export class PalmChatStream extends PalmWholeStream {
  protected answer(json: unknown, model: string, id: string): Json {
    return fromPalmMessage(json, model, id);
  }

  protected events(choices: Json[], out: ChunkWriter): SSEEvent[] {
    const events: SSEEvent[] = [];
    for (const c of choices) {
      events.push(out.delta({ role: 'assistant', content: '' }, null, c.index));
      if (c.message.content) events.push(out.delta({ content: c.message.content }, null, c.index));
      events.push(out.delta({}, c.finish_reason, c.index));
    }
    return events;
  }
}

/** A generateText answer → text_completion chunk events: each candidate's text with its finish, `[DONE]`. */
export class PalmTextStream extends PalmWholeStream {
  protected answer(json: unknown, model: string, id: string): Json {
    return fromPalmText(json, model, id);
  }

  protected events(choices: Json[], out: ChunkWriter): SSEEvent[] {
    return choices.map((c) => out.choices([c], undefined, 'text_completion'));
  }
}
