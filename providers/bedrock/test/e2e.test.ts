// Through a real gateway: corrupt event-stream frames and in-stream exceptions become errors, not garbage.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { encodeEvent, encodeException } from '../src/eventstream.js';
import { MODEL, jsonFixture } from './fixtures.js';

const STREAM_HEADERS = jsonFixture('stream-headers');

describe('bedrock through the gateway', function () {
  this.timeout(20_000);
  let gw: Gateway;
  let server: http.Server;
  let base = '';
  let frames: Uint8Array[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, STREAM_HEADERS);
        for (const f of frames) res.write(f);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', { module: new URL('../src/index.js', import.meta.url).href }] },
      port: 0,
      logger: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await gw?.close(0);
    server?.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const post = () =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-waygate-config': JSON.stringify({
          provider: 'bedrock',
          custom_host: base,
          aws_access_key_id: 'AKID',
          aws_secret_access_key: 'secret',
          aws_region: 'us-east-1',
        }),
      },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('answers 502 (upstream_bad_response) when a frame fails its CRC before any content', async () => {
    const bad = encodeEvent('messageStart', { role: 'assistant' }).slice();
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    frames = [bad];
    const res = await post();
    const json = (await res.json()) as any;
    assert.equal(res.status, 502, JSON.stringify(json));
    assert.match(json.error.message, /message CRC/);
  });

  it('turns a throttlingException frame into an error answer', async () => {
    frames = [encodeException('throttlingException', { message: 'Too many tokens, please wait before trying again.' })];
    const res = await post();
    const text = await res.text();
    assert.notEqual(res.status, 200, text);
    assert.match(text, /Too many tokens/);
  });

  it('ends with an error event when a CRC fails mid-stream', async () => {
    const bad = encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: ' world' } }).slice();
    bad[5] = bad[5]! ^ 0x01; // prelude CRC now fails
    frames = [
      encodeEvent('messageStart', { role: 'assistant' }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello' } }),
      bad,
    ];
    const res = await post();
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /Hello/);
    assert.match(text, /"error"/);
    assert.doesNotMatch(text, / world/);
  });
});
