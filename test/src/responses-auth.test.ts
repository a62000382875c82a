// Stored responses are the caller's own: with gateway keys, one key never reads or deletes another's.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, createLogger } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { Writable } from 'node:stream';
import { adminCall } from './helpers/auth-support.js';

const ADMIN = 'admin-key-responses-0123456789';
const MESSAGE = {
  id: 'msg_a',
  type: 'message',
  role: 'assistant',
  model: 'claude-x',
  content: [{ type: 'text', text: 'Mine.' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 3, output_tokens: 1 },
};

describe('/v1/responses: stored responses per gateway key', function () {
  this.timeout(20_000);
  const data = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'waygate-responses-'));
  const ant = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(MESSAGE)));
  });
  let gw: Gateway;
  let keyA: string;
  let keyB: string;

  before(async () => {
    await new Promise<void>((r) => ant.listen(0, '127.0.0.1', r));
    const antURL = `http://127.0.0.1:${(ant.address() as AddressInfo).port}/v1`;
    gw = await startGateway({
      config: {
        plugins: [
          { module: '@waygate/auth', options: { adminKey: ADMIN, store: { type: 'sqlite', path: path.join(data, 'waygate.sqlite') } } },
          '@waygate/responses-api',
        ],
        providers: { anthropic: { api_key: 'sk-ant-held', base_url: antURL } },
        routing: { provider: 'anthropic' },
      },
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'error', destination: new Writable({ write: (_c, _e, done) => done() }) }),
      env: {},
    });
    keyA = (await adminCall(gw.url, ADMIN, 'POST', '/admin/keys', { name: 'a' })).json.key;
    keyB = (await adminCall(gw.url, ADMIN, 'POST', '/admin/keys', { name: 'b' })).json.key;
  });
  after(async () => {
    await gw?.close(0);
    ant.closeAllConnections();
    await new Promise((r) => ant.close(r));
    fs.rmSync(data, { recursive: true, force: true });
  });

  const client = (key: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  const status = (p: Promise<unknown>) =>
    p.then(
      () => 200,
      (e: unknown) => (e as { status?: number }).status,
    );

  it('keeps a response readable only with the key that made it', async () => {
    const r = await client(keyA).responses.create({ model: 'claude-x', input: 'Hi' });
    expect(r.output_text).to.equal('Mine.');
    expect(await status(client(keyB).responses.retrieve(r.id))).to.equal(404);
    expect(await status(client(keyB).responses.inputItems.list(r.id))).to.equal(404);
    expect(await status(client(keyB).responses.delete(r.id))).to.equal(404);
    expect(await status(client(keyB).responses.create({ model: 'claude-x', input: 'x', previous_response_id: r.id }))).to.equal(404);
    expect((await client(keyA).responses.retrieve(r.id)).output_text).to.equal('Mine.');
    expect(await status(client('not-a-key').responses.retrieve(r.id))).to.equal(401);
  });
});
