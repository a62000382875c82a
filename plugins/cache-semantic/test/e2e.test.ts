// End to end: the real gateway (startGateway) with the OpenAI provider, the fallback strategy and
// this plugin (memory store), in front of a loopback OpenAI-format upstream whose embeddings the
// test controls: basis(0) is a stored prompt, near(0, c) a prompt with cosine similarity c to it.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { ConfigNode, Gateway } from '@waygate/core';
import { FakeModel, basis, near } from './fake-upstream.js';
import { entries as exactEntries } from './fixtures/exact-backend.js';
import type { SemanticCacheHandle } from '../src/index.js';

const PLUGIN = fileURLToPath(new URL('../src/index.js', import.meta.url));
const EXACT_BACKEND = fileURLToPath(new URL('./fixtures/exact-backend.js', import.meta.url));
const silent = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  headers: Headers;
  json?: any;
  /** For streams: the data of every event, in order. */
  events?: string[];
}

/** The data of each SSE event in a body. */
function sseData(text: string): string[] {
  return text
    .split(/\n\n/)
    .filter((block) => block.trim())
    .map((block) =>
      block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n'),
    );
}

/** The content of a streamed chat answer. */
function streamedText(events: string[]): string {
  let s = '';
  for (const d of events) {
    if (d === '[DONE]') continue;
    const c = JSON.parse(d);
    s += c.choices?.[0]?.delta?.content ?? '';
  }
  return s;
}

