import { DONE, ErrorCode, GatewayError, parseSSE } from '@waygate/core';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { EventStreamDecoder, EventStreamError } from '@waygate/provider-bedrock';
import type { EventStreamMessage } from '@waygate/provider-bedrock';
import { isObj } from '@waygate/provider-kit';

/**
 * InvokeEndpointWithResponseStream answers in AWS's event-stream framing
 * (`application/vnd.amazon.eventstream`, decoded and CRC-checked by the Bedrock adapter's decoder).
 * Each `PayloadPart` event's payload is a piece of the container's own answer, cut anywhere: for an
 * OpenAI-style container, its `data: {...}` server-sent events; for TGI, its `generate_stream` events
 * (translated by `@waygate/provider-tgi`'s transformer). The pieces are joined and parsed as
 * one SSE stream, so every event relayed is whole, however the parts cut it. A `ModelStreamError`
 * or `InternalStreamFailure` exception (or an error message) ends the stream with a retryable 502:
 * before the first event it fails the attempt, after it the client gets a terminal error event.
 */

const utf8 = new TextDecoder();

/** Retryable: AWS says to try again after either stream exception. */
function streamFailure(m: EventStreamMessage): GatewayError {
  const kind = m.headers[':message-type'];
  const type = String((kind === 'error' ? m.headers[':error-code'] : m.headers[':exception-type']) ?? 'UnknownStreamError');
  let message = kind === 'error' ? String(m.headers[':error-message'] ?? '') : '';
  let code: unknown;
  try {
    const d: unknown = JSON.parse(utf8.decode(m.payload));
    if (isObj(d)) {
      const msg = d.Message ?? d.message;
      if (typeof msg === 'string') message = msg;
      code = d.ErrorCode ?? d.errorCode;
    }
  } catch {
    // a payload that is not JSON: the headers say what happened
  }
  const detail = typeof code === 'string' && code ? ` (${code})` : '';
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, `${type}${detail}: ${message.slice(0, 1000) || 'the stream failed'}`, {
    retryable: true,
    type: 'server_error',
  });
}

/** The container's bytes, PayloadPart by PayloadPart; a stream exception or a corrupt frame throws. */
export async function* payloadBytes(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const dec = new EventStreamDecoder();
  try {
    for await (const chunk of body) {
      for (const m of dec.push(chunk)) {
        const kind = m.headers[':message-type'];
        if (kind === 'exception' || kind === 'error') throw streamFailure(m);
        if (m.headers[':event-type'] === 'PayloadPart' && m.payload.length) yield m.payload;
        // other event types (none are documented yet) are skipped
      }
    }
    dec.end();
  } catch (err) {
    if (!(err instanceof EventStreamError)) throw err;
    throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `sagemaker sent a malformed event stream: ${err.message}`, {
      retryable: true,
      cause: err,
    });
  }
}

/** The container's server-sent events, whole, from an InvokeEndpointWithResponseStream body. */
export function decodeSageMakerStream(body: AsyncIterable<Uint8Array>): AsyncIterable<SSEEvent> {
  const limits = (body as { limits?: { maxEventBytes?: number } }).limits;
  return parseSSE(payloadBytes(body), limits?.maxEventBytes);
}

/**
 * An OpenAI-style container's events relayed as they came (each one the event itself, so the relay
 * still checks that it is JSON), with the proper end required: a stream that closes without
 * `data: [DONE]` was cut.
 */
export class OpenAIStreamRelay implements StreamTransformer {
  #ended = false;

  transform(ev: SSEEvent): SSEEvent {
    if (ev.data === DONE) this.#ended = true;
    return ev;
  }

  flush(): undefined {
    if (!this.#ended) throw new Error('the upstream closed the stream before its proper end');
    return undefined;
  }
}
