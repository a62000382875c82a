// End to end, issue #3: retries, fallbacks, timeouts, stream-safe fallback, cancellation, load
// balancing, conditional routing and circuit breaking, through the real gateway (in process, every
// routing plugin loaded from configuration) driven by the `openai` SDK (no SDK retries), in front
// of fake OpenAI upstreams that are real HTTP servers on loopback. Every test checks how many
// attempts each upstream got, which target answered, the status and headers the client saw, and
// that nothing is left running upstream.
import { expect } from 'chai';
import OpenAI, { APIError, APIUserAbortError, BadRequestError, InternalServerError } from 'openai';
import type { ConfigNode, Gateway } from '@waygate/core';
import { FakeOpenAI } from './fakes/index.js';
import { LogCapture } from './helpers/api-support.js';
import { freePort } from './helpers/proc-util.js';
import { KEY, chat, chatStream, client, expectIdle, fallback, leaf, readStream, rejection, sleep, startResGateway, timed } from './helpers/res-support.js';

const ALPHA = 'Alpha answers the call';
const BETA = 'Beta answers the call';
const GAMMA = 'Gamma answers the call';

/** The status and headers of a failed SDK call. */
function apiError(err: unknown): APIError {
  expect(err, String(err)).to.be.instanceOf(APIError);
  return err as APIError;
}

/** The error body's `error` object of an SDK error. */
function errorOf(err: APIError): { message: string; type: string; code: string | null } {
  return err.error as { message: string; type: string; code: string | null };
}

