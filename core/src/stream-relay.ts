import type { RequestContext } from './context.js';
import type { BuildInput, EndpointAdapter, StreamFormat } from './contracts.js';
import type { PlannedTarget, SSEEvent } from './types.js';
import type { UpstreamResponse } from './upstream.js';
import type { AttemptIO } from './attempt-io.js';
import { own } from './context.js';
import { GatewayResponse } from './response.js';
import { ErrorCode, GatewayError } from './errors.js';
import { parseSSE, DONE } from './sse.js';
import { stringEnd } from './request-config.js';

/**
 * An endpoint without a stream format of its own: every event is content, an OpenAI-style `[DONE]`
 * ends it, and a terminal error is an OpenAI-shaped error object.
 */
const PLAIN_STREAM: StreamFormat = {
  isContent: () => true,
  isEnd: (ev) => ev.data === DONE,
  errorOf: () => undefined,
  errorEvent: (err) => ({ data: JSON.stringify(err.toBody()) }),
};

/**
 * Opens a streamed answer: waits for the first event with content (so a failure before any byte
 * reaches the client can still be retried or fall back), then relays the rest event by event. The
 * attempt's timeout bounds the time to that first event; after it, only the client leaving or the
 * upstream's silence (the body timeout) ends the stream.
 */
export async function openStream(
  ctx: RequestContext,
  target: PlannedTarget,
  endpoint: EndpointAdapter,
  input: BuildInput,
  upstream: UpstreamResponse,
  headers: Record<string, string>,
  io: AttemptIO,
  format: StreamFormat = PLAIN_STREAM,
): Promise<GatewayResponse> {
  const body = upstream.body;
  const events = (endpoint.decodeStream ? endpoint.decodeStream(body, input) : parseSSE(body, body.limits.maxEventBytes))[Symbol.asyncIterator]();
  const transformer = endpoint.createStreamTransformer?.(input);
  const passthrough = transformer === undefined;

  /** The events one upstream event turns into; at the end, what the transformer still holds (flush, called once). */
  let ended = false;
  /** The upstream's event being turned: one relayed as it came must be JSON (checked where it is relayed). */
  let raw: SSEEvent | undefined;
  const turn = (next: IteratorResult<SSEEvent>): SSEEvent[] => {
    if (next.done) {
      ended = true;
      return transformer?.flush ? toList(transformer.flush()) : [];
    }
    raw = next.value;
    return transformer ? toList(transformer.transform(raw)) : [raw];
  };
  const notJson = (ev: SSEEvent) => ev === raw && !format.isEnd(ev) && !wellFormed(ev.data);
  /** An answer that is not what the format promises: a retryable 502 before the first content, a terminal event after it. */
  const bad = (why: string) =>
    new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `${target.provider} ${why}`, { retryable: true, upstream: { status: upstream.statusCode } });

  // Hold events until the first one with content (OpenAI opens a chat stream with a role-only
  // chunk): until then nothing has reached the client, and a failure can still be retried.
  const held: SSEEvent[] = [];
  for (;;) {
    const out = turn(await events.next());
    // Every held event is checked, what flush() emits at the end too: an error event or a malformed
    // event before the client saw anything fails the attempt (it can be retried or fall back) rather
    // than reaching the client as its answer.
    for (const ev of out) {
      const err = format.errorOf(ev, target.provider);
      if (err) throw err;
      if (notJson(ev)) throw bad('sent a stream event that is not valid JSON');
    }
    held.push(...out);
    if (out.some(format.isContent)) break;
    if (ended) throw bad('ended the stream before sending any event');
  }
  io.firstByte();

  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache';
  const provider = target.provider;
  /** Records a failure after the first byte; the request's log line reports it. */
  const interrupted = (why: string): GatewayError => {
    const gerr = new GatewayError(ErrorCode.STREAM_INTERRUPTED, 502, `The stream from ${provider} failed after it started: ${why}`, {
      type: 'server_error',
    });
    const self = own(ctx);
    self.lastError = gerr;
    self.streamError = gerr;
    return gerr;
  };
  async function* relay(): AsyncGenerator<SSEEvent> {
    let sawEnd = false;
    let last: SSEEvent | undefined;
    const seen = (ev: SSEEvent) => {
      last = ev;
      if (format.isEnd(ev)) sawEnd = true;
      // The end event may carry the usage (a Responses stream's response.completed does).
      if (format.usage) ctx.recordUsage(format.usage(ev));
    };
    try {
      for (const ev of held) {
        seen(ev);
        yield ev;
      }
      while (!ended) {
        // At the end, what the transformer still holds (flush) goes through the same checks.
        const out = turn(await events.next());
        for (const ev of out) {
          const upstreamErr = format.errorOf(ev, provider);
          if (upstreamErr) {
            // The upstream's own error event is the terminal event; it is relayed as it is.
            interrupted(upstreamErr.message);
            yield ev;
            return;
          }
          // A malformed event mid-stream is not relayed: the stream ends with a terminal error event.
          if (notJson(ev)) throw bad('sent a stream event that is not valid JSON');
          seen(ev);
          yield ev;
        }
      }
      if (passthrough && !sawEnd) throw new Error('the upstream closed the stream before its proper end');
    } catch (err) {
      // A client that left hears nothing more; a gateway that shuts down says so.
      if (ctx.aborted && (err as GatewayError).code !== ErrorCode.SHUTTING_DOWN) return;
      yield format.errorEvent(interrupted((err as Error).message), last);
    } finally {
      io.end();
      if (!upstream.body.destroyed) upstream.body.destroy();
    }
  }
  return GatewayResponse.sse(200, relay(), headers, 'upstream');
}

const toList = (x: SSEEvent | SSEEvent[] | undefined): SSEEvent[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/**
 * Whether an event relayed as the upstream sent it is one whole JSON object or array: every string
 * closes, the brackets balance outside strings, and only whitespace follows the last one. A scan, not
 * a parse (a third of JSON.parse's time, and no garbage, on every event of a pass-through stream): it
 * catches what goes wrong on the wire (an event cut short, two run together, text or an HTML page),
 * not a serializer's slip inside balanced brackets. Any other value (a bare number) is parsed.
 */
function wellFormed(text: string): boolean {
  const first = text.charCodeAt(0);
  if (first !== 0x7b && first !== 0x5b) return isJson(text);
  for (let i = 0, depth = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 && (i = stringEnd(text, i)) === -1) return false;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return text.slice(i + 1).trim() === '';
  }
  return false;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
