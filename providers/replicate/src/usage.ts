import { parseSSE } from '@waygate/core';
import type { BuildInput, PluginApi, SSEEvent, Usage } from '@waygate/core';
import { Halt, call, getUrl, pollUntilDone, preparedOf, waitBudget } from './prediction.js';
import { headersFor } from './request.js';
import { usageOf } from './response.js';
import { isObj } from './json.js';
import type { Json } from './json.js';

/**
 * Usage for a streamed prediction. Replicate's event stream carries no token counts; the prediction
 * (`GET urls.get`) has them in `metrics` once it has ended. When the client asked for
 * `stream_options.include_usage`, the stream's decoder holds the `done` event until it has read the
 * prediction again (through the gateway's upstream client, as every other call), so the transformer
 * can put the usage chunk between the finish chunk and `[DONE]`. The read is bounded by what is left
 * of the request's deadline (or its request_timeout), at most USAGE_WAIT_MS, and by the client
 * staying; if it fails, the stream ends as it would have without usage (finish chunk, `[DONE]`).
 * The decoder and the transformer of one stream share its slot, found by the request's input.
 */

type Upstream = Pick<PluginApi['upstream'], 'send'>;

/** The longest the prediction is waited for after the stream's `done`, whatever the request's bound. */
export const USAGE_WAIT_MS = 10_000;

/** Shared by one stream's decoder and its transformer: the usage read after `done`, if it was. */
export interface UsageSlot {
  usage?: Usage;
}

const slots = new WeakMap<BuildInput, UsageSlot>();

/** Whether the client asked for a usage chunk. */
export const wantsUsage = (input: BuildInput): boolean => {
  const so = input.body?.stream_options;
  return isObj(so) && so.include_usage === true;
};

/** The slot the decoder of this request's stream fills (undefined when it has none). */
export function bindUsage(input: BuildInput): UsageSlot | undefined {
  return slots.get(input);
}

/** A `done` event that ends the prediction well (not `{"reason":"error"}` or `"canceled"`). */
function doneWell(ev: SSEEvent): boolean {
  if (ev.event !== 'done') return false;
  try {
    const d: unknown = JSON.parse(ev.data);
    return !(isObj(d) && (d.reason === 'error' || d.reason === 'canceled'));
  } catch {
    return true;
  }
}

/** The prediction's usage, read once it has ended; undefined if it cannot be read in time. */
export async function finalUsage(upstream: Upstream, input: BuildInput): Promise<Usage | undefined> {
  const { ctx, target } = input;
  const steered = target.node.custom_host !== undefined && ctx.configSource !== 'file';
  const halt = new Halt(ctx.abortEmitter, Math.min(waitBudget(input), USAGE_WAIT_MS));
  try {
    const prediction: Json = preparedOf(input).prediction;
    const first = await call(upstream, { url: getUrl(prediction, input), method: 'GET', headers: headersFor(input) }, halt, steered, input);
    const { json } = await pollUntilDone(upstream, first, input, halt, steered);
    return usageOf(json.metrics);
  } catch {
    return undefined;
  } finally {
    halt.dispose();
  }
}

/** The stream's events (`urls.stream`), the `done` held until the prediction's usage is read when the client wants it. */
export function decodeWithUsage(upstream: Upstream, body: AsyncIterable<Uint8Array>, input: BuildInput): AsyncIterable<SSEEvent> {
  const slot: UsageSlot = {};
  slots.set(input, slot);
  const limits = (body as { limits?: { maxEventBytes?: number } }).limits;
  const events = parseSSE(body, limits?.maxEventBytes);
  return (async function* () {
    let asked = false;
    for await (const ev of events) {
      if (!asked && wantsUsage(input) && doneWell(ev)) {
        asked = true;
        slot.usage = await finalUsage(upstream, input);
      }
      yield ev;
    }
  })();
}
