import type { SSEEvent } from './types.js';

export type ResponseHeaders = Record<string, string>;

/**
 * What the kernel hands back to the HTTP layer: a status, headers, and either a JSON body or a stream
 * of canonical SSE events. A JSON body may be held as the upstream's raw bytes and parsed only when a
 * plugin asks for it, so a pass-through answer is neither parsed nor serialized twice.
 */
export class GatewayResponse {
  status: number;
  headers: ResponseHeaders;
  /** For streaming answers: canonical SSE events, consumed once by the HTTP writer. */
  stream?: AsyncIterable<SSEEvent>;
  /** For a raw endpoint's answer that is not JSON (audio, a file's contents): its bytes as they arrive, relayed with back-pressure. */
  bytes?: AsyncIterable<Uint8Array>;
  /** Set by whoever produced the response (e.g. `upstream`, `cache`, a plugin's name). */
  source: string;
  #raw?: Uint8Array;
  #json?: unknown;
  #parsed = false;

  private constructor(status: number, headers: ResponseHeaders, source: string) {
    this.status = status;
    this.headers = headers;
    this.source = source;
  }

  static json(status: number, body: unknown, headers: ResponseHeaders = {}, source = 'gateway'): GatewayResponse {
    const res = new GatewayResponse(status, headers, source);
    res.#json = body;
    res.#parsed = true;
    return res;
  }

  /**
   * A JSON answer kept as bytes, written as they are unless a plugin replaces the body. Pass `parsed`
   * when the caller already parsed the bytes; otherwise they are parsed on the first `body` read.
   */
  static raw(status: number, bytes: Uint8Array, headers: ResponseHeaders = {}, source = 'upstream', parsed?: unknown): GatewayResponse {
    const res = new GatewayResponse(status, headers, source);
    res.#raw = bytes;
    if (parsed !== undefined) {
      res.#json = parsed;
      res.#parsed = true;
    }
    return res;
  }

  static sse(status: number, stream: AsyncIterable<SSEEvent>, headers: ResponseHeaders = {}, source = 'upstream'): GatewayResponse {
    const res = new GatewayResponse(status, headers, source);
    res.stream = stream;
    return res;
  }

  static binary(status: number, bytes: AsyncIterable<Uint8Array>, headers: ResponseHeaders, source = 'upstream'): GatewayResponse {
    const res = new GatewayResponse(status, headers, source);
    res.bytes = bytes;
    return res;
  }

  get isStream(): boolean {
    return this.stream !== undefined;
  }

  /** The JSON body (parsed from raw bytes on first access). Undefined for streams. */
  get body(): unknown {
    if (!this.#parsed) {
      this.#parsed = true;
      const raw = this.#raw;
      this.#json = raw && raw.length > 0 ? JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : new TextDecoder().decode(raw)) : undefined;
    }
    return this.#json;
  }

  /** Replaces the JSON body; the raw bytes are dropped so the new body is what gets written. */
  set body(value: unknown) {
    this.#json = value;
    this.#parsed = true;
    this.#raw = undefined;
  }

  /**
   * Adds a top-level field to a JSON object answer (a guardrail's `hook_results`). When the answer
   * is still held as the upstream's bytes, the field is spliced in before the closing brace, so the
   * body is not serialized again.
   */
  addField(name: string, value: unknown): void {
    const raw = this.#raw;
    const text = raw && Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('utf8').trim();
    if (text && text[0] === '{' && text.endsWith('}')) {
      const head = text.slice(0, -1).trimEnd();
      this.#raw = Buffer.from(`${head}${head === '{' ? '' : ','}${JSON.stringify(name)}:${JSON.stringify(value)}}`);
      // Keep a parsed copy in step with the bytes (a shallow copy: the bytes are what is written).
      if (this.#parsed && this.#json && typeof this.#json === 'object') this.#json = { ...(this.#json as Record<string, unknown>), [name]: value };
      return;
    }
    const body = this.body;
    if (body && typeof body === 'object' && !Array.isArray(body)) this.body = { ...(body as Record<string, unknown>), [name]: value };
  }

  /** The bytes to write for a JSON answer: the untouched upstream bytes, or the body serialized once. */
  serialize(): Uint8Array | string {
    if (this.#raw) return this.#raw;
    return this.#json === undefined ? '' : JSON.stringify(this.#json);
  }
}
