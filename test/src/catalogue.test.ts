// The model catalogue (@waygate/catalogue) end to end: the official SDKs against a gateway in front of
// an OpenAI-format fake, an Anthropic-format fake and a provider whose list fails; listing, retrieving,
// routing by `provider/model` and by alias (with a fallback), a gateway key's model rules, 404s in
// both wire shapes.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream } from './fakes/provider-upstreams.js';
import type { Received, Reply } from './fakes/provider-upstreams.js';
import { LogCapture } from './helpers/api-support.js';

const OPENAI_KEY = 'sk-openai-held-0123456789';
const ANTHROPIC_KEY = 'sk-ant-held-0123456789';
const WIDE = 'wg-wide-key-0123456789abcdef';
const NARROW = 'wg-narrow-key-0123456789abcdef';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** OpenAI's wire format: `GET /v1/models` and `POST /v1/chat/completions` (answers name the model asked for). */
function openaiHandler(req: Received): Reply {
  if (req.headers.authorization !== `Bearer ${OPENAI_KEY}`)
    return { status: 401, json: { error: { message: 'bad key', type: 'invalid_request_error', code: 'invalid_api_key' } } };
  if (req.method === 'GET' && req.pathname === '/v1/models') {
    return {
      json: {
        object: 'list',
        data: ['gpt-4o', 'gpt-4o-mini', 'o3'].map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })),
      },
    };
  }
  if (req.method === 'POST' && req.pathname === '/v1/chat/completions') {
    if (req.body?.model === 'gpt-broken') return { status: 500, json: { error: { message: 'upstream fell over', type: 'server_error' } } };
    return {
      json: {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1715367049,
        model: req.body?.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: `openai says hi as ${req.body?.model}`, refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
      },
    };
  }
  return { status: 404, json: { error: { message: 'no route', type: 'invalid_request_error' } } };
}