describe('resilience (end to end): OpenAI SDK → gateway with routing plugins → fake upstreams', function () {
  this.timeout(30_000);
  let alpha: FakeOpenAI;
  let beta: FakeOpenAI;
  let gamma: FakeOpenAI;
  let all: FakeOpenAI[];

  before(async () => {
    alpha = await FakeOpenAI.start({ name: 'alpha', reply: ALPHA, chunkCount: 4 });
    beta = await FakeOpenAI.start({ name: 'beta', reply: BETA, chunkCount: 4 });
    gamma = await FakeOpenAI.start({ name: 'gamma', reply: GAMMA, chunkCount: 4 });
    all = [alpha, beta, gamma];
  });
  after(async () => {
    await Promise.all((all ?? []).map((f) => f.close()));
  });
  beforeEach(() => {
    for (const f of all) f.reset();
  });

  /** Requests each fake received, as [alpha, beta, gamma]. */
  function counts(): number[] {
    return all.map((f) => f.requests.length);
  }

  describe('without a circuit breaker', function () {
    let gw: Gateway;
    let logs: LogCapture;

    before(async () => {
      logs = new LogCapture('info');
      gw = await startResGateway({ logs });
    });
    after(async () => {
      await gw?.close(0);
    });
    afterEach(async () => {
      // Whatever a test did, the next one starts with quiet upstreams.
      await expectIdle(all, 5000);
    });

    // ---------------------------------------------------------------------------------------------
    describe('retries', function () {
      it('429 with retry-after-ms: 50, then success: one retry, after waiting at least that long', async () => {
        alpha.enqueue({ kind: 'status', status: 429, headers: { 'retry-after-ms': '50' } });
        const c = client(gw, leaf(alpha, { retry: { attempts: 3 } }));
        const { value, ms } = await timed(() => chat(c).withResponse());
        expect(value.response.status).to.equal(200);
        expect(value.data.choices[0]!.message.content).to.equal(ALPHA);
        expect(value.response.headers.get('x-waygate-target')).to.equal('config');
        expect(value.response.headers.get('x-waygate-provider')).to.equal('openai');
        expect(value.response.headers.get('x-waygate-retry-count')).to.equal('1');
        expect(counts()).to.deep.equal([2, 0, 0]);
        expect(ms, 'waited for retry-after-ms').to.be.at.least(45);
        await expectIdle(all);
      });

      it('429 with retry-after: 1 (seconds), then success: the retry waits about a second', async () => {
        alpha.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
        const c = client(gw, leaf(alpha, { retry: { attempts: 2 } }));
        const { value, ms } = await timed(() => chat(c).withResponse());
        expect(value.response.status).to.equal(200);
        expect(value.data.choices[0]!.message.content).to.equal(ALPHA);
        expect(value.response.headers.get('x-waygate-retry-count')).to.equal('1');
        expect(counts()).to.deep.equal([2, 0, 0]);
        expect(ms, 'waited for retry-after').to.be.at.least(900);
        await expectIdle(all);
      });

      it('500, 502, 503 then success with retry {attempts: 3}: four attempts, 200, retry count 3', async () => {
        alpha.enqueue({ kind: 'status', status: 500 }, { kind: 'status', status: 502 }, { kind: 'status', status: 503 });
        const c = client(gw, leaf(alpha, { retry: { attempts: 3 } }));
        const { data, response } = await chat(c).withResponse();
        expect(response.status).to.equal(200);
        expect(data.choices[0]!.message.content).to.equal(ALPHA);
        expect(response.headers.get('x-waygate-target')).to.equal('config');
        expect(response.headers.get('x-waygate-retry-count')).to.equal('3');
        expect(counts()).to.deep.equal([4, 0, 0]);
        await expectIdle(all);
      });

      it('retries exhausted: the last upstream status, retry count = attempts (Portkey: -1)', async () => {
        const config = leaf(alpha, { retry: { attempts: 3 } });
        alpha.enqueue(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503 })));
        const err = apiError(await rejection(chat(client(gw, config))));
        expect(err).to.be.instanceOf(InternalServerError);
        expect(err.status).to.equal(503);
        expect(errorOf(err).message).to.match(/overloaded/);
        expect(err.headers?.get('x-waygate-target')).to.equal('config');
        expect(err.headers?.get('x-waygate-retry-count')).to.equal('3');
        expect(counts()).to.deep.equal([4, 0, 0]);

        // The same in Portkey's dialect: the retry-attempt count says -1 when retries ran out.
        alpha.enqueue(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503 })));
        const perr = apiError(await rejection(chat(client(gw, config, { dialect: 'portkey' }))));
        expect(perr.status).to.equal(503);
        expect(perr.headers?.get('x-portkey-retry-attempt-count')).to.equal('-1');
        expect(perr.headers?.get('x-portkey-last-used-option-index')).to.equal('config');
        expect(perr.headers?.get('x-waygate-retry-count')).to.equal('3');
        expect(counts()).to.deep.equal([8, 0, 0]);
        await expectIdle(all);
      });

      it('a 400 is not retried', async () => {
        alpha.enqueue({
          kind: 'status',
          status: 400,
          body: { error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: null } },
        });
        const err = apiError(await rejection(chat(client(gw, leaf(alpha, { retry: { attempts: 3 } })))));
        expect(err).to.be.instanceOf(BadRequestError);
        expect(err.status).to.equal(400);
        expect(errorOf(err).message).to.equal('bad temperature');
        expect(err.headers?.get('x-waygate-retry-count')).to.equal('0');
        expect(counts()).to.deep.equal([1, 0, 0]);
        await expectIdle(all);
      });

      it('retry.on_status_codes restricts what is retried: [429] does not retry a 500, does retry a 429', async () => {
        const c = client(gw, leaf(alpha, { retry: { attempts: 3, on_status_codes: [429] } }));
        alpha.enqueue({ kind: 'status', status: 500 });
        const err = apiError(await rejection(chat(c)));
        expect(err.status).to.equal(500);
        expect(err.headers?.get('x-waygate-retry-count')).to.equal('0');
        expect(counts()).to.deep.equal([1, 0, 0]);

        alpha.enqueue({ kind: 'status', status: 429 });
        const { response } = await chat(c).withResponse();
        expect(response.status).to.equal(200);
        expect(response.headers.get('x-waygate-retry-count')).to.equal('1');
        expect(counts()).to.deep.equal([3, 0, 0]);
        await expectIdle(all);
      });

      it('a connection reset is retried', async () => {
        alpha.enqueue({ kind: 'reset' });
        const { data, response } = await chat(client(gw, leaf(alpha, { retry: { attempts: 2 } }))).withResponse();
        expect(response.status).to.equal(200);
        expect(data.choices[0]!.message.content).to.equal(ALPHA);
        expect(response.headers.get('x-waygate-retry-count')).to.equal('1');
        expect(counts()).to.deep.equal([2, 0, 0]);
        await expectIdle(all);
      });

      it('a refused port is retried, then the fallback target answers', async () => {
        const closed = `http://127.0.0.1:${await freePort()}/v1`;
        const config = fallback([leaf(closed, { retry: { attempts: 2 } }), leaf(beta)]);
        const { data, response } = await chat(client(gw, config)).withResponse();
        expect(response.status).to.equal(200);
        expect(data.choices[0]!.message.content).to.equal(BETA);
        expect(response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        expect(response.headers.get('x-waygate-retry-count'), 'retries made on the refused target').to.equal('2');
        expect(counts()).to.deep.equal([0, 1, 0]);
        // The request's log line counts the attempts: 3 on the refused port, 1 on beta.
        const line = await logs.requestLine(response.headers.get('x-waygate-request-id')!);
        expect(line.attempts).to.equal(4);
        expect(line.target).to.equal('config.targets[1]');
        await expectIdle(all);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('fallback', function () {
      it('the first target answers 503: the second answers (x-waygate-target / x-portkey-last-used-option-index config.targets[1])', async () => {
        const config = fallback([leaf(alpha), leaf(beta)]);
        alpha.enqueue({ kind: 'status', status: 503 });
        const { data, response } = await chat(client(gw, config)).withResponse();
        expect(response.status).to.equal(200);
        expect(data.choices[0]!.message.content).to.equal(BETA);
        expect(response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        expect(response.headers.get('x-waygate-provider')).to.equal('openai');
        expect(response.headers.get('x-waygate-retry-count')).to.equal('0');
        expect(counts()).to.deep.equal([1, 1, 0]);

        alpha.enqueue({ kind: 'status', status: 503 });
        const pk = await chat(client(gw, config, { dialect: 'portkey' })).withResponse();
        expect(pk.response.status).to.equal(200);
        expect(pk.data.choices[0]!.message.content).to.equal(BETA);
        expect(pk.response.headers.get('x-portkey-last-used-option-index')).to.equal('config.targets[1]');
        expect(pk.response.headers.get('x-portkey-retry-attempt-count')).to.equal('0');
        expect(pk.response.headers.get('x-portkey-provider')).to.equal('openai');
        expect(counts()).to.deep.equal([2, 2, 0]);

        // A healthy first target answers itself.
        const ok = await chat(client(gw, config)).withResponse();
        expect(ok.data.choices[0]!.message.content).to.equal(ALPHA);
        expect(ok.response.headers.get('x-waygate-target')).to.equal('config.targets[0]');
        expect(counts()).to.deep.equal([3, 2, 0]);
        await expectIdle(all);
      });

      it('strategy.on_status_codes [429]: a 500 does not fall back (the 500 is returned); a 429 does', async () => {
        const config: ConfigNode = { strategy: { mode: 'fallback', on_status_codes: [429] }, targets: [leaf(alpha), leaf(beta)] };
        alpha.enqueue({ kind: 'status', status: 500 });
        const err = apiError(await rejection(chat(client(gw, config))));
        expect(err.status).to.equal(500);
        expect(err.headers?.get('x-waygate-target')).to.equal('config.targets[0]');
        expect(counts()).to.deep.equal([1, 0, 0]);

        alpha.enqueue({ kind: 'status', status: 429 });
        const { data, response } = await chat(client(gw, config)).withResponse();
        expect(data.choices[0]!.message.content).to.equal(BETA);
        expect(response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        expect(counts()).to.deep.equal([2, 1, 0]);
        await expectIdle(all);
      });

      it("moves on only after the first target's retries are spent: attempts+1 calls on the first, 1 on the second", async () => {
        const config = fallback([leaf(alpha), leaf(beta)], { retry: { attempts: 2 } });
        alpha.enqueue(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 503 })));
        const { data, response } = await chat(client(gw, config, { dialect: 'portkey' })).withResponse();
        expect(response.status).to.equal(200);
        expect(data.choices[0]!.message.content).to.equal(BETA);
        expect(response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        expect(response.headers.get('x-portkey-last-used-option-index')).to.equal('config.targets[1]');
        expect(response.headers.get('x-waygate-retry-count')).to.equal('2');
        // The answer came from the second target, not from exhausted retries.
        expect(response.headers.get('x-portkey-retry-attempt-count')).to.equal('2');
        expect(counts()).to.deep.equal([3, 1, 0]);
        await expectIdle(all);
      });

      it('every target fails: the last target’s error is returned', async () => {
        const config = fallback([leaf(alpha), leaf(beta)]);
        alpha.enqueue({ kind: 'status', status: 503 });
        beta.enqueue({ kind: 'status', status: 502 });
        const err = apiError(await rejection(chat(client(gw, config))));
        expect(err.status).to.equal(502);
        expect(err.headers?.get('x-waygate-target')).to.equal('config.targets[1]');
        expect(counts()).to.deep.equal([1, 1, 0]);
        await expectIdle(all);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('timeouts', function () {
      it('slow first byte with request_timeout 200 → 408 upstream_timeout, and the upstream call is aborted', async () => {
        alpha.enqueue({ kind: 'delay', ms: 5000 });
        const { value: err, ms } = await timed(() => rejection(chat(client(gw, leaf(alpha, { request_timeout: 200 })))));
        const e = apiError(err);
        expect(e.status).to.equal(408);
        expect(errorOf(e).code).to.equal('upstream_timeout');
        expect(e.headers?.get('x-waygate-target')).to.equal('config');
        expect(ms).to.be.at.least(180);
        expect(ms).to.be.below(4000);
        expect(counts()).to.deep.equal([1, 0, 0]);
        await expectIdle(all);
        expect(alpha.requests[0]!.aborted, 'the gateway gave up on the slow upstream').to.equal(true);
      });

      it('slow first byte with request_timeout 200 and retry {attempts: 1}: the retry answers', async () => {
        alpha.enqueue({ kind: 'delay', ms: 5000 });
        const { data, response } = await chat(client(gw, leaf(alpha, { request_timeout: 200, retry: { attempts: 1 } }))).withResponse();
        expect(response.status).to.equal(200);
        expect(data.choices[0]!.message.content).to.equal(ALPHA);
        expect(response.headers.get('x-waygate-retry-count')).to.equal('1');
        expect(counts()).to.deep.equal([2, 0, 0]);
        await expectIdle(all);
        expect(alpha.requests[0]!.aborted).to.equal(true);
      });

      it('slow first byte with request_timeout 200 in a fallback → the next target answers', async () => {
        alpha.enqueue({ kind: 'delay', ms: 5000 });
        const config = fallback([leaf(alpha), leaf(beta)], { request_timeout: 200 });
        const { value, ms } = await timed(() => chat(client(gw, config)).withResponse());
        expect(value.response.status).to.equal(200);
        expect(value.data.choices[0]!.message.content).to.equal(BETA);
        expect(value.response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        expect(ms).to.be.at.least(180);
        expect(counts()).to.deep.equal([1, 1, 0]);
        await expectIdle(all);
        expect(alpha.requests[0]!.aborted).to.equal(true);
      });

      it('a stream that stalls before any content, with request_timeout → falls back to the next target', async () => {
        alpha.enqueue({ kind: 'stream-stall', afterChunks: 0 });
        const config = fallback([leaf(alpha), leaf(beta)], { request_timeout: 300 });
        const res = await chatStream(client(gw, config, { dialect: 'portkey' })).asResponse();
        expect(res.status).to.equal(200);
        expect(res.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        expect(res.headers.get('x-portkey-last-used-option-index')).to.equal('config.targets[1]');
        expect(res.headers.get('x-portkey-retry-attempt-count')).to.equal('0');
        const s = await readStream(res);
        expect(s.error).to.equal(undefined);
        expect(s.roleChunks, s.text).to.equal(1);
        expect(s.content).to.equal(BETA);
        expect(s.done).to.equal(true);
        expect(s.terminalError).to.equal(undefined);
        expect(counts()).to.deep.equal([1, 1, 0]);
        await expectIdle(all);
        expect(alpha.requests[0]!.aborted).to.equal(true);
      });

      it('a stream that stalls after content, with stream_idle_timeout 300: the content, then a terminal error event (no [DONE])', async () => {
        alpha.enqueue({ kind: 'stream-stall', afterChunks: 2 });
        const config = fallback([leaf(alpha), leaf(beta)], { stream_idle_timeout: 300 });
        const t0 = performance.now();
        const res = await chatStream(client(gw, config)).asResponse();
        expect(res.status).to.equal(200);
        expect(res.headers.get('x-waygate-target')).to.equal('config.targets[0]');
        const s = await readStream(res);
        const ms = performance.now() - t0;
        expect(s.roleChunks).to.equal(1);
        expect(s.content.length).to.be.greaterThan(0);
        expect(ALPHA.startsWith(s.content), `${JSON.stringify(s.content)} starts the reply`).to.equal(true);
        expect(s.content).to.not.equal(ALPHA);
        expect(s.done).to.equal(false);
        expect(s.data).to.not.include('[DONE]');
        expect(s.terminalError?.code, s.text).to.equal('stream_interrupted');
        expect(s.data.at(-1), 'the error is the last event').to.match(/^\{"error"/);
        expect(ms, 'ended by the idle timeout').to.be.at.least(250);
        expect(ms, 'ended within about a second').to.be.below(2500);
        expect(counts(), 'no fallback once content went out').to.deep.equal([1, 0, 0]);
        await expectIdle(all);

        // The SDK sees the chunks, then an error.
        alpha.enqueue({ kind: 'stream-stall', afterChunks: 2 });
        const stream = await chatStream(client(gw, config));
        let text = '';
        const err = await rejection(
          (async () => {
            for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
          })(),
        );
        expect(err).to.be.instanceOf(APIError);
        expect(text).to.equal(s.content);
        await expectIdle(all);
      });

      it('deadline 300 over a chain of slow targets → 408 deadline_exceeded, and no upstream still running', async () => {
        for (const f of all) f.enqueue({ kind: 'delay', ms: 5000 });
        const config = fallback([leaf(alpha), leaf(beta), leaf(gamma)], { deadline: 300 });
        const { value: err, ms } = await timed(() => rejection(chat(client(gw, config))));
        const e = apiError(err);
        expect(e.status).to.equal(408);
        expect(errorOf(e).code).to.equal('deadline_exceeded');
        expect(ms).to.be.at.least(280);
        expect(ms, 'the deadline, not the upstreams, ended the request').to.be.below(3000);
        expect(alpha.requests.length).to.equal(1);
        await expectIdle(all);
        for (const f of all) for (const r of f.requests) expect(r.aborted, `${f.url} request aborted`).to.equal(true);
      });

      it('deadline 300 on a single slow target → 408 deadline_exceeded', async () => {
        alpha.enqueue({ kind: 'delay', ms: 5000 });
        const { value: err, ms } = await timed(() => rejection(chat(client(gw, leaf(alpha, { deadline: 300 })))));
        const e = apiError(err);
        expect(e.status).to.equal(408);
        expect(errorOf(e).code, 'the deadline ended the request, whichever attempt it cut short').to.equal('deadline_exceeded');
        expect(ms).to.be.at.least(280);
        expect(ms).to.be.below(3000);
        expect(counts()).to.deep.equal([1, 0, 0]);
        await expectIdle(all);
        expect(alpha.requests[0]!.aborted).to.equal(true);
      });

      it('a Retry-After wait that would outlast the deadline is not started: 408 deadline_exceeded at once (retry README)', async () => {
        alpha.enqueue({ kind: 'status', status: 429, headers: { 'retry-after-ms': '2000' } });
        const config = leaf(alpha, { retry: { attempts: 3 }, deadline: 500 });
        const { value: err, ms } = await timed(() => rejection(chat(client(gw, config))));
        const e = apiError(err);
        expect(e.status, `code ${errorOf(e).code}`).to.equal(408);
        expect(errorOf(e).code).to.equal('deadline_exceeded');
        expect(ms, 'the wait was never started').to.be.below(450);
        expect(counts()).to.deep.equal([1, 0, 0]);
        await expectIdle(all);
      });

      it('with a fallback, such a wait is skipped for the next target, which answers at once', async () => {
        alpha.enqueue({ kind: 'status', status: 429, headers: { 'retry-after-ms': '2000' } });
        const config = fallback([leaf(alpha, { retry: { attempts: 3 } }), leaf(beta)], { deadline: 1000 });
        const { value, ms } = await timed(() => chat(client(gw, config)).withResponse());
        expect(value.data.choices[0]!.message.content).to.equal(BETA);
        expect(value.response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        expect(ms).to.be.below(900);
        expect(counts()).to.deep.equal([1, 1, 0]);
        await expectIdle(all);
      });

      it('the x-waygate-deadline header bounds retries and fallbacks together → 408 deadline_exceeded', async () => {
        alpha.enqueue(...Array.from({ length: 10 }, () => ({ kind: 'delay' as const, ms: 5000 })));
        beta.enqueue({ kind: 'delay', ms: 5000 });
        const config = fallback([leaf(alpha, { retry: { attempts: 5 } }), leaf(beta)], { request_timeout: 100 });
        const { value: err, ms } = await timed(() => rejection(chat(client(gw, config, { headers: { 'x-waygate-deadline': '350' } }))));
        const e = apiError(err);
        expect(e.status).to.equal(408);
        expect(errorOf(e).code).to.equal('deadline_exceeded');
        expect(ms).to.be.at.least(330);
        expect(ms).to.be.below(3000);
        // 100 ms attempts within 350 ms: three whole ones and one the deadline cut short.
        expect(alpha.requests.length).to.be.within(3, 5);
        await expectIdle(all);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('stream-safe fallback', function () {
      it('200 then a cut before any content → the next target’s full stream; the client saw one role chunk, no mixed streams', async () => {
        alpha.enqueue({ kind: 'stream-cut', afterChunks: 0 });
        const res = await chatStream(client(gw, fallback([leaf(alpha), leaf(beta)]))).asResponse();
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
        expect(res.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        const s = await readStream(res);
        expect(s.roleChunks, s.text).to.equal(1);
        expect(s.content).to.equal(BETA);
        expect(new Set(s.chunks.map((c) => c.id)).size, 'one completion id: one upstream stream').to.equal(1);
        expect(s.done).to.equal(true);
        expect(s.terminalError).to.equal(undefined);
        expect(counts()).to.deep.equal([1, 1, 0]);
        await expectIdle(all);
      });

      it('200 then a cut before any content on a single target with retry: the retry’s full stream, one role chunk', async () => {
        alpha.enqueue({ kind: 'stream-cut', afterChunks: 0 });
        const res = await chatStream(client(gw, leaf(alpha, { retry: { attempts: 1 } }))).asResponse();
        expect(res.status).to.equal(200);
        expect(res.headers.get('x-waygate-retry-count')).to.equal('1');
        const s = await readStream(res);
        expect(s.roleChunks, s.text).to.equal(1);
        expect(s.content).to.equal(ALPHA);
        expect(s.done).to.equal(true);
        expect(counts()).to.deep.equal([2, 0, 0]);
        await expectIdle(all);
      });

      it('200 whose first event is an error → falls back; the SDK reads the next target’s answer', async () => {
        alpha.enqueue({ kind: 'stream-error', afterChunks: 0 });
        const { data: stream, response } = await chatStream(client(gw, fallback([leaf(alpha), leaf(beta)]))).withResponse();
        expect(response.status).to.equal(200);
        expect(response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        let text = '';
        let roles = 0;
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta.content ?? '';
          if (chunk.choices[0]?.delta.role) roles++;
        }
        expect(text).to.equal(BETA);
        expect(roles).to.equal(1);
        expect(counts()).to.deep.equal([1, 1, 0]);
        await expectIdle(all);
      });

      it('malformed SSE as the first event after the role chunk: nothing reached the client yet, so it falls back', async () => {
        // Headers are held until the first content event (design section 7); a malformed event before
        // that is a failed attempt (upstream_bad_response), like a cut or an error event.
        alpha.enqueue({ kind: 'malformed-sse', afterChunks: 0 });
        const res = await chatStream(client(gw, fallback([leaf(alpha), leaf(beta)]))).asResponse();
        expect(res.status).to.equal(200);
        expect(res.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        const s = await readStream(res);
        expect(s.roleChunks).to.equal(1);
        expect(s.data, s.text).to.not.include('this is not JSON');
        expect(s.done).to.equal(true);
        expect(s.terminalError).to.equal(undefined);
        expect(counts()).to.deep.equal([1, 1, 0]);
        await expectIdle(all);
      });

      it('a cut after content (2 chunks): those chunks, then a terminal error event, never a clean close, and no fallback', async () => {
        alpha.enqueue({ kind: 'stream-cut', afterChunks: 2 });
        const res = await chatStream(client(gw, fallback([leaf(alpha), leaf(beta)]))).asResponse();
        expect(res.status).to.equal(200);
        expect(res.headers.get('x-waygate-target')).to.equal('config.targets[0]');
        const s = await readStream(res);
        expect(s.data, s.text).to.have.length(4); // role chunk, 2 content chunks, the error
        expect(s.roleChunks).to.equal(1);
        expect(s.content.length).to.be.greaterThan(0);
        expect(ALPHA.startsWith(s.content)).to.equal(true);
        expect(s.content).to.not.equal(ALPHA);
        expect(s.data).to.not.include('[DONE]');
        expect(s.terminalError?.code).to.equal('stream_interrupted');
        expect(counts(), 'the second target gets no request').to.deep.equal([1, 0, 0]);
        await expectIdle(all);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('cancellation', function () {
      it('the client aborts during a retry backoff (retry-after-ms 2000): no further upstream attempt', async () => {
        alpha.enqueue({ kind: 'status', status: 429, headers: { 'retry-after-ms': '2000' } });
        const trace = `res-abort-backoff-${Date.now()}`;
        const ctrl = new AbortController();
        const c = client(gw, leaf(alpha, { retry: { attempts: 3 } }), { headers: { 'x-waygate-trace-id': trace } });
        const pending = rejection(chat(c, { signal: ctrl.signal }));
        await alpha.waitForRequests(1);
        await sleep(100);
        ctrl.abort();
        expect(await pending).to.be.instanceOf(APIUserAbortError);
        await sleep(2500);
        expect(counts(), 'no attempt after the abort').to.deep.equal([1, 0, 0]);
        await expectIdle(all);
        // The gateway logged the request as closed by the client.
        const line = await logs.waitFor((r) => r.msg === 'request' && r.traceId === trace, `request line for ${trace}`);
        expect(line.status).to.equal(499);
      });

      it('the client aborts mid-stream: the upstream request is aborted at once', async () => {
        // The upstream stalls after two content chunks: only the abort can end its request.
        alpha.enqueue({ kind: 'stream-stall', afterChunks: 2 });
        const ctrl = new AbortController();
        const stream = await chatStream(client(gw, fallback([leaf(alpha), leaf(beta)])), { signal: ctrl.signal });
        let text = '';
        // The SDK ends the iteration quietly when its own signal aborts it.
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta.content ?? '';
          if (text.length > 0) ctrl.abort();
        }
        expect(ctrl.signal.aborted).to.equal(true);
        expect(text.length).to.be.greaterThan(0);
        await expectIdle(all);
        expect(alpha.requests[0]!.aborted, 'the gateway aborted the upstream request').to.equal(true);
        expect(counts(), 'no fallback after the client left').to.deep.equal([1, 0, 0]);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('loadbalance', function () {
      it('weights 1:3 over 1000 requests: the split is 1:3 (share 0.75 ± 0.07)', async () => {
        const config: ConfigNode = { strategy: { mode: 'loadbalance' }, targets: [leaf(alpha, { weight: 1 }), leaf(beta, { weight: 3 })] };
        const c = client(gw, config);
        const N = 1000;
        const seen: Record<string, number> = {};
        for (let i = 0; i < N; i += 50) {
          const batch = await Promise.all(Array.from({ length: Math.min(50, N - i) }, () => chat(c).withResponse()));
          for (const { response } of batch) {
            const t = response.headers.get('x-waygate-target')!;
            seen[t] = (seen[t] ?? 0) + 1;
          }
        }
        expect(Object.keys(seen).sort()).to.deep.equal(['config.targets[0]', 'config.targets[1]']);
        expect(alpha.requests.length).to.equal(seen['config.targets[0]']);
        expect(beta.requests.length).to.equal(seen['config.targets[1]']);
        expect(alpha.requests.length + beta.requests.length).to.equal(N);
        // σ of the share is √(0.75·0.25/1000) ≈ 0.014: ±0.07 is 5σ, and excludes 1:2 (0.667) and 1:1.
        const share = beta.requests.length / N;
        expect(share, `beta's share ${share}`).to.be.within(0.68, 0.82);
        await expectIdle(all);
      });

      it('weights all 0 → 400, and no upstream is called', async () => {
        const config: ConfigNode = { strategy: { mode: 'loadbalance' }, targets: [leaf(alpha, { weight: 0 }), leaf(beta, { weight: 0 })] };
        const err = apiError(await rejection(chat(client(gw, config))));
        expect(err).to.be.instanceOf(BadRequestError);
        expect(err.status).to.equal(400);
        expect(errorOf(err).message).to.match(/weight/i);
        expect(counts()).to.deep.equal([0, 0, 0]);
      });

      describe('policies that read statistics (a fast upstream and one that answers 200 ms late)', function () {
        let fast: FakeOpenAI;
        let slow: FakeOpenAI;
        beforeEach(async () => {
          // Fresh upstreams per test: the balancer's statistics are per target, for the gateway's life.
          fast = await FakeOpenAI.start({ name: 'fast', reply: 'fast' });
          slow = await FakeOpenAI.start({ name: 'slow', reply: 'slow', latencyMs: 200 });
        });
        afterEach(async () => {
          await expectIdle([fast, slow], 5000);
          await Promise.all([fast.close(), slow.close()]);
        });

        it('policy least_latency sends most traffic to the faster upstream', async () => {
          const config: ConfigNode = { strategy: { mode: 'loadbalance', policy: 'least_latency' }, targets: [leaf(slow), leaf(fast)] };
          const c = client(gw, config);
          for (let i = 0; i < 30; i++) await chat(c);
          expect(fast.requests.length + slow.requests.length).to.equal(30);
          expect(fast.requests.length, `fast ${fast.requests.length} / slow ${slow.requests.length}`).to.be.at.least(20);
        });

        it('policy least_inflight sends most traffic to the faster upstream under concurrency', async () => {
          const config: ConfigNode = { strategy: { mode: 'loadbalance', policy: 'least_inflight' }, targets: [leaf(slow), leaf(fast)] };
          const c = client(gw, config);
          let left = 120;
          const worker = async () => {
            while (left-- > 0) await chat(c);
          };
          await Promise.all(Array.from({ length: 6 }, worker));
          expect(fast.requests.length + slow.requests.length).to.equal(120);
          expect(fast.requests.length, `fast ${fast.requests.length} / slow ${slow.requests.length}`).to.be.at.least(80);
        });
      });

      it('a zero weight is never picked', async () => {
        const config: ConfigNode = { strategy: { mode: 'loadbalance' }, targets: [leaf(alpha, { weight: 0 }), leaf(beta, { weight: 1 })] };
        const c = client(gw, config);
        for (let i = 0; i < 40; i++) await chat(c);
        expect(counts()).to.deep.equal([0, 40, 0]);
      });
    });

    describe('single', function () {
      it('strategy single always uses the first target, and does not fall back', async () => {
        const config: ConfigNode = { strategy: { mode: 'single' }, targets: [leaf(alpha), leaf(beta)] };
        const { data, response } = await chat(client(gw, config)).withResponse();
        expect(data.choices[0]!.message.content).to.equal(ALPHA);
        expect(response.headers.get('x-waygate-target')).to.equal('config.targets[0]');
        alpha.enqueue({ kind: 'status', status: 503 });
        const err = apiError(await rejection(chat(client(gw, config))));
        expect(err.status).to.equal(503);
        expect(counts()).to.deep.equal([2, 0, 0]);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('conditional', function () {
      const routes = (extra: Partial<ConfigNode['strategy']> = {}): ConfigNode => ({
        strategy: {
          mode: 'conditional',
          conditions: [
            { query: { 'metadata.tier': { $eq: 'pro' } }, then: 'pro' },
            { query: { 'params.model': { $eq: 'gpt-4o' } }, then: 'big' },
          ],
          ...extra,
        } as ConfigNode['strategy'],
        targets: [
          { ...leaf(alpha), name: 'pro' },
          { ...leaf(beta), name: 'big' },
          { ...leaf(gamma), name: 'basic' },
        ],
      });

      it('metadata: x-portkey-metadata {"tier":"pro"} routes to the "pro" target', async () => {
        const c = client(gw, routes({ default: 'basic' }), { dialect: 'portkey', headers: { 'x-portkey-metadata': JSON.stringify({ tier: 'pro' }) } });
        const { data, response } = await chat(c).withResponse();
        expect(data.choices[0]!.message.content).to.equal(ALPHA);
        expect(response.headers.get('x-portkey-last-used-option-index')).to.equal('config.targets[0]');
        expect(response.headers.get('x-waygate-target')).to.equal('config.targets[0]');
        expect(counts()).to.deep.equal([1, 0, 0]);
      });

      it('params: the request body (params.model gpt-4o) routes to the "big" target', async () => {
        const c = client(gw, routes({ default: 'basic' }), { headers: { 'x-waygate-metadata': JSON.stringify({ tier: 'free' }) } });
        const { data, response } = await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
        expect(data.choices[0]!.message.content).to.equal(BETA);
        expect(response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        expect(counts()).to.deep.equal([0, 1, 0]);
        expect(beta.requests[0]!.body.model).to.equal('gpt-4o');
      });

      it('no condition matches: the default target answers', async () => {
        const c = client(gw, routes({ default: 'basic' }), { headers: { 'x-waygate-metadata': JSON.stringify({ tier: 'free' }) } });
        const { data, response } = await chat(c).withResponse();
        expect(data.choices[0]!.message.content).to.equal(GAMMA);
        expect(response.headers.get('x-waygate-target')).to.equal('config.targets[2]');
        expect(counts()).to.deep.equal([0, 0, 1]);
      });

      it('no condition matches and there is no default → 400, and no upstream is called', async () => {
        const err = apiError(await rejection(chat(client(gw, routes()))));
        expect(err).to.be.instanceOf(BadRequestError);
        expect(err.status).to.equal(400);
        expect(errorOf(err).code).to.equal('invalid_config');
        expect(errorOf(err).message).to.match(/no condition matched/);
        expect(counts()).to.deep.equal([0, 0, 0]);
      });

      it('nested: a conditional branch that is a fallback whose first target is a loadbalance', async () => {
        const config: ConfigNode = {
          strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.tier': 'pro' }, then: 'pro' }], default: 'free' },
          targets: [
            {
              name: 'pro',
              strategy: { mode: 'fallback' },
              targets: [{ strategy: { mode: 'loadbalance' }, targets: [leaf(alpha), leaf(beta)] }, leaf(gamma)],
            },
            { name: 'free', ...leaf(gamma), override_params: { model: 'free-model' } },
          ],
        };
        const pro = client(gw, config, { headers: { 'x-waygate-metadata': JSON.stringify({ tier: 'pro' }) } });

        // Healthy: the loadbalance picks alpha or beta.
        const ok = await chat(pro).withResponse();
        expect(ok.response.headers.get('x-waygate-target')).to.be.oneOf([
          'config.targets[0].targets[0].targets[0]',
          'config.targets[0].targets[0].targets[1]',
        ]);
        expect(ok.data.choices[0]!.message.content).to.be.oneOf([ALPHA, BETA]);
        expect(alpha.requests.length + beta.requests.length).to.equal(1);
        expect(gamma.requests.length).to.equal(0);

        // Both balanced targets failing: the fallback moves on to gamma.
        for (const f of all) f.reset();
        alpha.enqueue({ kind: 'status', status: 503 });
        beta.enqueue({ kind: 'status', status: 503 });
        const fb = await chat(pro).withResponse();
        expect(fb.data.choices[0]!.message.content).to.equal(GAMMA);
        expect(fb.response.headers.get('x-waygate-target')).to.equal('config.targets[0].targets[1]');
        expect(alpha.requests.length + beta.requests.length, 'the loadbalance plans one of its targets').to.equal(1);
        expect(gamma.requests.length).to.equal(1);
        expect(gamma.requests[0]!.body.model).to.equal('gpt-4o-mini');

        // Another tier takes the default branch.
        for (const f of all) f.reset();
        const free = await chat(client(gw, config, { headers: { 'x-waygate-metadata': JSON.stringify({ tier: 'free' }) } })).withResponse();
        expect(free.response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
        expect(counts()).to.deep.equal([0, 0, 1]);
        expect(gamma.requests[0]!.body.model).to.equal('free-model');
        await expectIdle(all);
      });
    });
  });

  // -----------------------------------------------------------------------------------------------
  describe('circuit breaker (opt-in plugin)', function () {
    let gw: Gateway;
    const COOLDOWN_MS = 400;
    const THRESHOLD = 3;

    before(async () => {
      gw = await startResGateway({ breaker: { failureThreshold: THRESHOLD, cooldownMs: COOLDOWN_MS } });
    });
    after(async () => {
      await gw?.close(0);
    });
    afterEach(async () => {
      await expectIdle(all, 5000);
    });

    /** Breaker state is per target (provider, URL, key): a key per test keeps tests apart. */
    let n = 0;
    function keyed(config: ConfigNode): { c: (extra?: ConfigNode) => OpenAI; key: string } {
      const key = `${KEY}-breaker-${++n}`;
      return { key, c: (other = config) => client(gw, other, { client: { apiKey: key } }) };
    }

    async function openCircuit(c: OpenAI): Promise<void> {
      alpha.enqueue(...Array.from({ length: THRESHOLD }, () => ({ kind: 'status' as const, status: 503 })));
      for (let i = 0; i < THRESHOLD; i++) {
        const err = apiError(await rejection(chat(c)));
        expect(err.status, `failure ${i + 1}`).to.equal(503);
        expect(errorOf(err).code, 'the upstream answered').to.not.equal('no_available_target');
      }
      expect(alpha.requests.length).to.equal(THRESHOLD);
    }

    it(`${THRESHOLD} consecutive 503s open the circuit: a single target then answers 503 no_available_target without calling the upstream`, async () => {
      const { c } = keyed(leaf(alpha));
      await openCircuit(c());
      const err = apiError(await rejection(chat(c())));
      expect(err.status).to.equal(503);
      expect(errorOf(err).code).to.equal('no_available_target');
      expect(alpha.requests.length, 'the open circuit kept the request away').to.equal(THRESHOLD);
      await expectIdle(all);
    });

    it('while open, a fallback goes straight to the second target', async () => {
      const { c } = keyed(leaf(alpha));
      await openCircuit(c());
      const { data, response } = await chat(c(fallback([leaf(alpha), leaf(beta)]))).withResponse();
      expect(response.status).to.equal(200);
      expect(data.choices[0]!.message.content).to.equal(BETA);
      expect(response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
      expect(counts(), 'alpha skipped').to.deep.equal([THRESHOLD, 1, 0]);
      await expectIdle(all);
    });

    it('after the cooldown a probe goes through, and its success closes the circuit', async () => {
      const { c } = keyed(leaf(alpha));
      await openCircuit(c());
      expect(apiError(await rejection(chat(c()))).status).to.equal(503);
      expect(alpha.requests.length).to.equal(THRESHOLD);

      await sleep(COOLDOWN_MS + 150);
      const probe = await chat(c()).withResponse();
      expect(probe.response.status).to.equal(200);
      expect(probe.data.choices[0]!.message.content).to.equal(ALPHA);
      expect(alpha.requests.length, 'the probe reached the upstream').to.equal(THRESHOLD + 1);

      // Closed again: requests flow, and the fallback's first target answers.
      for (let i = 0; i < 3; i++) expect((await chat(c())).choices[0]!.message.content).to.equal(ALPHA);
      const fb = await chat(c(fallback([leaf(alpha), leaf(beta)]))).withResponse();
      expect(fb.response.headers.get('x-waygate-target')).to.equal('config.targets[0]');
      expect(counts()).to.deep.equal([THRESHOLD + 5, 0, 0]);
      await expectIdle(all);
    });

    it('after the cooldown a probe that fails opens the circuit again', async () => {
      const { c } = keyed(leaf(alpha));
      await openCircuit(c());
      await sleep(COOLDOWN_MS + 150);
      alpha.enqueue({ kind: 'status', status: 503 });
      const probe = apiError(await rejection(chat(c())));
      expect(probe.status).to.equal(503);
      expect(errorOf(probe).code, 'the probe reached the upstream').to.not.equal('no_available_target');
      expect(alpha.requests.length).to.equal(THRESHOLD + 1);

      const err = apiError(await rejection(chat(c())));
      expect(errorOf(err).code).to.equal('no_available_target');
      expect(alpha.requests.length, 'open again: no request').to.equal(THRESHOLD + 1);
      await expectIdle(all);
    });

    it('a circuit opened for one key does not affect another key on the same upstream', async () => {
      const first = keyed(leaf(alpha));
      await openCircuit(first.c());
      const second = keyed(leaf(alpha));
      const { data } = await chat(second.c()).withResponse();
      expect(data.choices[0]!.message.content).to.equal(ALPHA);
      expect(alpha.requests.length).to.equal(THRESHOLD + 1);
      expect(alpha.requests.at(-1)!.headers.authorization).to.equal(`Bearer ${second.key}`);
    });
  });
});
