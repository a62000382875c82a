// Through a real gateway, against a fake OCI that verifies each request's signature with the public
// key of the test's key pair: the signed request in every form the adapter sends (chat, stream,
// embeddings, dedicated endpoints, options from headers, encrypted keys), and the failures (a wrong
// key refused, missing options, malformed and cut answers), with the private key never in an answer
// or a log line.
import { expect } from 'chai';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { makeKeyPair, startFakeOci } from './fake-oci.js';
import type { FakeOci } from './fake-oci.js';
import { COMPARTMENT, FINGERPRINT, KEYS, KEY_ID, ORACLE_TARGET, TENANCY, USER, jsonFixture, sseFixture } from './fixtures.js';

const ENCRYPTED = makeKeyPair({ pkcs1: true, passphrase: 'correct horse battery staple' });
const OTHER = makeKeyPair();

/** The events of an SSE answer, in order. */
const eventsOf = (text: string): Array<{ data: string }> =>
  text
    .split(/\r?\n\r?\n/)
    .map((block) =>
      block
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((d) => d)
    .map((data) => ({ data }));

/** The base64 body of a PEM key: what must never show up anywhere. */
const secretOf = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----'))[3]!;

describe('oracle through the gateway, signatures verified', function () {
  this.timeout(20_000);
  let fake: FakeOci;
  let encryptedFake: FakeOci;
  let gw: Gateway;
  const logs: string[] = [];

  before(async () => {
    fake = await startFakeOci(KEYS.publicKey, KEY_ID);
    encryptedFake = await startFakeOci(ENCRYPTED.publicKey, KEY_ID);
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', { module: new URL('../src/index.js', import.meta.url).href }] },
      port: 0,
      logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await fake?.close();
    await encryptedFake?.close();
  });
  beforeEach(() => {
    fake.seen.length = 0;
    fake.split = 'as-recorded';
  });

  const post = (route: string, body: unknown, config: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${route}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-waygate-config': JSON.stringify({ provider: 'oracle', custom_host: fake.url, ...ORACLE_TARGET, ...config }),
        ...headers,
      },
      body: JSON.stringify(body),
    });
  const chat = { model: 'meta.llama-3.3-70b-instruct', messages: [{ role: 'user', content: 'Say hello' }] };

  it('signs a chat request the fake verifies with the public key', async () => {
    fake.reply = { body: jsonFixture('chat-generic') };
    const res = await post('/v1/chat/completions', chat);
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.choices[0].message.content).to.equal('Hello! How can I help you today?');
    expect(fake.seen).to.have.length(1);
    expect(fake.seen[0]!.refused).to.equal(undefined);
    expect(fake.seen[0]!.url).to.equal('/20231130/actions/chat');
  });

  it('a request signed with another key is refused by the fake (the verification can fail)', async () => {
    fake.reply = { body: jsonFixture('chat-generic') };
    const res = await post('/v1/chat/completions', chat, { oracle_private_key: OTHER.privateKey });
    const json = (await res.json()) as any;
    expect(res.status).to.equal(401);
    expect(json.error.message).to.match(/NotAuthenticated: .*signature does not verify/);
    expect(fake.seen[0]!.refused).to.equal('signature does not verify');
  });

  it('signs non-ASCII bodies by their UTF-8 bytes (content-length and x-content-sha256)', async () => {
    fake.reply = { body: jsonFixture('chat-generic') };
    const res = await post('/v1/chat/completions', { ...chat, messages: [{ role: 'user', content: 'Grüße, 世界 🌍' }] });
    expect(res.status).to.equal(200);
    expect(fake.seen[0]!.refused).to.equal(undefined);
    expect(fake.seen[0]!.json.chatRequest.messages[0].content[0].text).to.equal('Grüße, 世界 🌍');
  });

  it('signs a request under a custom host with a base path (the path is in the request-target)', async () => {
    fake.reply = { body: jsonFixture('chat-generic') };
    const res = await post('/v1/chat/completions', chat, { custom_host: `${fake.url}/oci/`, oracle_api_version: '20240101' });
    expect(res.status).to.equal(200);
    expect(fake.seen[0]!.url).to.equal('/oci/20240101/actions/chat');
    expect(fake.seen[0]!.refused).to.equal(undefined);
  });

  it('streams: a signed SSE request, translated (also one byte at a time)', async () => {
    for (const split of ['as-recorded', 'bytewise'] as const) {
      fake.seen.length = 0;
      fake.split = split;
      fake.reply = { body: sseFixture('stream-generic') };
      const res = await post('/v1/chat/completions', { ...chat, stream: true });
      const text = await res.text();
      expect(res.status, text).to.equal(200);
      const events = eventsOf(text);
      const content = events
        .slice(0, -1)
        .map((e) => JSON.parse(e.data).choices[0]?.delta?.content ?? '')
        .join('');
      expect(content, split).to.equal('Hello, wörld!');
      expect(events.at(-1)!.data).to.equal('[DONE]');
      expect(fake.seen[0]!.refused).to.equal(undefined);
      expect(fake.seen[0]!.headers.accept).to.equal('text/event-stream');
    }
  });

  it('embeddings: signed embedText, base64 vectors when asked', async () => {
    fake.reply = { body: jsonFixture('embed-text') };
    const res = await post('/v1/embeddings', { model: 'cohere.embed-english-v3.0', input: ['a', 'b'], encoding_format: 'base64', dimensions: 4 });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(fake.seen[0]!.refused).to.equal(undefined);
    expect(fake.seen[0]!.url).to.equal('/20231130/actions/embedText');
    expect(fake.seen[0]!.json.outputDimensions).to.equal(4);
    const v = Buffer.from(json.data[1].embedding, 'base64');
    expect(v.readFloatLE(0)).to.be.closeTo(-0.0311, 1e-6);
    expect(json.usage).to.deep.equal({ prompt_tokens: 7, total_tokens: 7 });
  });

  it('DEDICATED serving mode sends the endpoint OCID', async () => {
    fake.reply = { body: jsonFixture('chat-generic') };
    const endpointId = 'ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaa';
    await (await post('/v1/chat/completions', chat, { oracle_serving_mode: 'DEDICATED', oracle_endpoint_id: endpointId })).arrayBuffer();
    expect(fake.seen[0]!.json.servingMode).to.deep.equal({ servingType: 'DEDICATED', endpointId });
    await (await post('/v1/chat/completions', { ...chat, model: endpointId }, { oracle_serving_mode: 'dedicated' })).arrayBuffer();
    expect(fake.seen[1]!.json.servingMode).to.deep.equal({ servingType: 'DEDICATED', endpointId });
  });

  it("reads Portkey's x-portkey-oracle-* headers (the key with \\n escapes, as a header carries it)", async () => {
    fake.reply = { body: jsonFixture('chat-generic') };
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-portkey-provider': 'oracle',
        'x-portkey-custom-host': fake.url,
        'x-portkey-oracle-compartment-id': COMPARTMENT,
        'x-portkey-oracle-tenancy': TENANCY,
        'x-portkey-oracle-user': USER,
        'x-portkey-oracle-fingerprint': FINGERPRINT,
        'x-portkey-oracle-private-key': KEYS.privateKey.trim().replace(/\n/g, '\\n'),
        'x-waygate-oracle-serving-mode': 'ON_DEMAND',
      },
      body: JSON.stringify(chat),
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    expect(fake.seen[0]!.refused).to.equal(undefined);
    expect(fake.seen[0]!.json.compartmentId).to.equal(COMPARTMENT);
    // The caller's option headers stay at the gateway: only the signature goes to OCI.
    const sent = fake.seen[0]!.headers;
    expect(Object.keys(sent).filter((h) => h.startsWith('x-portkey-') || h.startsWith('x-waygate-'))).to.deep.equal([]);
    expect(JSON.stringify(sent)).not.to.include(secretOf(KEYS.privateKey));
  });

  it('signs with an encrypted PKCS#1 key and its passphrase; a wrong passphrase is a 400 that names no secret', async () => {
    encryptedFake.reply = { body: jsonFixture('chat-generic') };
    const ok = await post('/v1/chat/completions', chat, {
      custom_host: encryptedFake.url,
      oracle_private_key: ENCRYPTED.privateKey,
      oracle_key_passphrase: 'correct horse battery staple',
    });
    expect(ok.status, await ok.clone().text()).to.equal(200);
    expect(encryptedFake.seen.at(-1)!.refused).to.equal(undefined);
    const bad = await post('/v1/chat/completions', chat, {
      custom_host: encryptedFake.url,
      oracle_private_key: ENCRYPTED.privateKey,
      oracle_key_passphrase: 'wrong',
    });
    const text = await bad.text();
    expect(bad.status).to.equal(400);
    expect(JSON.parse(text).error.param).to.equal('oracle_private_key');
    expect(text).not.to.include(secretOf(ENCRYPTED.privateKey));
    expect(text).not.to.include('wrong');
  });

  it('a key that is not a key is a 400 invalid_config, and nothing is sent', async () => {
    const res = await post('/v1/chat/completions', chat, { oracle_private_key: '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----' });
    const json = (await res.json()) as any;
    expect([res.status, json.error.code]).to.deep.equal([400, 'invalid_config']);
    expect(json.error.message).not.to.include('not-a-key');
    expect(fake.seen).to.have.length(0);
  });

  it('missing options: region (without a custom host), compartment and credentials', async () => {
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ custom_host: undefined, oracle_region: undefined }, 400, 'oracle_region'],
      [{ oracle_region: 'us-chicago-1; evil', custom_host: undefined }, 400, 'oracle_region'],
      [{ oracle_compartment_id: undefined }, 400, 'oracle_compartment_id'],
      [{ oracle_tenancy: undefined }, 401, 'oracle_tenancy'],
      [{ oracle_private_key: undefined }, 401, 'oracle_private_key'],
      [{ oracle_serving_mode: 'SOMETIMES' }, 400, 'oracle_serving_mode'],
      [{ oracle_api_version: '../x' }, 400, 'oracle_api_version'],
    ];
    for (const [config, status, param] of cases) {
      const res = await post('/v1/chat/completions', chat, config);
      const json = (await res.json()) as any;
      expect([res.status, json.error.param, json.error.code], param).to.deep.equal([
        status,
        param,
        status === 401 ? 'missing_credentials' : 'invalid_config',
      ]);
    }
    expect(fake.seen).to.have.length(0);
  });

  it('the private key is in no answer and no log line, even when the upstream fails', async () => {
    fake.reply = { status: 500, body: { code: 'InternalServerError', message: 'Internal server error' } };
    const res = await post('/v1/chat/completions', chat);
    const text = await res.text();
    expect(res.status).to.equal(500);
    await new Promise((r) => setTimeout(r, 50));
    const secret = secretOf(KEYS.privateKey);
    expect(text).not.to.include(secret);
    expect(logs.length).to.be.greaterThan(0);
    expect(logs.join('')).not.to.include(secret);
    expect(logs.join('')).not.to.include('PRIVATE KEY');
  });

  it('a 200 that is not a chat result is a 502', async () => {
    fake.reply = { body: { modelId: 'meta.llama-3.3-70b-instruct' } };
    const res = await post('/v1/chat/completions', chat);
    expect(res.status).to.equal(502);
    fake.reply = { body: '{"chatResponse": {"apiFormat": "GENERIC", "choi' };
    expect((await post('/v1/chat/completions', chat)).status).to.equal(502);
  });

  it('a stream cut before its finishReason ends with a stream_interrupted error event', async () => {
    fake.reply = { body: sseFixture('stream-generic').slice(0, 2) };
    const res = await post('/v1/chat/completions', { ...chat, stream: true });
    const text = await res.text();
    expect(res.status).to.equal(200);
    const last = eventsOf(text).at(-1)!;
    expect(JSON.parse(last.data).error.code).to.equal('stream_interrupted');
    expect(text).to.include('Hello');
  });

  it('an error event in the stream becomes the error answer (before content) or a terminal error event (after)', async () => {
    fake.reply = { body: ['data: {"code":"TooManyRequests","message":"Rate limit exceeded"}\n\n'] };
    const early = await post('/v1/chat/completions', { ...chat, stream: true });
    const earlyText = await early.text();
    expect(early.status, earlyText).not.to.equal(200);
    expect(earlyText).to.include('TooManyRequests: Rate limit exceeded');
    fake.reply = { body: [sseFixture('stream-generic')[0]!, 'data: {"apiFormat":"COHERE","errorMessage":"model crashed"}\n\n'] };
    const late = await post('/v1/chat/completions', { ...chat, stream: true });
    const lateText = await late.text();
    expect(late.status).to.equal(200);
    expect(JSON.parse(eventsOf(lateText).at(-1)!.data).error.message).to.include('model crashed');
  });

  it('a stream event that is not JSON ends the stream with an error event', async () => {
    fake.reply = { body: [sseFixture('stream-generic')[0]!, 'data: {not json\n\n'] };
    const res = await post('/v1/chat/completions', { ...chat, stream: true });
    const text = await res.text();
    expect(JSON.parse(eventsOf(text).at(-1)!.data).error.code).to.equal('upstream_bad_response');
  });
});