describe('@waygate/cache-semantic end to end (memory store)', function () {
  let fake: FakeModel;
  let gw: Gateway;
  let cache: SemanticCacheHandle;
  const lines: Array<{ level: string; msg: string; err?: string }> = [];

  before(async () => {
    fake = await FakeModel.start();
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } as never });
    gw = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: [
          // The core serves no endpoint of its own: OpenAI's API is a plugin.
          '@waygate/openai-api',
          '@waygate/provider-openai',
          '@waygate/strategy-fallback',
          {
            module: PLUGIN,
            options: { embedding: { provider: 'openai', model: 'emb-1', api_key: 'sk-emb', custom_host: `${fake.url}/v1` }, threshold: 0.9 },
          },
        ],
      },
      port: 0,
      host: '127.0.0.1',
      logger,
    });
    cache = gw.kernel.registry('caches').get('semantic') as SemanticCacheHandle;
  });
  after(async () => {
    await gw?.close(0);
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const leaf = (extra: Record<string, unknown> = {}): ConfigNode => ({
    provider: 'openai',
    api_key: 'sk-client',
    custom_host: `${fake.url}/v1`,
    cache: { mode: 'semantic' },
    ...extra,
  });
  let seq = 0;
  /** A system prompt no other test uses, so each test has partitions of its own. */
  const fresh = () => `You are test helper ${++seq}.`;
  const chatBody = (system: string, text: string, extra: Record<string, unknown> = {}) => ({
    model: 'gpt-test',
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: text },
    ],
    ...extra,
  });

  async function send(
    config: ConfigNode,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
    route = '/v1/chat/completions',
  ): Promise<Answer> {
    const res = await fetch(gw.url + route, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify(config), ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    await cache.idle();
    if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) return { status: res.status, headers: res.headers, events: sseData(text) };
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  }
  const status = (a: Answer) => a.headers.get('x-waygate-cache-status');
  const content = (a: Answer) => (a.events ? streamedText(a.events) : a.json?.choices?.[0]?.message?.content);

  it('answers a near-identical prompt from the cache without calling the model (SEMANTIC HIT)', async () => {
    const sys = fresh();
    fake.vectors.set('What is the capital of France?', basis(0));
    fake.vectors.set('Tell me the capital of France', near(0, 0.97));
    const first = await send(leaf(), chatBody(sys, 'What is the capital of France?'));
    expect(first.status).to.equal(200);
    expect(status(first)).to.equal('SEMANTIC MISS');
    expect(fake.chats).to.equal(1);
    expect(fake.embeds).to.equal(1);

    const second = await send(leaf(), chatBody(sys, 'Tell me the capital of France'));
    expect(second.status).to.equal(200);
    expect(status(second)).to.equal('SEMANTIC HIT');
    expect(second.headers.get('x-waygate-cache-similarity')).to.equal('0.9700');
    expect(content(second)).to.equal(content(first));
    expect(second.headers.get('x-waygate-target')).to.equal('config');
    expect(fake.chats, 'the model is not called on a hit').to.equal(1);
    expect(fake.embeds).to.equal(2);
  });

  it('calls the model for a prompt below the threshold (near miss)', async () => {
    const sys = fresh();
    fake.vectors.set('How tall is the Eiffel Tower?', basis(1));
    fake.vectors.set('How old is the Eiffel Tower?', near(1, 0.85, 2));
    fake.vectors.set('What age is the Eiffel Tower?', near(1, 0.85, 3));
    await send(leaf(), chatBody(sys, 'How tall is the Eiffel Tower?'));
    const other = await send(leaf(), chatBody(sys, 'How old is the Eiffel Tower?'));
    expect(status(other)).to.equal('SEMANTIC MISS');
    expect(fake.chats).to.equal(2);
    expect(content(other)).to.not.equal(undefined);

    // A node's cache.threshold overrides the plugin's: at 0.8 a prompt as far (0.85) from the first is a
    // hit (the second prompt, at 0.85 * 0.85 from this one, is not the nearest).
    const looser = await send(leaf({ cache: { mode: 'semantic', threshold: 0.8 } }), chatBody(sys, 'What age is the Eiffel Tower?'));
    expect(status(looser)).to.equal('SEMANTIC HIT');
    expect(looser.headers.get('x-waygate-cache-similarity')).to.equal('0.8500');
    expect(fake.chats).to.equal(2);
  });

  it('answers the identical prompt without an embeddings call (HIT)', async () => {
    const sys = fresh();
    const first = await send(leaf(), chatBody(sys, 'Name three primary colours.'));
    expect(fake.embeds).to.equal(1);
    const again = await send(leaf(), chatBody(sys, 'Name three primary colours.', { stream_options: undefined, user: 'someone-else' }));
    expect(status(again)).to.equal('HIT');
    expect(again.headers.get('x-waygate-cache-similarity')).to.equal('1');
    expect(content(again)).to.equal(content(first));
    expect(fake.embeds).to.equal(1);
    expect(fake.chats).to.equal(1);
  });

  it('keeps partitions apart: system prompt, parameters, model, key, host and namespace must match exactly', async () => {
    const sys = fresh();
    fake.vectors.set('Q', basis(2));
    fake.vectors.set('Q?', near(2, 0.99));
    await send(leaf(), chatBody(sys, 'Q'));
    expect(fake.chats).to.equal(1);
    const variants: Array<[ConfigNode, Record<string, unknown>, Record<string, string>]> = [
      [leaf(), chatBody(fresh(), 'Q?'), {}],
      [leaf(), chatBody(sys, 'Q?', { temperature: 0 }), {}],
      [leaf(), { ...chatBody(sys, 'Q?'), model: 'gpt-other' }, {}],
      [leaf({ api_key: 'sk-another-tenant' }), chatBody(sys, 'Q?'), {}],
      [leaf({ override_params: { max_tokens: 5 } }), chatBody(sys, 'Q?'), {}],
      [leaf(), chatBody(sys, 'Q?'), { 'x-waygate-cache-namespace': 'team-b' }],
    ];
    for (const [config, body, headers] of variants) {
      const a = await send(config, body, headers);
      expect(status(a), JSON.stringify({ config, body, headers })).to.equal('SEMANTIC MISS');
    }
    expect(fake.chats).to.equal(1 + variants.length);
    // And the original partition still answers.
    expect(status(await send(leaf(), chatBody(sys, 'Q?')))).to.equal('SEMANTIC HIT');
  });

  it('expires entries after max_age (milliseconds)', async () => {
    const sys = fresh();
    const config = leaf({ cache: { mode: 'semantic', max_age: 150 } });
    await send(config, chatBody(sys, 'What time is it?'));
    expect(status(await send(config, chatBody(sys, 'What time is it?')))).to.equal('HIT');
    await sleep(250);
    const late = await send(config, chatBody(sys, 'What time is it?'));
    expect(status(late)).to.equal('SEMANTIC MISS');
    expect(fake.chats).to.equal(2);
  });

  it('does not cache errors', async () => {
    const sys = fresh();
    fake.chatStatus = [500];
    const failed = await send(leaf(), chatBody(sys, 'Will this fail?'));
    expect(failed.status).to.equal(500);
    const ok = await send(leaf(), chatBody(sys, 'Will this fail?'));
    expect(ok.status).to.equal(200);
    expect(status(ok)).to.equal('SEMANTIC MISS');
    expect(status(await send(leaf(), chatBody(sys, 'Will this fail?')))).to.equal('HIT');
    expect(fake.chats).to.equal(2);
  });

  it('stores a streamed answer as it passes and replays it chunk for chunk, and as JSON', async () => {
    const sys = fresh();
    fake.vectors.set('Stream me a greeting', basis(3));
    fake.vectors.set('Stream me a greeting please', near(3, 0.95));
    const first = await send(leaf(), chatBody(sys, 'Stream me a greeting', { stream: true }));
    expect(status(first)).to.equal('SEMANTIC MISS');
    expect(first.events!.at(-1)).to.equal('[DONE]');

    const replayed = await send(leaf(), chatBody(sys, 'Stream me a greeting please', { stream: true }));
    expect(status(replayed)).to.equal('SEMANTIC HIT');
    expect(replayed.events).to.deep.equal(first.events);
    expect(fake.chats).to.equal(1);

    const asJson = await send(leaf(), chatBody(sys, 'Stream me a greeting please'));
    expect(status(asJson)).to.equal('SEMANTIC HIT');
    expect(asJson.json.object).to.equal('chat.completion');
    expect(asJson.json.choices[0].message.content).to.equal(streamedText(first.events!));
    expect(fake.chats).to.equal(1);
  });

  it('replays a JSON answer as a stream', async () => {
    const sys = fresh();
    fake.vectors.set('JSON first', basis(4));
    fake.vectors.set('JSON first, then a stream', near(4, 0.96));
    const first = await send(leaf(), chatBody(sys, 'JSON first'));
    const streamed = await send(leaf(), chatBody(sys, 'JSON first, then a stream', { stream: true }));
    expect(status(streamed)).to.equal('SEMANTIC HIT');
    expect(streamed.headers.get('content-type')).to.match(/text\/event-stream/);
    expect(streamedText(streamed.events!)).to.equal(content(first));
    expect(streamed.events!.at(-1)).to.equal('[DONE]');
    expect(fake.chats).to.equal(1);
  });

  it('does not store a stream that failed after it started', async () => {
    const sys = fresh();
    fake.cutNextStream = true;
    const cut = await send(leaf(), chatBody(sys, 'Cut me off', { stream: true }));
    expect(cut.status).to.equal(200);
    expect(cut.events!.at(-1)).to.match(/"error"/);
    const again = await send(leaf(), chatBody(sys, 'Cut me off', { stream: true }));
    expect(status(again)).to.equal('SEMANTIC MISS');
    expect(fake.chats).to.equal(2);
  });

  it('does not look up requests that are not eligible (tools): DISABLED without an exact backend', async () => {
    const sys = fresh();
    const body = chatBody(sys, 'What is the weather in Paris?', {
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }],
    });
    const a = await send(leaf(), body);
    const b = await send(leaf(), body);
    expect(status(a)).to.equal('DISABLED');
    expect(status(b)).to.equal('DISABLED');
    expect(fake.embeds).to.equal(0);
    expect(fake.chats).to.equal(2);
  });

  it('force refresh skips the lookup, calls the model and stores the new answer', async () => {
    const sys = fresh();
    const first = await send(leaf(), chatBody(sys, 'Refresh me'));
    const refreshed = await send(leaf(), chatBody(sys, 'Refresh me'), { 'x-waygate-cache-force-refresh': 'true' });
    expect(status(refreshed)).to.equal('REFRESH');
    expect(fake.chats).to.equal(2);
    expect(content(refreshed)).to.not.equal(content(first));
    const after = await send(leaf(), chatBody(sys, 'Refresh me'));
    expect(status(after)).to.equal('HIT');
    expect(content(after)).to.equal(content(refreshed));
  });

  it('a failing embeddings call is a miss, never a failed request', async () => {
    const sys = fresh();
    fake.embedStatus = [503];
    const a = await send(leaf(), chatBody(sys, 'Embed me if you can'));
    expect(a.status).to.equal(200);
    expect(status(a)).to.equal('SEMANTIC MISS');
    expect(fake.chats).to.equal(1);
    const warned = lines.find((l) => /embeddings call failed/.test(l.msg));
    expect(warned?.level).to.equal('warn');
    expect(warned?.err).to.match(/503/);
    // Nothing was stored for it (no vector), so the next one goes to the model too.
    const b = await send(leaf(), chatBody(sys, 'Embed me if you can'));
    expect(status(b)).to.equal('SEMANTIC MISS');
    expect(fake.chats).to.equal(2);
  });

  it("makes the embeddings call with its own target and key, never the client's", async () => {
    await send(leaf(), chatBody(fresh(), 'Whose key?'), { authorization: 'Bearer sk-caller' });
    const embed = fake.calls.find((c) => c.path === '/v1/embeddings')!;
    expect(embed.authorization).to.equal('Bearer sk-emb');
    expect(embed.body).to.deep.equal({ model: 'emb-1', input: 'Whose key?' });
  });

  it('aborts the embeddings call when the client goes away', async () => {
    fake.holdEmbeddings = true;
    const ctrl = new AbortController();
    const pending = fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify(leaf()) },
      body: JSON.stringify(chatBody(fresh(), 'I will leave')),
      signal: ctrl.signal,
    }).catch((err: Error) => err);
    for (let i = 0; i < 200 && fake.embeds === 0; i++) await sleep(10);
    expect(fake.embeds).to.equal(1);
    ctrl.abort();
    expect(await pending).to.be.instanceOf(Error);
    for (let i = 0; i < 200 && fake.embedAborted === 0; i++) await sleep(10);
    expect(fake.embedAborted).to.equal(1);
    expect(fake.chats, 'the model is not called for a client that left').to.equal(0);
  });

  it('answers from the partition of a later target in a fallback plan, naming that target', async () => {
    const sys = fresh();
    const b = leaf({ api_key: 'sk-b' });
    await send(b, chatBody(sys, 'Fallback question'));
    const plan: ConfigNode = {
      strategy: { mode: 'fallback' },
      cache: { mode: 'semantic' },
      targets: [leaf({ api_key: 'sk-a', cache: undefined }), { ...b, cache: undefined }],
    };
    const hit = await send(plan, chatBody(sys, 'Fallback question'));
    expect(status(hit)).to.equal('HIT');
    expect(hit.headers.get('x-waygate-target')).to.equal('config.targets[1]');
    expect(fake.chats).to.equal(1);
  });

  it('serves legacy completions by their prompt', async () => {
    fake.vectors.set('Once upon a time', basis(5));
    fake.vectors.set('Once upon a time,', near(5, 0.99));
    const body = (prompt: string) => ({ model: 'gpt-instruct', prompt, max_tokens: 7 });
    const first = await send(leaf(), body('Once upon a time'), {}, '/v1/completions');
    const second = await send(leaf(), body('Once upon a time,'), {}, '/v1/completions');
    expect(status(first)).to.equal('SEMANTIC MISS');
    expect(status(second)).to.equal('SEMANTIC HIT');
    expect(second.json.choices[0].text).to.equal(first.json.choices[0].text);
    expect(fake.chats).to.equal(1);
  });

  it('speaks the Portkey dialect: x-portkey-cache-status', async () => {
    const sys = fresh();
    const res = await fetch(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-config': JSON.stringify(leaf()) },
      body: JSON.stringify(chatBody(sys, 'Portkey?')),
    });
    await res.text();
    expect(res.headers.get('x-portkey-cache-status')).to.equal('SEMANTIC MISS');
    expect(res.headers.get('x-waygate-cache-status')).to.equal('SEMANTIC MISS');
  });

  it('rejects a bad cache.threshold with a 400 naming its path', async () => {
    const bad = await send({ strategy: { mode: 'fallback' }, targets: [leaf({ cache: { mode: 'semantic', threshold: 1.5 } })] }, chatBody(fresh(), 'x'));
    expect(bad.status).to.equal(400);
    expect(bad.json.error.code).to.equal('invalid_config');
    expect(bad.json.error.param).to.equal('config.targets[0].cache.threshold');
    const simple = await send(leaf({ cache: { mode: 'simple', threshold: 0.9 } }), chatBody(fresh(), 'x'));
    expect(simple.status).to.equal(400);
    expect(simple.json.error.message).to.match(/only to "mode": "semantic"/);
    expect(fake.chats).to.equal(0);
  });

  it('leaves requests without a semantic policy alone', async () => {
    const a = await send(leaf({ cache: undefined }), chatBody(fresh(), 'No cache here'));
    expect(a.status).to.equal(200);
    expect(fake.embeds).to.equal(0);
    expect(a.headers.get('x-waygate-cache-status')).to.equal(null);
  });
});

