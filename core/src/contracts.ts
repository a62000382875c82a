import type { GatewayError } from './errors.js';
import type { GatewayResponse } from './response.js';
import type { RequestContext } from './context.js';
import type { Endpoint, SSEEvent, Target, UpstreamRequest, Usage } from './types.js';

/**
 * The contracts plugins implement: provider adapters (one per wire protocol) and endpoint
 * definitions (one per client-facing API), and what an onError tap decides.
 */

/** What an onError tap decides after a failed attempt. */
export type ErrorDecision =
  { action: 'retry'; delayMs?: number } | { action: 'next' } | { action: 'fail'; error?: GatewayError } | { action: 'respond'; response: GatewayResponse };

export interface BuildInput {
  ctx: RequestContext;
  target: Target;
  /** The definition of the client-facing endpoint the request came in on, when it has one. */
  definition?: EndpointDefinition;
  /** The canonical (OpenAI-format) request body with the target's override_params applied. */
  body: Record<string, unknown> | undefined;
  /** The client's original bytes when `body` is exactly what the client sent; adapters that pass through may send them. */
  rawBody?: Uint8Array;
  /** Per-attempt scratch space for an adapter's prepare() to hand build() what it fetched. */
  prepared?: Record<string, unknown>;
}

/** Turns a provider's stream into canonical OpenAI SSE events; the only stateful piece of an adapter. */
export interface StreamTransformer {
  transform(event: SSEEvent): SSEEvent | SSEEvent[] | undefined;
  flush?(): SSEEvent | SSEEvent[] | undefined;
}

/** One endpoint of a provider adapter. Everything but the stream transformer is a pure function. */
export interface EndpointAdapter {
  /**
   * Optional asynchronous step before build(), for what needs I/O first (exchanging a service
   * account for an access token). Keep its results cached: it runs on every attempt.
   */
  prepare?(input: BuildInput): Promise<void> | void;
  /** Builds the upstream request from the canonical request and the target. */
  build(input: BuildInput): UpstreamRequest;
  /** Maps the upstream's JSON answer (and its headers, for what a provider says only there) to the canonical answer. Absent: the bytes pass through untouched. */
  mapResponse?(json: unknown, input: BuildInput, headers?: Record<string, string | string[] | undefined>): unknown;
  /** Creates a per-request stream transformer. Absent: upstream SSE events pass through. */
  createStreamTransformer?(input: BuildInput): StreamTransformer;
  /** Decodes a non-SSE stream body (e.g. AWS event-stream frames) into events, for the request `input` is of. Absent: the body is parsed as SSE. */
  decodeStream?(body: AsyncIterable<Uint8Array>, input: BuildInput): AsyncIterable<SSEEvent>;
  /** Maps an upstream error answer to a GatewayError. Absent: the kernel's default keeps status and message. */
  mapError?(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError | undefined;
}

export interface ProviderAdapter {
  /** The slug a config or header names it by. */
  id: string;
  /** Human-readable name for logs and docs. */
  displayName?: string;
  /** The default base URL (e.g. `https://api.openai.com/v1`); absent means a custom host is required. */
  baseURL?: string;
  endpoints: Partial<Record<Endpoint, EndpointAdapter>>;
}

/**
 * The client-facing API operations (ingress endpoints) and the wire format each one speaks to the
 * client. The core defines OpenAI's (`chat.completions`, `completions`, `embeddings`, `models`);
 * a plugin may add another API (Anthropic's `/v1/messages`) by registering its definition in setup().
 *
 * A definition tells the kernel what it cannot guess from bytes: which stream events carry content
 * (the headers are held until the first one), how a proper stream ends, what an upstream error event
 * looks like, how to tell the client a stream failed, where usage is, and how errors are shaped.
 */
export interface EndpointDefinition {
  id: Endpoint;
  /** The HTTP routes that reach this endpoint. */
  routes: ReadonlyArray<{ method: 'GET' | 'POST' | 'DELETE'; path: string }>;
  /**
   * Any body: one that is not JSON (a multipart upload, a file) is not parsed: `ctx.rawBody`, no
   * `ctx.body`. An answer that is not JSON (audio, file contents) is relayed as bytes with its type.
   */
  raw?: boolean;
  /**
   * A raw endpoint's non-JSON body (a multipart form): its text fields, read before the request's
   * context is made, so the model it names is `ctx.model` (a key's model rules apply) as a JSON
   * body's would be. Throws a 400 GatewayError for a body it cannot read.
   */
  readFields?(raw: Uint8Array, contentType: string): Promise<Record<string, string> | undefined>;
  /** How this API's streams are read and ended. Absent: the endpoint does not stream. */
  stream?: StreamFormat;
  /** Converts a whole answer between its JSON and stream forms (cache replay, guardrails). */
  codec?: EndpointCodec;
  /** Reads token usage and the model from a JSON answer in this format. Default: OpenAI's `usage`. */
  usage?(json: unknown): { usage?: Usage; model?: string } | undefined;
  /** The body of an error answer in this API's shape. Default: OpenAI's `{"error":{...}}`. */
  errorBody?(err: GatewayError): unknown;
  /**
   * For a provider without this endpoint: call its `via` endpoint through `wrap(inner)`, an adapter
   * that translates the request to that endpoint's format and the answer (JSON and stream) back.
   */
  bridge?: { via: Endpoint; wrap(inner: EndpointAdapter, provider: string): EndpointAdapter };
}

/** The stream semantics of one client-facing API. Only the first events and rare cases are parsed. */
export interface StreamFormat {
  /** Whether an event must reach the client (anything but a preamble); events are held until the first one. */
  isContent(ev: SSEEvent): boolean;
  /** Whether an event is the proper end of the stream; a pass-through stream that closes without one failed. */
  isEnd(ev: SSEEvent): boolean;
  /** The failure an upstream error event stands for, or undefined for any other event. Cheap for ordinary events. */
  errorOf(ev: SSEEvent, provider: string): GatewayError | undefined;
  /** The terminal event that tells the client the stream failed after it started; `last`: the last event the client got (a numbered stream numbers on). */
  errorEvent(err: GatewayError, last?: SSEEvent): SSEEvent;
  /** Usage (and the model) an event carries, if any. Called for every event: test cheaply first. */
  usage?(ev: SSEEvent): { usage?: Usage; model?: string } | undefined;
}

/** A whole answer in its two forms. */
export interface EndpointCodec {
  /** The events a streaming client would have received for this JSON answer. */
  toEvents(json: unknown): SSEEvent[];
  /** The JSON answer a non-streaming client would have received for these events. */
  fromEvents(events: readonly SSEEvent[]): unknown;
}
