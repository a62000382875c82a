// The IAM token exchange (against a loopback IAM: caching, one exchange for concurrent requests,
// renewal before expiry, failures not cached, refused keys), the request mapping, and the package in a
// running gateway: native chat with a project or space, the model gateway for everything else, the
// region's host, and keys that are already tokens.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { BuildInput, Gateway } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import { IamTokens, buildChat, isBearerToken, toWatsonxChat } from '../src/index.js';
import { FakeIam, GOOD_KEY } from './iam-fake.js';
import { jsonFixture } from './fixtures.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const PROJECT = '0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

describe('@waygate/provider-watsonx: the IAM token exchange', () => {
  let iam: FakeIam;
  before(async () => (iam = await FakeIam.start()));
  after(() => iam.close());
  beforeEach(() => iam.reset());

  it('posts the API-key grant as a form and caches the token until shortly before it expires', async () => {
    let now = 1_000_000;
    const tokens = new IamTokens({ url: iam.url, now: () => now });
    expect(await tokens.get(GOOD_KEY)).to.equal(FakeIam.token(1));
    expect(iam.contentTypes[0]).to.equal('application/x-www-form-urlencoded');
    expect(Object.fromEntries(iam.forms[0]!)).to.deep.equal({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: GOOD_KEY });
    // Cached: answered at once (a string, no promise), no new exchange.
    now += 54 * 60_000;
    expect(tokens.get(GOOD_KEY)).to.equal(FakeIam.token(1));
    // Within 5 minutes of its end (an hour): exchanged again.
    now += 2 * 60_000;
    expect(await tokens.get(GOOD_KEY)).to.equal(FakeIam.token(2));
    expect(iam.forms).to.have.length(2);
  });

  it('a short-lived token is renewed at half its life; `expiration` is read when `expires_in` is absent', async () => {
    let now = 0;
    const tokens = new IamTokens({ url: iam.url, now: () => now });
    iam.expiresIn = 60;
    await tokens.get(GOOD_KEY);
    now = 29_000;
    expect(tokens.get(GOOD_KEY)).to.be.a('string');
    now = 31_000;
    const renewed = tokens.get(GOOD_KEY);
    expect(renewed).to.be.instanceOf(Promise);
    expect(await renewed).to.equal(FakeIam.token(2));
    iam.script = [{ status: 200, body: { access_token: 'eyJ.e.s', expiration: 3600 } }];
    const other = new IamTokens({ url: iam.url, now: () => 0 });
    await other.get(GOOD_KEY);
    expect(other.get(GOOD_KEY)).to.equal('eyJ.e.s');
  });

  it('concurrent requests for one key share one exchange', async () => {
    iam.delayMs = 50;
    const tokens = new IamTokens({ url: iam.url });
    const got = await Promise.all([tokens.get(GOOD_KEY), tokens.get(GOOD_KEY), tokens.get(GOOD_KEY)]);
    expect(new Set(got).size).to.equal(1);
    expect(iam.forms).to.have.length(1);
    expect(tokens.exchanges).to.equal(1);
  });

  it('a key IAM refuses is a 401 with IAM’s message; IAM’s own failures are retryable 502s; neither is cached', async () => {
    const tokens = new IamTokens({ url: iam.url });
    const refused = await Promise.resolve(tokens.get('not-a-key')).catch((e: unknown) => e as any);
    expect([refused.status, refused.retryable]).to.deep.equal([401, false]);
    expect(refused.message).to.include('Provided API key could not be found.').and.not.include('not-a-key');
    iam.script = [
      { status: 503, body: { errorMessage: 'busy' } },
      { status: 200, body: { token_type: 'Bearer' } },
    ];
    const down = await Promise.resolve(tokens.get(GOOD_KEY)).catch((e: unknown) => e as any);
    expect([down.status, down.retryable]).to.deep.equal([502, true]);
    const empty = await Promise.resolve(tokens.get(GOOD_KEY)).catch((e: unknown) => e as any);
    expect([empty.status, empty.message]).to.deep.equal([502, 'watsonx: IBM Cloud IAM answered without an access_token']);
    expect(await tokens.get(GOOD_KEY)).to.match(/^eyJ/);
    const unreachable = new IamTokens({ url: 'http://127.0.0.1:1/identity/token' });
    expect((await Promise.resolve(unreachable.get(GOOD_KEY)).catch((e: unknown) => e as any)).status).to.equal(502);
  });
});