describe('@waygate/cache-semantic with an exact backend, server keys and start-up checks', function () {
  let fake: FakeModel;
  before(async () => {
    fake = await FakeModel.start();
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it("caches ineligible requests exactly when a `simple` backend is loaded, and uses the gateway's own key for embeddings", async () => {
    process.env.WAYGATE_TEST_EMBED_KEY = 'sk-from-env';
    const gw = await startGateway({
      config: {
        defaultPlugins: false,
        providers: { openai: { api_key: 'sk-server' } },
        plugins: [
          // The core serves no endpoint of its own: OpenAI's API is a plugin.
          '@waygate/openai-api',
          '@waygate/provider-openai',
          EXACT_BACKEND,
          { module: PLUGIN, options: { embedding: { provider: 'openai', model: 'emb-1', custom_host: `${fake.url}/v1` } } },
        ],
      },
      port: 0,
      host: '127.0.0.1',
      logger: silent,
    });
    try {
      const config = { provider: 'openai', api_key: 'sk-client', custom_host: `${fake.url}/v1`, cache: { mode: 'semantic' } };
      const post = async (body: Record<string, unknown>) => {
        const res = await fetch(gw.url + '/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify(config) },
          body: JSON.stringify(body),
        });
        return { status: res.headers.get('x-waygate-cache-status'), json: (await res.json()) as any };
      };
      const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
      const body = { model: 'm', messages: [{ role: 'user', content: 'call f' }], tools };
      const a = await post(body);
      const b = await post(body);
      expect([a.status, b.status]).to.deep.equal(['MISS', 'HIT']);
      expect(b.json.choices[0].message.content).to.equal(a.json.choices[0].message.content);
      expect(exactEntries.size).to.equal(1);
      expect(fake.embeds).to.equal(0);
      expect(fake.chats).to.equal(1);

      // An eligible request: its embeddings call carries the gateway's key for the provider.
      await post({ model: 'm', messages: [{ role: 'user', content: 'plain question' }] });
      expect(fake.calls.find((c) => c.path === '/v1/embeddings')?.authorization).to.equal('Bearer sk-server');
    } finally {
      await gw.close(0);
      exactEntries.clear();
    }

    // `env:NAME` in the embedding api_key reads the environment at start-up.
    const gw2 = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: [
          '@waygate/openai-api',
          '@waygate/provider-openai',
          {
            module: PLUGIN,
            options: { embedding: { provider: 'openai', model: 'emb-1', api_key: 'env:WAYGATE_TEST_EMBED_KEY', custom_host: `${fake.url}/v1` } },
          },
        ],
      },
      port: 0,
      host: '127.0.0.1',
      logger: silent,
    });
    try {
      fake.reset();
      await fetch(gw2.url + '/v1/chat/completions', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-waygate-config': JSON.stringify({ provider: 'openai', api_key: 'sk-client', custom_host: `${fake.url}/v1`, cache: { mode: 'semantic' } }),
        },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'env key?' }] }),
      }).then((r) => r.text());
      expect(fake.calls.find((c) => c.path === '/v1/embeddings')?.authorization).to.equal('Bearer sk-from-env');
    } finally {
      await gw2.close(0);
      delete process.env.WAYGATE_TEST_EMBED_KEY;
    }
  });

  it('refuses to start with an embedding provider that is not loaded, or a missing env key', async () => {
    const start = (embedding: Record<string, unknown>) =>
      startGateway({
        config: { defaultPlugins: false, plugins: ['@waygate/openai-api', '@waygate/provider-openai', { module: PLUGIN, options: { embedding } }] },
        port: 0,
        host: '127.0.0.1',
        logger: silent,
      }).then(
        async (gw) => {
          await gw.close(0);
          throw new Error('expected start-up to fail');
        },
        (err: Error) => err.message,
      );
    expect(await start({ provider: 'nope', model: 'e' })).to.match(/provider "nope" is not loaded/);
    expect(await start({ provider: 'openai', model: 'e', api_key: 'env:WAYGATE_TEST_NOT_SET' })).to.match(/WAYGATE_TEST_NOT_SET/);
    expect(await start({ provider: 'openai' })).to.match(/model/);
  });
});
