// The adapter's pure parts: the prediction request (model → endpoint, messages → input), the answer,
// the stream transformer, the error mapping and the check of URLs from answers.
import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import type { BuildInput, RequestContext, SSEEvent } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import plugin, {
  DEFAULT_BASE_URL,
  createPrediction,
  fromPrediction,
  mapReplicateError,
  outputText,
  predictionTarget,
  renderConversation,
  toReplicateInput,
  trustedUrl,
  waitBudget,
  MAX_WAIT_MS,
  ReplicateStreamTransformer,
  retryAfterMs,
} from '../src/index.js';
import { jsonFixture } from './fixtures.js';

const SUCCEEDED = jsonFixture('prediction-succeeded');

function input(body: Record<string, unknown> = {}, node: Record<string, unknown> = {}, ctx: Record<string, unknown> = {}): BuildInput {
  return {
    ctx: { headers: {}, ...ctx } as unknown as RequestContext,
    target: { provider: 'replicate', apiKey: 'r8_unit', baseURL: 'http://127.0.0.1:9/v1', node: { provider: 'replicate', ...node }, path: 'config' },
    body: { model: 'meta/meta-llama-3-8b-instruct', messages: [{ role: 'user', content: 'hi' }], ...body },
  };
}

const user = (content: unknown) => ({ role: 'user', content });