describe('@waygate/provider-watsonx: request mapping', () => {
  const input = (node: Record<string, unknown>, body: Record<string, unknown>, headers: Record<string, string> = {}, baseURL?: string): BuildInput => ({
    ctx: { id: 'r1', headers } as unknown as BuildInput['ctx'],
    target: {
      provider: 'watsonx',
      apiKey: 'eyJa.b.c',
      baseURL: baseURL ?? 'https://{watsonx_region}.ml.cloud.ibm.com',
      node: { provider: 'watsonx', ...node },
      path: 'config',
    },
    body,
  });
  const chat = { model: 'ibm/granite-3-8b-instruct', messages: [{ role: 'user', content: 'hi' }] };

  it('the region fills the host; a project or space makes chat native, tool_choice mapped', () => {
    const native = buildChat(
      input({ watsonx_region: 'eu-de', watsonx_space_id: 'abc-123' }, { ...chat, tool_choice: { type: 'function', function: { name: 'f' } } }),
    );
    expect(native.url).to.equal('https://eu-de.ml.cloud.ibm.com/ml/v1/text/chat?version=2024-05-31');
    expect(JSON.parse(native.body as string)).to.deep.include({ space_id: 'abc-123', tool_choice: { type: 'function', function: { name: 'f' } } });
    expect(native.headers.authorization).to.equal('Bearer eyJa.b.c');
    const gateway = buildChat(input({}, chat, { 'x-portkey-watsonx-region': 'jp-tok' }));
    expect(gateway.url).to.equal('https://jp-tok.ml.cloud.ibm.com/ml/gateway/v1/chat/completions');
    expect(buildChat(input({ watsonx_project_id: PROJECT }, chat, {}, 'http://127.0.0.1:9/')).url).to.equal(
      'http://127.0.0.1:9/ml/v1/text/chat?version=2024-05-31',
    );
  });

  it('a missing or unsafe region, both a project and a space, or a bad id are 400s naming the option', () => {
    expect(thrown(() => buildChat(input({}, chat))).param).to.equal('config.watsonx_region');
    expect(thrown(() => buildChat(input({ watsonx_region: 'evil.example' }, chat))).param).to.equal('config.watsonx_region');
    expect(thrown(() => buildChat(input({ watsonx_region: 'us-south', watsonx_project_id: PROJECT, watsonx_space_id: 'x' }, chat))).status).to.equal(400);
    expect(thrown(() => buildChat(input({ watsonx_region: 'us-south', watsonx_project_id: '../x' }, chat))).param).to.equal('watsonx_project_id');
  });

  it('the native body: model_id, the scope, max_completion_tokens first; stream and user not sent; roles checked', () => {
    expect(
      toWatsonxChat(
        { ...chat, max_tokens: 9, max_completion_tokens: 20, stream: true, user: 'u', n: 2, seed: 3, tool_choice: 'none' },
        { project_id: PROJECT },
      ),
    ).to.deep.equal({
      model_id: 'ibm/granite-3-8b-instruct',
      project_id: PROJECT,
      messages: [{ role: 'user', content: 'hi' }],
      tool_choice_option: 'none',
      max_tokens: 20,
      seed: 3,
      n: 2,
    });
    expect(thrown(() => toWatsonxChat({ ...chat, messages: [{ role: 'function', content: 'x' }] }, {})).param).to.equal('messages[0]');
    expect(thrown(() => toWatsonxChat({ messages: chat.messages }, {})).param).to.equal('model');
  });

  it('tells tokens from API keys', () => {
    expect(isBearerToken(FakeIam.token(1))).to.equal(true);
    expect(isBearerToken(GOOD_KEY)).to.equal(false);
  });
});

