import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import { openStream } from '../src/stream-relay.js';
import { AttemptIO } from '../src/attempt-io.js';
import { attempt } from '../src/attempt.js';
import { route } from '../src/dispatch.js';
import { OnErrorStage } from '../src/hooks.js';
import { ErrorCode, GatewayError } from '../src/errors.js';
import { DONE } from '../src/sse.js';
import { eventually, sleep } from '../src/testing/index.js';
import type { Kernel } from '../src/kernel.js';
import type { RequestContext } from '../src/context.js';
import type { BuildInput, EndpointAdapter, StreamFormat } from '../src/contracts.js';
import type { GatewayResponse } from '../src/response.js';
import type { UpstreamBody } from '../src/upstream.js';
import type { Reply } from './support/loopback.js';
import { CHAT, CHAT_STREAM, LOOP, Loopback, ROLE, chunk, drain, loopKernel, ordered, rejection, request, settle, sse } from './support/loopback.js';

const streamBody = { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] };
const text = (s: string) => chunk({ content: s });
const errorEvent = (message: string) => JSON.stringify({ error: { message, type: 'server_error' } });

describe('stream-relay: a streamed answer', () => {
  let up: Loopback;
  const kernels: Kernel[] = [];
  before(async () => {
    up = await Loopback.start();
  });
  after(() => up.close());
  beforeEach(() => up.reset());
  afterEach(async () => {
    for (const k of kernels.splice(0)) await k.close();
  });

  function kernelWith(adapter: Partial<EndpointAdapter> = {}): Kernel {
    const kernel = loopKernel(adapter);
    kernels.push(kernel);
    return kernel;
  }

  /**
   * Sends the request for leaf `a` (answered by `reply`) through a real UpstreamClient and opens its
   * stream, as attempt() does. `pulled` sees every body chunk the relay reads.
   */
  async function open(
    reply: Reply,
    opts: { adapter?: Partial<EndpointAdapter>; pulled?: string[]; format?: StreamFormat } = {},
  ): Promise<{ ctx: RequestContext; res: Promise<GatewayResponse> }> {
    const kernel = kernelWith(opts.adapter);
    up.reply('a', reply);
    const ctx = request(up.leaf('a'), { body: streamBody });
    const target = kernel.plan(ctx).targets[0]!;
    const endpoint = kernel.endpoints.adapterFor(kernel.providers.get(LOOP)!, ctx.endpoint)!;
    const input: BuildInput = { ctx, target, definition: CHAT, body: ctx.body };
    const io = new AttemptIO(ctx, undefined);
    const upstream = await kernel.upstream.send(endpoint.build(input), io.signal);
    const body = opts.pulled ? tapped(upstream.body, opts.pulled) : upstream.body;
    const res = openStream(ctx, target, endpoint, input, { ...upstream, body }, {}, io, opts.format ?? CHAT_STREAM).catch((err: unknown) => {
      // What attempt() does when the stream fails before it is handed on.
      upstream.body.destroy();
      io.end();
      throw err;
    });
    return { ctx, res };
  }

  describe('before the first content', () => {
    it('holds events until the first content event: a role-only preamble is not content', async () => {
      let upstreamRes!: ServerResponse;
      const pulled: string[] = [];
      const { res } = await open(
        (_req, r) => {
          upstreamRes = r;
          r.writeHead(200, { 'content-type': 'text/event-stream' });
          r.write(`data: ${ROLE}\n\n`);
        },
        { pulled },
      );
      let settled = false;
      void res.then(
        () => (settled = true),
        () => (settled = true),
      );
      await eventually(5000, () => pulled.length > 0, 'the preamble read by the relay');
      await settle();
      await settle();
      expect(settled, 'nothing is handed to the client while only the preamble came').to.equal(false);
      upstreamRes.end(`data: ${text('Hi')}\n\ndata: ${DONE}\n\n`);
      const out = await res;
      expect(out.status).to.equal(200);
      expect(out.headers['content-type']).to.equal('text/event-stream; charset=utf-8');
      expect(await drain(out.stream)).to.deep.equal([ROLE, text('Hi'), DONE]);
    });

    it("is a retryable attempt error when an upstream error event comes first, with the format's error", async () => {
      const { res } = await open(sse([ROLE, errorEvent('overloaded')]));
      const err = await rejection(res);
      expect(err).to.include({ status: 502, code: ErrorCode.UPSTREAM_ERROR, retryable: true });
      expect(err.message).to.match(/loop sent an error event: overloaded/);
    });

    it('is a retryable 502 when the stream ends before any content', async () => {
      const { res } = await open(sse([ROLE]));
      const err = await rejection(res);
      expect(err).to.include({ status: 502, code: ErrorCode.UPSTREAM_BAD_RESPONSE, retryable: true });
    });

    it('is a retryable 502 upstream_bad_response when the first event of a pass-through stream is not JSON', async () => {
      const { res } = await open(sse(['this is not json', text('Hi'), DONE]));
      const err = await rejection(res);
      expect(err).to.include({ status: 502, code: ErrorCode.UPSTREAM_BAD_RESPONSE, retryable: true });
      expect(err.message).to.match(/not valid JSON/);
    });

    it('leaves a fallback possible: a connection lost before content fails the attempt, and the next target answers', async () => {
      const kernel = kernelWith();
      up.reply('a', (_req, r) => {
        r.writeHead(200, { 'content-type': 'text/event-stream' });
        r.write(`data: ${ROLE}\n\n`, () => r.destroy());
      });
      up.reply('b', sse([ROLE, text('from b'), DONE]));
      const failures: string[] = [];
      kernel.apiFor('fallback').hooks.onError.tap(OnErrorStage.FALLBACK, (err) => {
        failures.push(`${err.code} ${err.retryable}`);
        return { action: 'next' };
      });
      const ctx = request(ordered(up.leaf('a'), up.leaf('b')), { body: streamBody });
      const res = await route(kernel, ctx);
      expect(failures).to.deep.equal([`${ErrorCode.UPSTREAM_UNREACHABLE} true`]);
      expect(await drain(res.stream)).to.deep.equal([ROLE, text('from b'), DONE]);
      expect(up.names()).to.deep.equal(['a', 'b']);
      expect(ctx.streamError).to.equal(undefined);
    });
  });

  describe('after the first content', () => {
    it("relays an upstream error event as the stream's last event, and records the failure", async () => {
      const { ctx, res } = await open(sse([ROLE, text('Hel'), errorEvent('overloaded'), text('lo'), DONE]));
      const out = await drain((await res).stream);
      expect(out).to.deep.equal([ROLE, text('Hel'), errorEvent('overloaded')]);
      expect(ctx.streamError?.code).to.equal(ErrorCode.STREAM_INTERRUPTED);
      expect(ctx.streamError?.message).to.match(/overloaded/);
      expect(ctx.lastError).to.equal(ctx.streamError);
    });

    it('ends a stream cut short (no [DONE]) with a terminal error event', async () => {
      const { ctx, res } = await open(sse([ROLE, text('Hel')]));
      const out = await drain((await res).stream);
      expect(out.slice(0, 2)).to.deep.equal([ROLE, text('Hel')]);
      expect(out).to.have.length(3);
      const terminal = JSON.parse(out[2]!).error;
      expect(terminal.code).to.equal(ErrorCode.STREAM_INTERRUPTED);
      expect(terminal.message).to.match(/closed the stream before its proper end/);
      expect(ctx.streamError?.code).to.equal(ErrorCode.STREAM_INTERRUPTED);
    });

    it('ends a stream whose connection is lost with a terminal error event', async () => {
      const { ctx, res } = await open((_req, r) => {
        r.writeHead(200, { 'content-type': 'text/event-stream' });
        r.write(`data: ${text('Hel')}\n\n`, () => r.destroy());
      });
      const out = await drain((await res).stream);
      expect(out[0]).to.equal(text('Hel'));
      expect(JSON.parse(out.at(-1)!).error.code).to.equal(ErrorCode.STREAM_INTERRUPTED);
      expect(ctx.streamError?.message).to.match(/failed after it started/);
    });

    it('ends the stream with a terminal error event at a malformed event, relaying nothing after it', async () => {
      const { ctx, res } = await open(sse([ROLE, text('Hel'), '{"choices":[{"delta":', text('lo'), DONE]));
      const out = await drain((await res).stream);
      expect(out.slice(0, 2)).to.deep.equal([ROLE, text('Hel')]);
      expect(out).to.have.length(3);
      const terminal = JSON.parse(out[2]!).error;
      expect(terminal.code).to.equal(ErrorCode.STREAM_INTERRUPTED);
      expect(terminal.message).to.match(/loop sent a stream event that is not valid JSON/);
      expect(ctx.streamError?.code).to.equal(ErrorCode.STREAM_INTERRUPTED);
    });

    it('refuses mid-stream an event cut inside a string, two run together, and an HTML page; relays escaped quotes, nesting and a bare value', async () => {
      const malformed = ['{"choices":[{"delta":{"content":"Hel', `${text('a')}${text('b')}`, '<html><body>502 Bad Gateway</body></html>', '{"a":[1,2}'];
      for (const bad of malformed) {
        const { res } = await open(sse([ROLE, text('Hel'), bad, DONE]));
        const out = await drain((await res).stream);
        expect(out, bad).to.have.length(3);
        expect(JSON.parse(out[2]!).error.message, bad).to.match(/not valid JSON/);
      }
      const fine = [text('say \\"hi\\" {not a brace} [x]'), '{"a":{"b":[{"c":[]}]}}  ', '42'];
      const { res } = await open(sse([ROLE, ...fine, DONE]));
      expect(await drain((await res).stream)).to.deep.equal([ROLE, ...fine, DONE]);
    });

    it('checks an event a transformer passed on as it came as well (it is relayed verbatim)', async () => {
      const adapter = { createStreamTransformer: () => ({ transform: (ev: { data: string }) => ev }) };
      const { res } = await open(sse([ROLE, text('Hel'), 'not json at all', DONE]), { adapter });
      const out = await drain((await res).stream);
      expect(out.slice(0, 2)).to.deep.equal([ROLE, text('Hel')]);
      expect(JSON.parse(out.at(-1)!).error.message).to.match(/not valid JSON/);
      expect(out).to.not.include('not json at all');
    });

    it('ends the stream with a terminal error event when the gateway shuts down (an abort that says so)', async () => {
      const { ctx, res } = await open((_req, r) => {
        r.writeHead(200, { 'content-type': 'text/event-stream' });
        r.write(`data: ${ROLE}\n\ndata: ${text('Hel')}\n\n`);
      });
      const out: string[] = [];
      for await (const ev of (await res).stream!) {
        out.push(ev.data);
        if (out.length === 2) ctx.abort(new GatewayError(ErrorCode.SHUTTING_DOWN, 503, 'The gateway is shutting down'));
      }
      expect(out.slice(0, 2)).to.deep.equal([ROLE, text('Hel')]);
      expect(out).to.have.length(3);
      expect(JSON.parse(out[2]!).error.message).to.match(/failed after it started: The gateway is shutting down/);
    });

    it('reads usage (and the model) from the stream', async () => {
      const usage = { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 };
      const { ctx, res } = await open(sse([ROLE, text('Hi'), chunk({}, { usage, model: 'm-2024' }), DONE]));
      await drain((await res).stream);
      expect(ctx.usage).to.deep.equal(usage);
      expect(ctx.model).to.equal('m-2024');
      expect(ctx.streamError).to.equal(undefined);
    });

    it('reads usage from the end event too (a Responses stream carries it only in response.completed)', async () => {
      const usage = { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 };
      const format: StreamFormat = {
        ...CHAT_STREAM,
        isEnd: (ev) => ev.data.startsWith('{"end"'),
        usage: (ev) => (ev.data.startsWith('{"end"') ? (JSON.parse(ev.data) as { usage: typeof usage }) : undefined),
      };
      const { ctx, res } = await open(sse([ROLE, text('Hi'), JSON.stringify({ end: true, usage })]), { format });
      await drain((await res).stream);
      expect(ctx.usage).to.deep.equal(usage);
      expect(ctx.streamError).to.equal(undefined);
    });

    it('sends no terminal error event when the client leaves, and records no stream failure', async () => {
      let upstreamClosed = false;
      const { ctx, res } = await open((_req, r) => {
        r.on('close', () => (upstreamClosed = true));
        r.writeHead(200, { 'content-type': 'text/event-stream' });
        r.write(`data: ${ROLE}\n\ndata: ${text('Hel')}\n\n`);
      });
      const out: string[] = [];
      for await (const ev of (await res).stream!) {
        out.push(ev.data);
        if (out.length === 2) ctx.abort(new Error('client left'));
      }
      expect(out).to.deep.equal([ROLE, text('Hel')]);
      expect(ctx.streamError).to.equal(undefined);
      await eventually(5000, () => upstreamClosed, 'the upstream request aborted');
    });

    it('aborts the upstream request when the consumer stops reading', async () => {
      let upstreamClosed = false;
      const { res } = await open((_req, r) => {
        r.on('close', () => (upstreamClosed = true));
        r.writeHead(200, { 'content-type': 'text/event-stream' });
        r.write(`data: ${text('Hel')}\n\n`);
      });
      for await (const ev of (await res).stream!) {
        expect(ev.data).to.equal(text('Hel'));
        break;
      }
      await eventually(5000, () => upstreamClosed, 'the upstream request aborted');
    });

    it('lets a stream outlive request_timeout once content has come (the bound is to the first content)', async () => {
      const kernel = kernelWith();
      let upstreamRes!: ServerResponse;
      up.reply('a', (_req, r) => {
        upstreamRes = r;
        r.writeHead(200, { 'content-type': 'text/event-stream' });
        r.write(`data: ${text('Hel')}\n\n`);
      });
      const timeoutMs = 300;
      const ctx = request(up.leaf('a', { request_timeout: timeoutMs }), { body: streamBody });
      const started = performance.now();
      const res = await attempt(kernel, ctx, kernel.plan(ctx).targets[0]!, kernel.endpointOf(ctx));
      const out: string[] = [];
      for await (const ev of res.stream!) {
        out.push(ev.data);
        // The upstream goes on only once the attempt's bound has certainly passed.
        if (out.length === 1) {
          await sleep(timeoutMs + 100 - (performance.now() - started));
          upstreamRes.end(`data: ${text('lo')}\n\ndata: ${DONE}\n\n`);
        }
      }
      expect(out).to.deep.equal([text('Hel'), text('lo'), DONE]);
      expect(ctx.streamError).to.equal(undefined);
    });
  });

  describe('with a stream transformer', () => {
    /** Translates `{"t": ...}` events to chat chunks. */
    const translate = (ev: { data: string }) => (ev.data === DONE ? { data: DONE } : { data: text(JSON.parse(ev.data).t) });

    it('relays what the transformer makes of each event, and what its flush() adds at the end', async () => {
      const { res } = await open(sse(['{"t":"Hel"}', '{"t":"lo"}']), {
        adapter: { createStreamTransformer: () => ({ transform: translate, flush: () => [{ data: text('!') }, { data: DONE }] }) },
      });
      expect(await drain((await res).stream)).to.deep.equal([text('Hel'), text('lo'), text('!'), DONE]);
    });

    it("records an error event the transformer's flush() emits after content as the stream's failure", async () => {
      const { ctx, res } = await open(sse(['{"t":"Hel"}', '{"t":"lo"}']), {
        adapter: { createStreamTransformer: () => ({ transform: translate, flush: () => ({ data: errorEvent('stream ended before its finish') }) }) },
      });
      const out = await drain((await res).stream);
      expect(out).to.deep.equal([text('Hel'), text('lo'), errorEvent('stream ended before its finish')]);
      expect(ctx.streamError?.code).to.equal(ErrorCode.STREAM_INTERRUPTED);
      expect(ctx.streamError?.message).to.match(/stream ended before its finish/);
    });

    it("fails the attempt (retryable) when the transformer's flush() emits an error event before any content", async () => {
      // The upstream opened the answer (a preamble) and closed before any content: an Anthropic
      // stream cut after message_start, whose transformer reports the cut from flush().
      const { ctx, res } = await open(sse(['{"start":true}']), {
        adapter: {
          createStreamTransformer: () => ({
            transform: () => ({ data: ROLE }),
            flush: () => ({ data: errorEvent('the stream ended before message_stop') }),
          }),
        },
      });
      const err = await rejection(res);
      expect(err).to.include({ status: 502, code: ErrorCode.UPSTREAM_ERROR, retryable: true });
      expect(err.message).to.match(/ended before message_stop/);
      expect(ctx.streamError).to.equal(undefined);
    });

    it('fails the attempt when an error event follows the preamble in one transformer output', async () => {
      const { res } = await open(sse(['{"start":true}']), {
        adapter: { createStreamTransformer: () => ({ transform: () => [{ data: ROLE }, { data: errorEvent('overloaded') }] }) },
      });
      const err = await rejection(res);
      expect(err).to.include({ status: 502, code: ErrorCode.UPSTREAM_ERROR, retryable: true });
    });

    it('calls flush() once when the upstream stream ended before any content', async () => {
      let flushes = 0;
      // A transformer that buffers the whole answer and emits it at the end.
      const parts: string[] = [];
      const { res } = await open(sse(['{"t":"Hel"}', '{"t":"lo"}']), {
        adapter: {
          createStreamTransformer: () => ({
            transform: (ev) => void parts.push(JSON.parse(ev.data).t),
            flush: () => {
              flushes++;
              return [{ data: text(parts.join('')) }, { data: DONE }];
            },
          }),
        },
      });
      expect(await drain((await res).stream)).to.deep.equal([text('Hello'), DONE]);
      expect(flushes).to.equal(1);
    });
  });
});

/** The body, with every chunk the relay reads recorded. */
function tapped(body: UpstreamBody, pulled: string[]): UpstreamBody {
  return {
    get destroyed() {
      return body.destroyed;
    },
    destroy: () => body.destroy(),
    readAll: () => body.readAll(),
    limits: body.limits,
    [Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]();
      return {
        next: async () => {
          const r = await it.next();
          if (!r.done) pulled.push(r.value.toString('utf8'));
          return r;
        },
        return: () => it.return!(),
      };
    },
  } as unknown as UpstreamBody;
}