/** Anthropic's wire format: `GET /v1/models` (Models API) and `POST /v1/messages`. */
function anthropicHandler(req: Received): Reply {
  if (req.headers['x-api-key'] !== ANTHROPIC_KEY)
    return { status: 401, json: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } } };
  if (typeof req.headers['anthropic-version'] !== 'string')
    return { status: 400, json: { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version required' } } };
  if (req.method === 'GET' && req.pathname === '/v1/models') {
    const data = [
      { type: 'model', id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' },
      { type: 'model', id: 'claude-haiku-4-5', display_name: 'Claude Haiku 4.5', created_at: '2025-10-15T00:00:00Z' },
    ];
    return { json: { data, has_more: false, first_id: data[0]!.id, last_id: data[1]!.id } };
  }
  if (req.method === 'POST' && req.pathname === '/v1/messages') {
    return {
      json: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: req.body?.model,
        content: [{ type: 'text', text: `claude says hi as ${req.body?.model}` }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 4, output_tokens: 6 },
      },
    };
  }
  return { status: 404, json: { type: 'error', error: { type: 'not_found_error', message: 'no route' } } };
}

/** A provider whose model list is a 500 (and whose chat is never reached). */
const failingHandler = (): Reply => ({ status: 500, json: { error: { message: 'models are down', type: 'server_error' } } });

describe('model catalogue (@waygate/catalogue) through the SDKs', () => {
  let oa: FakeUpstream;
  let an: FakeUpstream;
  let down: FakeUpstream;
  let gw: Gateway;
  let logs: LogCapture;

  before(async () => {
    [oa, an, down] = await Promise.all([FakeUpstream.start(openaiHandler), FakeUpstream.start(anthropicHandler), FakeUpstream.start(failingHandler)]);
    logs = new LogCapture('warn');
    gw = await startGateway({
      config: {
        providers: {
          openai: { api_key: OPENAI_KEY, base_url: `${oa.url}/v1` },
          anthropic: { api_key: ANTHROPIC_KEY, base_url: `${an.url}/v1` },
          groq: { api_key: 'gsk-held', base_url: `${down.url}/v1` },
        },
        plugins: [
          {
            module: '@waygate/auth',
            options: {
              keys: [
                { id: 'wide', name: 'wide', sha256: sha256(WIDE) },
                { id: 'narrow', name: 'narrow', sha256: sha256(NARROW), models: ['gpt-4o*'] },
              ],
            },
          },
          {
            module: '@waygate/catalogue',
            options: {
              aliases: {
                fast: { provider: 'anthropic', override_params: { model: 'claude-haiku-4-5' } },
                sturdy: {
                  strategy: { mode: 'fallback' },
                  targets: [
                    { provider: 'openai', override_params: { model: 'gpt-broken' } },
                    { provider: 'anthropic', override_params: { model: 'claude-sonnet-4-5' } },
                  ],
                },
              },
            },
          },
        ],
      },
      port: 0,
      host: '127.0.0.1',
      logger: logs.logger,
    });
  });
  after(async () => {
    await gw?.close(0);
    await Promise.all([oa?.close(), an?.close(), down?.close()]);
  });

  const openai = (apiKey = WIDE) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
  const anthropic = (apiKey = WIDE) => new Anthropic({ baseURL: gw.url, apiKey, maxRetries: 0 });

  it('openai models.list(): every reachable provider as provider/model, plus the aliases; the failing provider skipped and logged', async () => {
    const ids: string[] = [];
    for await (const m of openai().models.list()) ids.push(m.id);
    expect(ids).to.deep.equal([
      'openai/gpt-4o',
      'openai/gpt-4o-mini',
      'openai/o3',
      'anthropic/claude-sonnet-4-5',
      'anthropic/claude-haiku-4-5',
      'fast',
      'sturdy',
    ]);
    const warn = await logs.waitFor((r) => r.msg?.startsWith('catalogue:') === true && r.provider === 'groq', 'catalogue warning for groq');
    expect(warn.err).to.match(/status 5\d\d/);
    expect(logs.lines.join('')).to.not.include('gsk-held');
    // Upstream with the gateway's own keys, never the caller's gateway key.
    expect(oa.requests.find((r) => r.pathname === '/v1/models')!.headers.authorization).to.equal(`Bearer ${OPENAI_KEY}`);
    expect(JSON.stringify([...oa.requests, ...an.requests].map((r) => r.headers))).to.not.include(WIDE);
  });

  it('lists are cached: a second list makes no upstream call', async () => {
    const before = oa.requests.length + an.requests.length;
    const page = await openai().models.list();
    expect(page.data.map((m) => m.id)).to.include('anthropic/claude-sonnet-4-5');
    expect(oa.requests.length + an.requests.length).to.equal(before);
  });

  it('anthropic models.list(): the same catalogue in Anthropic’s shape', async () => {
    const out: Array<{ id: string; type: string; created_at: string }> = [];
    for await (const m of anthropic().models.list()) out.push(m);
    expect(out.map((m) => m.id)).to.include.members(['openai/gpt-4o', 'anthropic/claude-sonnet-4-5', 'fast']);
    expect(out[0]!.type).to.equal('model');
    expect(out.find((m) => m.id === 'anthropic/claude-sonnet-4-5')!.created_at).to.equal('2025-09-29T00:00:00.000Z');
  });

  it('a key allowed gpt-4o* sees only those models', async () => {
    const page = await openai(NARROW).models.list();
    expect(page.data.map((m) => m.id)).to.deep.equal(['openai/gpt-4o', 'openai/gpt-4o-mini']);
  });

  it('openai models.retrieve(): a provider/model id, an alias; an unknown one is a 404 in OpenAI’s shape', async () => {
    const m = await openai().models.retrieve('anthropic/claude-sonnet-4-5');
    expect(m).to.include({ id: 'anthropic/claude-sonnet-4-5', object: 'model', owned_by: 'anthropic' });
    expect((await openai().models.retrieve('fast')).id).to.equal('fast');
    const err = await openai()
      .models.retrieve('anthropic/claude-nope')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).error).to.deep.include({
      code: 'model_not_found',
      type: 'invalid_request_error',
      param: 'model',
    });
    // A key that may not use a model does not see it either.
    const hidden = await openai(NARROW)
      .models.retrieve('anthropic/claude-sonnet-4-5')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(hidden).to.be.instanceOf(OpenAI.NotFoundError);
  });

  it('GET /v1/models/{id} with Anthropic headers: the model, and a 404 in Anthropic’s shape', async () => {
    const headers = { 'x-api-key': WIDE, 'anthropic-version': '2023-06-01' };
    const ok = await fetch(`${gw.url}/v1/models/openai/gpt-4o`, { headers });
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.deep.include({ type: 'model', id: 'openai/gpt-4o' });
    const missing = await fetch(`${gw.url}/v1/models/openai%2Fgpt-9`, { headers });
    expect(missing.status).to.equal(404);
    const body = (await missing.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).to.equal('error');
    expect(body.error.type).to.equal('not_found_error');
    expect(body.error.message).to.include('openai/gpt-9');
  });

  it('chat with model anthropic/… routes to the Anthropic-format upstream with the bare model', async () => {
    an.reset();
    const res = await openai().chat.completions.create({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]!.message.content).to.equal('claude says hi as claude-sonnet-4-5');
    const sent = an.requests.find((r) => r.pathname === '/v1/messages')!;
    expect(sent.body!.model).to.equal('claude-sonnet-4-5');
    expect(sent.headers['x-api-key']).to.equal(ANTHROPIC_KEY);
  });

  it('chat with openai/gpt-4o routes to OpenAI; an unknown provider/model is a 404 in OpenAI’s shape, with no upstream call', async () => {
    oa.reset();
    const res = await openai().chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]!.message.content).to.equal('openai says hi as gpt-4o');
    expect(oa.requests.filter((r) => r.pathname === '/v1/chat/completions').map((r) => r.body!.model)).to.deep.equal(['gpt-4o']);
    oa.reset();
    const err = await openai()
      .chat.completions.create({ model: 'openai/gpt-nope', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).to.equal('model_not_found');
    expect(oa.requests.filter((r) => r.pathname === '/v1/chat/completions')).to.have.length(0);
  });

  it('messages with anthropic/…: routed, and an unknown one a 404 in Anthropic’s shape', async () => {
    const msg = await anthropic().messages.create({ model: 'anthropic/claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content[0]).to.deep.include({ type: 'text', text: 'claude says hi as claude-haiku-4-5' });
    const err = await anthropic()
      .messages.create({ model: 'anthropic/claude-nope', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(Anthropic.NotFoundError);
    expect((err as InstanceType<typeof Anthropic.NotFoundError>).error).to.deep.include({ type: 'error' });
    expect(((err as InstanceType<typeof Anthropic.NotFoundError>).error as { error: { type: string } }).error.type).to.equal('not_found_error');
  });

  it('an alias routes by name; an alias with a fallback moves on when its first target fails', async () => {
    const fast = await openai().chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
    expect(fast.choices[0]!.message.content).to.equal('claude says hi as claude-haiku-4-5');
    oa.reset();
    const sturdy = await openai().chat.completions.create({ model: 'sturdy', messages: [{ role: 'user', content: 'hi' }] });
    expect(sturdy.choices[0]!.message.content).to.equal('claude says hi as claude-sonnet-4-5');
    expect(oa.requests.filter((r) => r.pathname === '/v1/chat/completions').map((r) => r.body!.model)).to.deep.equal(['gpt-broken']);
  });

  it('a key allowed gpt-4o* may use openai/gpt-4o but not anthropic/… nor an alias to another model', async () => {
    const ok = await openai(NARROW)
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    // A bare model with no config names no route: the existing 400.
    expect(ok).to.be.instanceOf(OpenAI.BadRequestError);
    // The same model by its catalogue id: allowed by its bare name, routed to OpenAI.
    const routed = await openai(NARROW).chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(routed.choices[0]!.message.content).to.equal('openai says hi as gpt-4o');
    const mini = await openai(NARROW).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(mini.choices[0]!.message.content).to.equal('openai says hi as gpt-4o-mini');
    const o3 = await openai(NARROW)
      .chat.completions.create({ model: 'openai/o3', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(o3).to.be.instanceOf(OpenAI.PermissionDeniedError);
    const other = await openai(NARROW)
      .chat.completions.create({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(other).to.be.instanceOf(OpenAI.PermissionDeniedError);
  });

  it('with a provider named in the headers, today’s behaviour: that provider’s own list, its own ids', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: WIDE, maxRetries: 0, defaultHeaders: { 'x-waygate-provider': 'openai' } });
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).to.deep.equal(['gpt-4o', 'gpt-4o-mini', 'o3']);
    expect((await client.models.retrieve('o3')).id).to.equal('o3');
  });

  it('a model id naming a provider the gateway does not reach goes on unchanged (the existing error)', async () => {
    const err = await openai()
      .chat.completions.create({ model: 'mistral/mistral-large', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).to.equal('missing_provider');
  });
});

describe('model catalogue: an alias’s own deadline', () => {
  let stuck: http.Server;
  let gw: Gateway;
  const held: http.ServerResponse[] = [];

  before(async () => {
    // An upstream that takes the request and never answers: only a deadline ends the wait.
    stuck = http.createServer((_req, res) => void held.push(res));
    await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve));
    const { port } = stuck.address() as AddressInfo;
    gw = await startGateway({
      config: {
        providers: { deepseek: { api_key: 'sk-held', base_url: `http://127.0.0.1:${port}/v1` } },
        plugins: [
          {
            module: '@waygate/catalogue',
            options: { aliases: { quick: { provider: 'deepseek', override_params: { model: 'deepseek-chat' }, deadline: 300 } } },
          },
        ],
      },
      port: 0,
      host: '127.0.0.1',
      logger: new LogCapture('warn').logger,
    });
  });
  after(async () => {
    await gw?.close(0);
    for (const res of held) res.destroy();
    await new Promise<void>((resolve) => stuck.close(() => resolve()));
  });

  it('a request by alias ends at the alias’s deadline with a 408 deadline_exceeded', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 15_000 });
    const err = await client.chat.completions.create({ model: 'quick', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).to.equal(408);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).to.equal('deadline_exceeded');
    expect(held).to.have.length(1);
  });
});