describe('@waygate/provider-watsonx in a running gateway', function () {
  this.timeout(20_000);
  let iam: FakeIam;
  let server: http.Server;
  let host = '';
  let gw: Gateway;
  let answer: { status?: number; type?: string; body: string } = { body: '{}' };
  const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const logged: string[] = [];

  before(async () => {
    iam = await FakeIam.start();
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        res.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'application/json' });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: ['@waygate/openai-api', { module: THIS_PACKAGE, options: { iamUrl: iam.url } }],
        providers: { watsonx: { api_key: GOOD_KEY, base_url: host } },
      },
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'trace', destination: { write: (line: string) => void logged.push(line) } }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await iam?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen.length = 0;
    iam.reset();
  });

  const post = (route: string, body: Record<string, unknown>, config: Record<string, unknown> = {}) =>
    fetch(`${gw.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify({ provider: 'watsonx', ...config }) },
      body: JSON.stringify(body),
    });

  it('one IAM exchange serves concurrent requests and the ones after; the API key never reaches watsonx', async () => {
    answer = { body: JSON.stringify(jsonFixture('chat-answer')) };
    iam.delayMs = 30;
    const body = { model: 'ibm/granite-3-8b-instruct', messages: [{ role: 'user', content: 'hi' }] };
    const all = await Promise.all([1, 2, 3].map(() => post('/v1/chat/completions', body, { watsonx_project_id: PROJECT })));
    expect(all.map((r) => r.status)).to.deep.equal([200, 200, 200]);
    await (await post('/v1/chat/completions', body, { watsonx_project_id: PROJECT })).arrayBuffer();
    expect(iam.forms).to.have.length(1);
    expect(seen.map((s) => s.headers.authorization)).to.deep.equal(Array(4).fill(`Bearer ${FakeIam.token(1)}`));
    expect(seen.every((s) => s.url === '/ml/v1/text/chat?version=2024-05-31')).to.equal(true);
    expect(JSON.stringify(seen)).not.to.include(GOOD_KEY);
    expect(logged.join('\n')).not.to.include(GOOD_KEY);
  });

  it('without a project or space: the model gateway, bytes as they came (completions, embeddings, models, chat)', async () => {
    answer = { body: JSON.stringify({ id: 'cmpl-1', object: 'text_completion', choices: [{ index: 0, text: 'ok', finish_reason: 'stop' }], extra: 1 }) };
    const res = await post('/v1/completions', { model: 'ibm/granite-13b', prompt: 'hi', custom_field: true });
    expect(((await res.json()) as any).extra).to.equal(1);
    expect(seen[0]).to.include({ method: 'POST', url: '/ml/gateway/v1/completions' });
    expect(JSON.parse(seen[0]!.body)).to.deep.equal({ model: 'ibm/granite-13b', prompt: 'hi', custom_field: true });
    answer = { body: JSON.stringify({ object: 'list', data: [] }) };
    await (await fetch(`${gw.url}/v1/models`, { headers: { 'x-waygate-config': JSON.stringify({ provider: 'watsonx' }) } })).arrayBuffer();
    expect(seen[1]).to.include({ method: 'GET', url: '/ml/gateway/v1/models' });
    expect(seen[1]!.headers.authorization).to.match(/^Bearer eyJ/);
  });

  it('a gateway-mode stream passes through; one that closes before [DONE] ends with a terminal error event', async () => {
    const chunk = (c: string) =>
      `data: {"id":"g1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${c}"},"finish_reason":null}]}\n\n`;
    answer = { type: 'text/event-stream', body: chunk('Hel') + chunk('lo') + 'data: [DONE]\n\n' };
    const ok = await (await post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true })).text();
    expect(ok).to.include('"Hel"').and.include('data: [DONE]');
    expect(seen[0]!.url).to.equal('/ml/gateway/v1/chat/completions');
    answer = { type: 'text/event-stream', body: chunk('Hel') };
    const cut = await (await post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true })).text();
    expect(cut).not.to.match(/^data: \[DONE\]$/m);
    expect(cut).to.match(/failed after it started: watsonx closed the stream before data: \[DONE\]/);
  });

  it('a native stream that closes before any choice finished is reported; IAM refusing the key is a 401 before any watsonx call', async () => {
    answer = {
      type: 'text/event-stream',
      body: 'id: 1\nevent: message\ndata: {"id":"c","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n',
    };
    const cut = await (
      await post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }, { watsonx_project_id: PROJECT })
    ).text();
    expect(cut).to.match(/watsonx closed the stream before it finished/);
    expect(seen[0]!.url).to.equal('/ml/v1/text/chat_stream?version=2024-05-31');

    seen.length = 0;
    const res = await post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { api_key: 'unknown-api-key-000' });
    expect(res.status).to.equal(401);
    expect(((await res.json()) as any).error.message).to.include('IBM Cloud IAM refused the API key');
    expect(seen).to.have.length(0);
  });
});
