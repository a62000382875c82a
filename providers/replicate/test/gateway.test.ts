// The package end to end: a gateway with the OpenAI and Anthropic APIs, the retry policy and this package (loaded by
// its path, as a config names it), in front of a loopback fake that speaks Replicate's wire format.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { createLogger, parseSSE, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { eventually } from '@waygate/core/testing';
import { FakeReplicate } from './fake.js';
import { jsonFixture, sseFixture } from './fixtures.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const KEY = 'r8_test-key-0123456789abcdef';
const MODEL = 'meta/meta-llama-3-8b-instruct';
const STARTING = jsonFixture('prediction-starting');
const SUCCEEDED = jsonFixture('prediction-succeeded');
const FAILED = jsonFixture('prediction-failed');
const PROCESSING = { ...STARTING, status: 'processing' };
const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

/** The chunks of an SSE answer, parsed, and what they add up to. */
async function chunks(text: string): Promise<{ events: string[]; content: string; finish?: string; role?: string; error?: any }> {
  const events: string[] = [];
  for await (const ev of parseSSE(
    (async function* () {
      yield text;
    })(),
  ))
    events.push(ev.data);
  let content = '';
  let finish: string | undefined;
  let role: string | undefined;
  let error: any;
  for (const data of events) {
    if (data === '[DONE]') continue;
    const c = JSON.parse(data);
    if (c.error) error = c.error;
    for (const ch of c.choices ?? []) {
      role ??= ch.delta?.role;
      if (typeof ch.delta?.content === 'string') content += ch.delta.content;
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  return { events, content, finish, role, error };
}

describe('@waygate/provider-replicate in a running gateway', function () {
  this.timeout(20_000);
  let fake: FakeReplicate;
  let gw: Gateway;
  /** Every line the gateway logged, at every level. */
  const logged: string[] = [];

  before(async () => {
    fake = await FakeReplicate.start();
    gw = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: ['@waygate/openai-api', '@waygate/anthropic-messages', '@waygate/retry', THIS_PACKAGE],
        providers: { replicate: { api_key: 'r8_server-key-fedcba9876543210', base_url: `${fake.base}` } },
      },
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'trace', destination: { write: (line: string) => void logged.push(line) } }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const post = (body: Record<string, unknown>, config: Record<string, unknown> = {}, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      signal,
      headers: {
        'content-type': 'application/json',
        'x-waygate-config': JSON.stringify({ provider: 'replicate', api_key: KEY, custom_host: fake.base, ...config }),
        ...headers,
      },
      body: JSON.stringify(body),
    });

  describe('chat completions, not streamed', () => {
    it('sync mode: one create with Prefer: wait answers at once; the output becomes one message, the metrics its usage', async () => {
      fake.create = { body: fake.local(SUCCEEDED) };
      fake.reads = [{ body: fake.local(SUCCEEDED) }];
      const res = await post({ model: MODEL, messages: MESSAGES, max_tokens: 50, temperature: 0.2, top_p: 0.9, stop: ['END'] });
      const json = (await res.json()) as any;
      expect(res.status, JSON.stringify(json)).to.equal(200);
      expect(res.headers.get('x-waygate-provider')).to.equal('replicate');
      expect(json).to.include({ object: 'chat.completion', id: 'gm3qorzdhgbfurvjtvhg6dckhu', model: MODEL });
      expect(json.choices).to.deep.equal([{ index: 0, message: { role: 'assistant', content: 'Hello, wörld!' }, logprobs: null, finish_reason: 'stop' }]);
      expect(json.usage).to.deep.equal({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });

      const [create, ...rest] = fake.requests;
      expect(create).to.include({ method: 'POST', url: `/v1/models/${MODEL}/predictions` });
      expect(create!.headers.authorization).to.equal(`Bearer ${KEY}`);
      expect(create!.headers.prefer).to.equal('wait');
      expect(create!.headers['content-type']).to.equal('application/json');
      expect(JSON.parse(create!.body)).to.deep.equal({
        input: {
          prompt: 'Say hello',
          system_prompt: 'Be brief.',
          max_tokens: 50,
          max_new_tokens: 50,
          temperature: 0.2,
          top_p: 0.9,
          stop_sequences: 'END',
        },
      });
      // The kernel's own call reads the finished prediction once.
      expect(rest.map((r) => `${r.method} ${r.url}`)).to.deep.equal(['GET /v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu']);
      expect(rest[0]!.headers.authorization).to.equal(`Bearer ${KEY}`);
    });

    it('a prediction still starting is polled on urls.get until it succeeds', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.reads = [{ body: fake.local(PROCESSING) }, { body: fake.local(SUCCEEDED) }];
      const res = await post({ model: MODEL, messages: MESSAGES });
      const json = (await res.json()) as any;
      expect(res.status, JSON.stringify(json)).to.equal(200);
      expect(json.choices[0].message.content).to.equal('Hello, wörld!');
      expect(fake.calls('GET', '/v1/predictions/').length).to.be.at.least(3);
      expect(fake.calls('POST', '/v1/').length).to.equal(1);
    });

    /** The gaps between successive reads of the prediction (the first one from its creation), in ms. */
    const gaps = (): number[] => {
      const times = [fake.calls('POST', '/v1/')[0]!.at, ...fake.calls('GET', '/v1/predictions/').map((r) => r.at)];
      return times.slice(1).map((t, i) => t - times[i]!);
    };

    it('polls with a backoff: 250 ms, doubling, at most 2 s', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.reads = [PROCESSING, PROCESSING, PROCESSING, PROCESSING, SUCCEEDED].map((p) => ({ body: fake.local(p) }));
      const res = await post({ model: MODEL, messages: MESSAGES });
      expect(res.status).to.equal(200);
      // five polls, then the kernel's read of the finished prediction (at once)
      const g = gaps();
      expect(g).to.have.length(6);
      // Lower bounds only: a loaded machine can make a wait longer, never shorter than the schedule.
      const want = [250, 500, 1000, 2000, 2000];
      want.forEach((ms, i) => expect(g[i], `poll ${i + 1} after ${Math.round(g[i]!)} ms`).to.be.at.least(ms - 20));
    });

    it('a 429 while polling waits for its Retry-After (or the backoff without one) and polls again', async () => {
      fake.create = { body: fake.local(STARTING) };
      const throttled = (headers: Record<string, string>) => ({
        status: 429,
        headers,
        body: { detail: 'Request was throttled. Expected available in 1 second.', status: 429 },
      });
      fake.reads = [throttled({}), throttled({ 'retry-after': '1' }), { body: fake.local(SUCCEEDED) }];
      const res = await post({ model: MODEL, messages: MESSAGES });
      const json = (await res.json()) as any;
      expect(res.status, JSON.stringify(json)).to.equal(200);
      expect(json.choices[0].message.content).to.equal('Hello, wörld!');
      const g = gaps();
      expect(g[1], 'the backoff after a 429 without Retry-After').to.be.at.least(480);
      expect(g[2], 'Retry-After: 1').to.be.at.least(980);
      expect(fake.calls('POST', '/v1/').length).to.equal(1);
    });

    it('a 429 whose Retry-After passes the request bound is the answer (retryable, retry-after relayed), and the prediction is canceled', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.reads = [
        { status: 429, headers: { 'retry-after': '30' }, body: { detail: 'Request was throttled. Expected available in 30 seconds.', status: 429 } },
      ];
      const started = performance.now();
      const res = await post({ model: MODEL, messages: MESSAGES }, { request_timeout: 5000 });
      const json = (await res.json()) as any;
      expect(res.status, JSON.stringify(json)).to.equal(429);
      expect(performance.now() - started, 'no wait for the 30 s').to.be.below(3000);
      expect(res.headers.get('retry-after')).to.equal('30');
      expect(json.error.message).to.match(/throttled/);
      await eventually(5000, () => fake.calls('POST', '/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel').length === 1, 'the cancel');
    });

    it('owner/name:version creates on /v1/predictions with the version', async () => {
      fake.create = { body: fake.local(SUCCEEDED) };
      fake.reads = [{ body: fake.local(SUCCEEDED) }];
      const version = '5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa';
      const res = await post({ model: `replicate/hello-world:${version}`, messages: [{ role: 'user', content: 'Alice' }] });
      expect(res.status).to.equal(200);
      expect(fake.requests[0]).to.include({ method: 'POST', url: '/v1/predictions' });
      expect(JSON.parse(fake.requests[0]!.body)).to.deep.equal({ version, input: { prompt: 'Alice' } });
    });

    it('a failed prediction is a 502 naming its error, not retried', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.reads = [{ body: fake.local(FAILED) }];
      const res = await post({ model: MODEL, messages: MESSAGES }, { retry: { attempts: 2 } });
      const json = (await res.json()) as any;
      expect(res.status).to.equal(502);
      expect(json.error.message).to.equal('replicate: prediction gm3qorzdhgbfurvjtvhg6dckhu failed: CUDA out of memory. Tried to allocate 2.00 GiB');
      expect(json.error.code).to.equal('upstream_error');
      expect(fake.calls('POST', '/v1/').length, 'one prediction, no retry').to.equal(1);
    });

    it('a prediction that fails at once in sync mode is the same 502, without a read', async () => {
      fake.create = { body: fake.local(FAILED) };
      const res = await post({ model: MODEL, messages: MESSAGES });
      expect(res.status).to.equal(502);
      expect(((await res.json()) as any).error.message).to.match(/CUDA out of memory/);
      expect(fake.requests).to.have.length(1);
    });

    it('a prediction that does not finish within request_timeout is a 408, and is canceled', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.reads = [{ body: fake.local(PROCESSING) }];
      const res = await post({ model: MODEL, messages: MESSAGES }, { request_timeout: 1200 });
      const json = (await res.json()) as any;
      expect(res.status, JSON.stringify(json)).to.equal(408);
      expect(json.error.code).to.equal('upstream_timeout');
      expect(fake.requests[0]!.headers.prefer).to.equal('wait=1');
      await eventually(5000, () => fake.calls('POST', '/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel').length === 1, 'the cancel');
    });

    it('a client that leaves while the prediction runs stops the polling, and the prediction is canceled', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.reads = [{ body: fake.local(PROCESSING) }];
      const ctrl = new AbortController();
      const pending = post({ model: MODEL, messages: MESSAGES }, {}, {}, ctrl.signal).catch((err: Error) => err);
      await eventually(5000, () => fake.calls('GET', '/v1/predictions/').length >= 1, 'a poll');
      ctrl.abort();
      expect(await pending).to.be.instanceOf(Error);
      await eventually(5000, () => fake.calls('POST', '/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel').length === 1, 'the cancel');
      const polls = fake.calls('GET', '/v1/predictions/').length;
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(fake.calls('GET', '/v1/predictions/').length, 'no poll after the client left').to.equal(polls);
    });

    it('the server key and base_url of the config file serve a request naming only the provider', async () => {
      fake.create = { body: fake.local(SUCCEEDED) };
      fake.reads = [{ body: fake.local(SUCCEEDED) }];
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-waygate-provider': 'replicate' },
        body: JSON.stringify({ model: MODEL, messages: MESSAGES }),
      });
      expect(res.status).to.equal(200);
      expect(fake.requests[0]!.headers.authorization).to.equal('Bearer r8_server-key-fedcba9876543210');
    });

    it('an answer whose urls point off Replicate is refused before the key is sent there', async () => {
      fake.create = { body: { ...fake.local(STARTING), urls: { get: 'https://evil.example/v1/predictions/x' } } };
      const res = await post({ model: MODEL, messages: MESSAGES });
      const json = (await res.json()) as any;
      expect(res.status).to.equal(502);
      expect(json.error.message).to.match(/outside Replicate's hosts/);
      expect(fake.requests).to.have.length(1);
    });

    it('a model that is not owner/name is a 400 before any upstream call', async () => {
      const res = await post({ model: '../../admin', messages: MESSAGES });
      expect(res.status).to.equal(400);
      expect(((await res.json()) as any).error.param).to.equal('model');
      expect(fake.requests).to.have.length(0);
    });
  });

  describe('HTTP errors keep their status and Replicate message, with retryability', () => {
    const cases: Array<[string, number, boolean, RegExp]> = [
      ['error-bad-request', 400, false, /^replicate: Invalid request: The request body is not valid JSON\.$/],
      ['error-unauthenticated', 401, false, /^replicate: Unauthenticated: You did not pass a valid authentication token$/],
      ['error-payment-required', 402, false, /Insufficient credit: You have insufficient credit/],
      ['error-forbidden', 403, false, /^replicate: Forbidden: You do not have permission/],
      ['error-not-found', 404, false, /Not found: The requested resource could not be found/],
      ['error-invalid-input', 422, false, /^replicate: Input validation failed: - input.max_tokens: Must be greater than or equal to 1$/],
      ['error-throttled', 429, true, /Request was throttled/],
      ['error-server', 500, true, /Internal server error/],
      ['error-unavailable', 503, true, /Service unavailable/],
    ];
    for (const [name, status, retryable, message] of cases) {
      it(`${status} (${name}): ${retryable ? 'retried' : 'not retried'}`, async () => {
        fake.create = { status, body: jsonFixture(name), headers: status === 429 ? { 'retry-after': '0' } : {} };
        const res = await post({ model: MODEL, messages: MESSAGES }, { retry: { attempts: 1, on_status_codes: [429, 500, 502, 503, 504] } });
        const json = (await res.json()) as any;
        expect(res.status).to.equal(status);
        expect(json.error.message).to.match(message);
        expect(json.error.code).to.equal('upstream_error');
        expect(fake.calls('POST', '/v1/').length).to.equal(retryable ? 2 : 1);
        expect(JSON.stringify(json)).to.not.include(KEY);
      });
    }

    it('an error on the kernel read (a 5xx on urls.get) is mapped the same way', async () => {
      fake.create = { body: fake.local(SUCCEEDED) };
      fake.reads = [{ status: 503, body: jsonFixture('error-unavailable') }];
      const res = await post({ model: MODEL, messages: MESSAGES });
      expect(res.status).to.equal(503);
      expect(((await res.json()) as any).error.message).to.match(/^replicate: Service unavailable/);
    });

    it('a server key echoed in an error never reaches the caller', async () => {
      const server = 'r8_server-key-fedcba9876543210';
      fake.create = { status: 401, body: { title: 'Unauthenticated', detail: `Invalid token ${server}`, status: 401 } };
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-waygate-provider': 'replicate' },
        body: JSON.stringify({ model: MODEL, messages: MESSAGES }),
      });
      const text = await res.text();
      expect(res.status).to.equal(401);
      expect(text).to.not.include(server);
      expect(text).to.not.include(server.slice(0, 8));
      expect(text).to.include('[REDACTED]');
    });

    it('an answer that is not JSON is a 502 (retryable)', async () => {
      fake.create = { status: 201, body: '<html>oops</html>' };
      const res = await post({ model: MODEL, messages: MESSAGES });
      expect(res.status).to.equal(502);
      expect(((await res.json()) as any).error.code).to.equal('upstream_bad_response');
    });
  });

  describe('chat completions, streamed', () => {
    for (const bytewise of [false, true]) {
      it(`relays output events as OpenAI chunks, ending with stop and [DONE] (${bytewise ? 'one byte at a time' : 'as recorded'})`, async () => {
        fake.create = { body: fake.local(STARTING) };
        fake.stream = { parts: sseFixture('stream-text'), bytewise };
        const res = await post({ model: MODEL, messages: MESSAGES, stream: true });
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
        const got = await chunks(await res.text());
        expect(got.role).to.equal('assistant');
        expect(got.content).to.equal('Once upon a time, a wörld\nended.');
        expect(got.finish).to.equal('stop');
        expect(got.events.at(-1)).to.equal('[DONE]');
        const [create, read] = fake.requests;
        expect(JSON.parse(create!.body).stream).to.equal(true);
        expect(create!.headers.prefer).to.equal(undefined);
        expect(read).to.include({ method: 'GET', url: '/v1/files/bcwr-3okdfv3o2wehstv5f2okyftwxy57hhypqsi6osiim5iaq5k7u24a' });
        expect(read!.headers.accept).to.equal('text/event-stream');
        expect(read!.headers.authorization).to.equal(`Bearer ${KEY}`);
      });
    }

    const READ = 'GET /v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu';
    const calls = () => fake.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`);

    for (const bytewise of [false, true]) {
      it(`with stream_options.include_usage, reads the prediction after done and sends its usage before [DONE] (${bytewise ? 'one byte at a time' : 'as recorded'})`, async () => {
        fake.create = { body: fake.local(STARTING) };
        fake.stream = { parts: sseFixture('stream-text'), bytewise };
        fake.reads = [{ body: fake.local(SUCCEEDED) }];
        const res = await post({ model: MODEL, messages: MESSAGES, stream: true, stream_options: { include_usage: true } });
        expect(res.status).to.equal(200);
        const got = await chunks(await res.text());
        expect(got.content).to.equal('Once upon a time, a wörld\nended.');
        const last = got.events.slice(-3);
        expect(JSON.parse(last[0]!).choices[0].finish_reason).to.equal('stop');
        const usage = JSON.parse(last[1]!);
        expect(usage.choices).to.deep.equal([]);
        expect(usage.usage).to.deep.equal({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });
        expect(last[2]).to.equal('[DONE]');
        expect(calls()).to.deep.equal([
          `POST /v1/models/${MODEL}/predictions`,
          'GET /v1/files/bcwr-3okdfv3o2wehstv5f2okyftwxy57hhypqsi6osiim5iaq5k7u24a',
          READ,
        ]);
        expect(fake.requests[2]!.headers.authorization).to.equal(`Bearer ${KEY}`);
      });
    }

    it('without include_usage, no read after done and no usage chunk', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.stream = { parts: sseFixture('stream-text') };
      fake.reads = [{ body: fake.local(SUCCEEDED) }];
      const got = await chunks(await (await post({ model: MODEL, messages: MESSAGES, stream: true })).text());
      expect(got.events.at(-1)).to.equal('[DONE]');
      expect(got.events.some((e) => e.includes('"usage"'))).to.equal(false);
      expect(calls()).to.not.include(READ);
    });

    it('a prediction still processing when done arrives is polled until it has ended, for its usage', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.stream = { parts: sseFixture('stream-text') };
      fake.reads = [{ body: fake.local(PROCESSING) }, { body: fake.local(SUCCEEDED) }];
      const got = await chunks(await (await post({ model: MODEL, messages: MESSAGES, stream: true, stream_options: { include_usage: true } })).text());
      expect(JSON.parse(got.events.at(-2)!).usage).to.deep.equal({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });
      expect(calls().filter((c) => c === READ)).to.have.length(2);
    });

    it('when the read after done fails (an error, or past the request bound), the stream still ends with stop and [DONE], without usage', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.stream = { parts: sseFixture('stream-text') };
      fake.reads = [{ status: 503, body: { title: 'Service Unavailable', detail: 'try again', status: 503 } }];
      let got = await chunks(await (await post({ model: MODEL, messages: MESSAGES, stream: true, stream_options: { include_usage: true } })).text());
      expect([got.finish, got.events.at(-1), got.error]).to.deep.equal(['stop', '[DONE]', undefined]);
      expect(got.events.some((e) => e.includes('"usage"'))).to.equal(false);
      expect(calls()).to.include(READ);

      fake.reset();
      fake.create = { body: fake.local(STARTING) };
      fake.stream = { parts: sseFixture('stream-text') };
      fake.reads = [{ body: fake.local(SUCCEEDED), delayMs: 5000 }];
      const started = performance.now();
      const res = await post({ model: MODEL, messages: MESSAGES, stream: true, stream_options: { include_usage: true } }, { request_timeout: 1000 });
      got = await chunks(await res.text());
      expect(performance.now() - started, 'bounded by request_timeout, not the 5 s answer').to.be.below(3500);
      expect([got.finish, got.events.at(-1), got.error]).to.deep.equal(['stop', '[DONE]', undefined]);
      expect(got.events.some((e) => e.includes('"usage"'))).to.equal(false);
    });

    it('no read after a done that reports a failure: the stream fails as before', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.stream = { parts: ['event: output\nid: 1:0\ndata: Hi\n\n', 'event: done\nid: 1:1\ndata: {"reason":"canceled"}\n\n'] };
      fake.reads = [{ body: fake.local(SUCCEEDED) }];
      const got = await chunks(await (await post({ model: MODEL, messages: MESSAGES, stream: true, stream_options: { include_usage: true } })).text());
      expect(got.content).to.equal('Hi');
      expect(got.error.message).to.match(/canceled/);
      expect(calls()).to.not.include(READ);
    });

    it('an error event after output ends the stream with a terminal error naming the failure', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.stream = { parts: sseFixture('stream-error') };
      const res = await post({ model: MODEL, messages: MESSAGES, stream: true });
      expect(res.status).to.equal(200);
      const got = await chunks(await res.text());
      expect(got.content).to.equal('Once upon');
      expect(got.error.message).to.match(/CUDA out of memory/);
    });

    it('an error event before any output is a 502 answer, not a stream', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.stream = { parts: sseFixture('stream-error').slice(1) };
      const res = await post({ model: MODEL, messages: MESSAGES, stream: true });
      expect(res.status).to.equal(502);
      expect(((await res.json()) as any).error.message).to.match(/prediction gm3qorzdhgbfurvjtvhg6dckhu failed: CUDA out of memory/);
    });

    it('a stream cut before done ends with a terminal error event', async () => {
      fake.create = { body: fake.local(STARTING) };
      const parts = sseFixture('stream-text');
      fake.stream = { parts, cutAfter: parts.slice(0, 2).join('').length + 5 };
      const res = await post({ model: MODEL, messages: MESSAGES, stream: true });
      expect(res.status).to.equal(200);
      const got = await chunks(await res.text());
      expect(got.content).to.equal('Once upon a time,');
      expect(got.finish).to.equal(undefined);
      expect(got.error.code).to.equal('stream_interrupted');
    });

    it('a model without urls.stream is a 400, and its prediction is canceled', async () => {
      const { stream: _gone, ...urls } = STARTING.urls;
      fake.create = { body: fake.local({ ...STARTING, urls }) };
      const res = await post({ model: MODEL, messages: MESSAGES, stream: true });
      expect(res.status).to.equal(400);
      expect(((await res.json()) as any).error.message).to.match(/does not stream/);
      await eventually(5000, () => fake.calls('POST', '/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel').length === 1, 'the cancel');
    });

    it('an error status on the stream URL is mapped', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.stream = { parts: [], status: 503 };
      const res = await post({ model: MODEL, messages: MESSAGES, stream: true });
      expect(res.status).to.equal(503);
      expect(((await res.json()) as any).error.message).to.match(/stream failed with 503/);
    });
  });

  describe("Replicate's own API, forwarded as it came (what Portkey's replicate does)", () => {
    const native = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      fetch(`${gw.url}${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          'x-portkey-provider': 'replicate',
          'x-portkey-custom-host': fake.base,
          authorization: `Bearer ${KEY}`,
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    it('POST /v1/predictions with Prefer: wait reaches Replicate with the body, the header and the key; its answer comes back', async () => {
      fake.create = { body: fake.local(SUCCEEDED) };
      const sent = { version: 'v1', input: { prompt: 'hi', top_k: 5 } };
      const res = await native('POST', '/v1/predictions', sent, { prefer: 'wait=5' });
      expect(res.status).to.equal(201);
      expect(await res.json()).to.deep.equal(fake.local(SUCCEEDED));
      const [r] = fake.requests;
      expect(r).to.include({ method: 'POST', url: '/v1/predictions' });
      expect(JSON.parse(r!.body)).to.deep.equal(sent);
      expect(r!.headers.prefer).to.equal('wait=5');
      expect(r!.headers.authorization).to.equal(`Bearer ${KEY}`);
    });

    it('GET /v1/predictions/{id}, and an error keeps Replicate’s own body', async () => {
      fake.reads = [{ body: fake.local(PROCESSING) }];
      const ok = await native('GET', '/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu?x=1');
      expect(((await ok.json()) as any).status).to.equal('processing');
      expect(fake.requests[0]!.url).to.equal('/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu?x=1');
      fake.reads = [{ status: 404, body: jsonFixture('error-not-found') }];
      const missing = await native('GET', '/v1/predictions/nope');
      expect(missing.status).to.equal(404);
      expect(await missing.json()).to.deep.equal(jsonFixture('error-not-found'));
    });
  });

  describe("Anthropic's /v1/messages, through the chat bridge", () => {
    const messages = (body: Record<string, unknown>) =>
      fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-waygate-config': JSON.stringify({ provider: 'replicate', api_key: KEY, custom_host: fake.base }),
        },
        body: JSON.stringify({ model: MODEL, max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'Say hello' }], ...body }),
      });

    it('answers a message from a finished prediction', async () => {
      fake.create = { body: fake.local(SUCCEEDED) };
      fake.reads = [{ body: fake.local(SUCCEEDED) }];
      const res = await messages({});
      const json = (await res.json()) as any;
      expect(res.status, JSON.stringify(json)).to.equal(200);
      expect(json.type).to.equal('message');
      expect(json.content).to.deep.equal([{ type: 'text', text: 'Hello, wörld!' }]);
      expect(json.usage).to.include({ input_tokens: 12, output_tokens: 4 });
      expect(JSON.parse(fake.requests[0]!.body).input).to.include({ prompt: 'Say hello', system_prompt: 'Be brief.', max_tokens: 100 });
    });

    it('streams a message from the prediction’s events', async () => {
      fake.create = { body: fake.local(STARTING) };
      fake.stream = { parts: sseFixture('stream-text') };
      const res = await messages({ stream: true });
      expect(res.status).to.equal(200);
      const text = await res.text();
      const deltas = [...text.matchAll(/"text_delta","text":("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!));
      expect(deltas.join('')).to.equal('Once upon a time, a wörld\nended.');
      expect(text).to.include('event: message_stop');
    });
  });

  // Last (a describe, so that it runs after the ones above): what every test made the gateway log.
  describe('logs', () => {
    it('no log line holds a key, the caller’s or the server’s', () => {
      expect(logged.length).to.be.greaterThan(10);
      const all = logged.join('\n');
      for (const secret of [KEY, 'r8_server-key-fedcba9876543210']) expect(all).to.not.include(secret);
    });
  });
});