describe('@waygate/provider-replicate', () => {
  it('has a provider manifest and Replicate’s v1 base URL', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/provider-replicate', kind: 'provider', core: '^1.0.0' });
    expect(DEFAULT_BASE_URL).to.equal('https://api.replicate.com/v1');
  });

  describe('the model names the endpoint', () => {
    it('owner/name, owner/name:version, a bare version id, deployments/owner/name', () => {
      const v = 'a'.repeat(64);
      expect(predictionTarget('meta/meta-llama-3-8b-instruct')).to.deep.equal({ path: '/models/meta/meta-llama-3-8b-instruct/predictions' });
      expect(predictionTarget('replicate/hello-world:5c7d5dc6')).to.deep.equal({ path: '/predictions', version: '5c7d5dc6' });
      expect(predictionTarget(v)).to.deep.equal({ path: '/predictions', version: v });
      expect(predictionTarget('deployments/acme/my-llama')).to.deep.equal({ path: '/deployments/acme/my-llama/predictions' });
    });

    it('anything else is a 400 naming `model` (no way to change the path)', () => {
      for (const m of [undefined, '', 'llama', '../x', 'a/..', 'a/b/c', 'a/b:ver/sion', 'a/b?x=1', 'a /b']) {
        const err = thrown(() => predictionTarget(m));
        expect([err.status, err.param], String(m)).to.deep.equal([400, 'model']);
      }
    });
  });

  describe('messages → input', () => {
    it('one user message is the prompt as it is; system and developer messages join into system_prompt', () => {
      expect(renderConversation([{ role: 'system', content: 'A' }, { role: 'developer', content: 'B' }, user('hi')])).to.deep.equal({
        prompt: 'hi',
        system_prompt: 'A\n\nB',
      });
    });

    it('a conversation is a transcript of turns that ends with the assistant’s cue', () => {
      const r = renderConversation([
        user('Hi'),
        { role: 'assistant', content: 'Hello!' },
        { role: 'tool', content: '{"t":1}' },
        user([
          { type: 'text', text: 'And ' },
          { type: 'text', text: 'you?' },
        ]),
      ]);
      expect(r.prompt).to.equal('User: Hi\n\nAssistant: Hello!\n\nTool: {"t":1}\n\nUser: And you?\n\nAssistant:');
      // A last assistant message is a prefix for the model to continue.
      expect(renderConversation([user('Hi'), { role: 'assistant', content: 'Well,' }]).prompt).to.equal('User: Hi\n\nAssistant: Well,');
    });

    it('refuses what a prompt cannot carry: images, unknown roles, no messages, no user turn', () => {
      const image = thrown(() => renderConversation([user([{ type: 'image_url', image_url: { url: 'https://x/y.png' } }])]));
      expect([image.status, image.param]).to.deep.equal([400, 'messages[0].content[0]']);
      expect(thrown(() => renderConversation([{ role: 'function', content: 'x' }])).param).to.equal('messages[0].role');
      expect(thrown(() => renderConversation([])).param).to.equal('messages');
      expect(thrown(() => renderConversation([{ role: 'system', content: 'x' }])).param).to.equal('messages');
    });

    it('maps the sampling parameters, max tokens under both names, stop as a comma-separated list', () => {
      const got = toReplicateInput({
        messages: [user('hi')],
        max_completion_tokens: 64,
        max_tokens: 10,
        temperature: 0.5,
        top_p: 0.8,
        seed: 7,
        presence_penalty: 0.1,
        frequency_penalty: 0.2,
        stop: ['<|eot_id|>', '\n\n'],
        logprobs: true,
      });
      expect(got).to.deep.equal({
        prompt: 'hi',
        max_tokens: 64,
        max_new_tokens: 64,
        temperature: 0.5,
        top_p: 0.8,
        seed: 7,
        presence_penalty: 0.1,
        frequency_penalty: 0.2,
        stop_sequences: '<|eot_id|>,\n\n',
      });
    });

    it('`input` sets the model’s own fields over what was mapped', () => {
      const got = toReplicateInput({ messages: [user('hi')], temperature: 1, input: { top_k: 40, temperature: 0.1, prompt_template: '{prompt}' } });
      expect(got).to.deep.equal({ prompt: 'hi', temperature: 0.1, top_k: 40, prompt_template: '{prompt}' });
      expect(thrown(() => toReplicateInput({ messages: [user('hi')], input: 'x' })).param).to.equal('input');
    });

    it('refuses tools, n > 1, a stop sequence with a comma', () => {
      expect(thrown(() => toReplicateInput({ messages: [user('hi')], tools: [{ type: 'function', function: { name: 'f' } }] })).param).to.equal('tools');
      expect(thrown(() => toReplicateInput({ messages: [user('hi')], n: 2 })).param).to.equal('n');
      expect(thrown(() => toReplicateInput({ messages: [user('hi')], stop: 'a,b' })).param).to.equal('stop');
      expect(thrown(() => toReplicateInput({ messages: [user('hi')], stop: [1] })).param).to.equal('stop');
    });

    it('creates with Prefer: wait, or wait=<seconds> under a shorter budget; a stream asks for stream and does not wait', () => {
      expect(createPrediction(input(), false, MAX_WAIT_MS).headers).to.deep.include({ prefer: 'wait', authorization: 'Bearer r8_unit' });
      expect(createPrediction(input(), false, 12_500).headers.prefer).to.equal('wait=12');
      expect(createPrediction(input(), false, 300).headers.prefer).to.equal('wait=1');
      const s = createPrediction(input({ stream: true }), true, MAX_WAIT_MS);
      expect(s.headers).to.not.have.property('prefer');
      expect(s).to.include({ url: 'http://127.0.0.1:9/v1/models/meta/meta-llama-3-8b-instruct/predictions', method: 'POST' });
      expect(JSON.parse(s.body as string)).to.deep.equal({ input: { prompt: 'hi' }, stream: true });
    });

    it("reads a 429's Retry-After as seconds or an HTTP date; anything else is no Retry-After", () => {
      const now = Date.parse('2025-01-02T03:04:05Z');
      expect(retryAfterMs({ 'retry-after': '2' }, now)).to.equal(2000);
      expect(retryAfterMs({ 'retry-after': '0.5' }, now)).to.equal(500);
      expect(retryAfterMs({ 'retry-after': 'Thu, 02 Jan 2025 03:04:08 GMT' }, now)).to.equal(3000);
      expect(retryAfterMs({ 'retry-after': 'Thu, 02 Jan 2025 03:04:00 GMT' }, now)).to.equal(0);
      expect(retryAfterMs({ 'retry-after': 'soon' }, now)).to.equal(undefined);
      expect(retryAfterMs({}, now)).to.equal(undefined);
      expect(retryAfterMs(undefined, now)).to.equal(undefined);
    });

    it('the wait is bounded by the request timeout and the deadline, else MAX_WAIT_MS', () => {
      expect(waitBudget(input())).to.equal(MAX_WAIT_MS);
      expect(waitBudget(input({}, { request_timeout: 3000 }))).to.equal(3000);
      expect(waitBudget(input({}, { request_timeout: 3000 }, { requestTimeoutMs: 2000 }))).to.equal(2000);
      expect(waitBudget(input({}, {}, { deadlineAt: performance.now() + 1000 }))).to.be.within(900, 1000);
    });
  });

  describe('the prediction → a chat completion', () => {
    it('output arrays and strings join; other outputs are JSON text', () => {
      expect(outputText(['a', 'b'])).to.equal('ab');
      expect(outputText('whole')).to.equal('whole');
      expect(outputText(null)).to.equal('');
      expect(outputText({ url: 'u' })).to.equal('{"url":"u"}');
      expect(outputText(['a', 1])).to.equal('a1');
    });

    it('finish_reason is length when the output used all of max_tokens; no usage without token counts', () => {
      expect(fromPrediction(SUCCEEDED, 'm', 4).choices[0].finish_reason).to.equal('length');
      expect(fromPrediction(SUCCEEDED, 'm', 5).choices[0].finish_reason).to.equal('stop');
      const bare = fromPrediction({ ...SUCCEEDED, metrics: { predict_time: 1 } }, 'm');
      expect(bare).to.not.have.property('usage');
      expect(bare.created).to.equal(Math.floor(Date.parse('2024-09-08T16:19:34.765994Z') / 1000));
    });

    it('a failed or canceled prediction is a 502 that is not retryable; one still running is a malformed answer', () => {
      const failed = thrown(() => fromPrediction({ ...SUCCEEDED, status: 'canceled', error: null }, 'm')) as GatewayError;
      expect([failed.status, failed.retryable, failed.message]).to.deep.equal([502, false, 'replicate: prediction gm3qorzdhgbfurvjtvhg6dckhu canceled']);
      const running = thrown(() => fromPrediction({ ...SUCCEEDED, status: 'processing' }, 'm')) as GatewayError;
      expect([running.status, running.code]).to.deep.equal([502, 'upstream_bad_response']);
    });
  });

  describe('errors', () => {
    it('keeps title and detail, adds invalid fields the detail does not name, relays retry-after', () => {
      const e = mapReplicateError(
        422,
        { title: 'Input validation failed', detail: 'bad input', invalid_fields: [{ field: 'input.top_p', description: 'Must be at most 1' }] },
        {},
      );
      expect(e.message).to.equal('replicate: Input validation failed: bad input (input.top_p: Must be at most 1)');
      const limited = mapReplicateError(429, { detail: 'Request was throttled.' }, { 'retry-after': '4' });
      expect([limited.retryable, limited.headers, limited.message]).to.deep.equal([true, { 'retry-after': '4' }, 'replicate: Request was throttled.']);
      expect(mapReplicateError(502, '<html>bad gateway</html>', {}).message).to.equal('replicate: <html>bad gateway</html>');
      expect(mapReplicateError(401, undefined, {}).message).to.equal('replicate: answered status 401');
      expect(mapReplicateError(401, { detail: 'token r8_unit is invalid' }, {}, { secret: 'r8_unit' }).message).to.not.include('r8_unit');
    });

    it('refuses a prediction URL off the target’s origin and off replicate.com', () => {
      const i = input();
      expect(trustedUrl('http://127.0.0.1:9/v1/predictions/x', i, 'get')).to.equal('http://127.0.0.1:9/v1/predictions/x');
      expect(trustedUrl('https://stream.replicate.com/v1/files/x', i, 'stream')).to.equal('https://stream.replicate.com/v1/files/x');
      for (const bad of ['http://stream.replicate.com/v1/files/x', 'https://replicate.com.evil.example/x', 'http://127.0.0.1:10/v1', 'not a url']) {
        expect(thrown(() => trustedUrl(bad, i, 'get')).status, bad).to.equal(502);
      }
    });
  });

  describe('the stream transformer', () => {
    const run = (events: SSEEvent[]) => {
      const t = new ReplicateStreamTransformer('m', SUCCEEDED);
      const out: SSEEvent[] = [];
      for (const ev of events) {
        const r = t.transform(ev);
        if (r) out.push(...(Array.isArray(r) ? r : [r]));
      }
      const f = t.flush();
      if (f) out.push(...(Array.isArray(f) ? f : [f]));
      return out.map((e) => (e.data === '[DONE]' ? e.data : JSON.parse(e.data)));
    };

    it('role first, one delta per output event (empty ones skipped), then stop and [DONE]; other events ignored', () => {
      const out = run([
        { event: 'output', data: 'Hi' },
        { event: 'logs', data: 'loading weights' },
        { event: 'output', data: '' },
        { event: 'output', data: ' there' },
        { event: 'done', data: '{}' },
        { event: 'output', data: 'after the end' },
      ]);
      expect(out.map((c) => (c === '[DONE]' ? c : c.choices[0]))).to.deep.equal([
        { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
        { index: 0, delta: { content: 'Hi' }, logprobs: null, finish_reason: null },
        { index: 0, delta: { content: ' there' }, logprobs: null, finish_reason: null },
        { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' },
        '[DONE]',
      ]);
      expect(out[0].id).to.equal('gm3qorzdhgbfurvjtvhg6dckhu');
    });

    it('done with the reason canceled or error, an error event (JSON or text), a missing done: each fails', () => {
      expect(thrown(() => run([{ event: 'done', data: '{"reason":"canceled"}' }])).message).to.match(/canceled$/);
      expect(thrown(() => run([{ event: 'done', data: '{"reason":"error"}' }])).message).to.match(/failed$/);
      expect(thrown(() => run([{ event: 'error', data: '{"detail":"boom"}' }])).message).to.match(/failed: boom$/);
      expect(thrown(() => run([{ event: 'error', data: 'plain boom' }])).message).to.match(/failed: plain boom$/);
      expect(thrown(() => run([{ event: 'output', data: 'x' }])).message).to.match(/ended before its done event/);
    });
  });
});
