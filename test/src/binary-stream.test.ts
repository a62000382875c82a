// A binary answer (audio, a file's contents) is relayed as it arrives, not held: the client reads
// the first bytes while the upstream is still sending; an answer larger than upstream.maxResponseBytes
// (the bound of a JSON answer) passes, one past upstream.maxStreamBytes is cut; a client that leaves
// stops the upstream; an upstream that breaks off cuts the client's connection (never a clean end).
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { LogCapture } from './helpers/api-support.js';

const KEY = 'sk-binary-held-0123456789';

/** What the fake does for one request: write the answer's chunks, waiting where the test says. */
type Script = (res: http.ServerResponse, req: http.IncomingMessage) => Promise<void> | void;

describe('binary answers are streamed to the client (audio.speech, file contents)', () => {
  let upstream: http.Server;
  let base: string;
  let script: Script;
  let gw: Gateway;
  let closed: Promise<void>;

  before(async () => {
    upstream = http.createServer((req, res) => {
      let resolveClosed!: () => void;
      closed = new Promise((r) => (resolveClosed = r));
      res.once('close', () => resolveClosed());
      req.resume();
      req.once('end', () => {
        if (req.headers.authorization !== `Bearer ${KEY}`) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"bad key","type":"invalid_request_error"}}');
          return;
        }
        void script(res, req);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    gw = await startGateway({
      config: {
        providers: { openai: { api_key: KEY, base_url: base } },
        routing: { provider: 'openai' },
        upstream: { maxResponseBytes: 1024, maxStreamBytes: 256 * 1024 },
      },
      port: 0,
      host: '127.0.0.1',
      logger: new LogCapture('error').logger,
    });
  });
  after(async () => {
    await gw?.close(0);
    await new Promise((r) => upstream.close(r));
  });

  /** POST /v1/audio/speech through the gateway with node's client; the answer's response object. */
  const speech = () =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' } }, resolve);
      req.once('error', reject);
      req.end(JSON.stringify({ model: 'tts-1', voice: 'alloy', input: 'hello' }));
    });
  const firstChunk = (res: http.IncomingMessage) => new Promise<Buffer>((resolve) => res.once('data', resolve));

  it('the client reads the first bytes before the upstream sends the rest', async () => {
    let release!: () => void;
    const gotFirst = new Promise<void>((r) => (release = r));
    script = async (res) => {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      res.write(Buffer.from([0xff, 0xfb, 0x90]));
      // The rest only once the client has the first bytes: a gateway that held the answer would never release this.
      await gotFirst;
      res.end(Buffer.from([0x64, 0x00]));
    };
    const res = await speech();
    expect(res.statusCode).to.equal(200);
    expect(res.headers['content-type']).to.equal('audio/mpeg');
    const first = await firstChunk(res);
    expect([...first]).to.deep.equal([0xff, 0xfb, 0x90]);
    release();
    const rest: Buffer[] = [];
    for await (const c of res) rest.push(c as Buffer);
    expect([...Buffer.concat(rest)]).to.deep.equal([0x64, 0x00]);
  });

  it('an answer past maxResponseBytes (a JSON answer’s bound) passes whole, through the openai SDK', async () => {
    const audio = Buffer.alloc(100 * 1024, 0xab);
    script = (res) => {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      for (let i = 0; i < audio.length; i += 8192) res.write(audio.subarray(i, i + 8192));
      res.end();
    };
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const answer = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'hello' });
    expect(Buffer.from(await answer.arrayBuffer()).equals(audio)).to.equal(true);
  });

  it('an answer past maxStreamBytes is cut: the client never sees a clean end, and the upstream is dropped', async () => {
    script = (res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * 1024, 1);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    const res = await speech();
    let received = 0;
    const ended = await new Promise<'end' | 'cut'>((resolve) => {
      res.on('data', (c: Buffer) => (received += c.length));
      res.once('end', () => resolve(res.complete ? 'end' : 'cut'));
      res.once('aborted', () => resolve('cut'));
      res.once('error', () => resolve('cut'));
    });
    expect(ended).to.equal('cut');
    expect(received).to.be.at.most(256 * 1024);
    await closed;
  });

  it('a client that leaves mid-answer stops the upstream', async () => {
    script = (res) => {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      res.write(Buffer.alloc(1000, 2));
      // ...and never ends: only the client leaving (relayed by the gateway) closes this response.
    };
    const res = await speech();
    await firstChunk(res);
    res.destroy();
    await closed;
  });

  it('an upstream that breaks off mid-answer cuts the client’s connection', async () => {
    script = (res, req) => {
      res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': '5000' });
      res.write(Buffer.alloc(1000, 3), () => setTimeout(() => req.socket.destroy(), 20));
    };
    const res = await speech();
    const outcome = await new Promise<'end' | 'cut'>((resolve) => {
      res.resume();
      res.once('end', () => resolve(res.complete ? 'end' : 'cut'));
      res.once('aborted', () => resolve('cut'));
      res.once('error', () => resolve('cut'));
    });
    expect(outcome).to.equal('cut');
  });

  it('an upstream error before the body is still an error answer in OpenAI’s shape', async () => {
    script = () => {
      throw new Error('the fake answers a wrong key itself');
    };
    // The caller's own provider key (as a Portkey caller sends it) is what the upstream refuses.
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-wrong-key-000000', maxRetries: 0 });
    const err = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'hello' }).then(
      () => undefined,
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
    );
    expect(err?.status).to.equal(401);
    expect(err?.message).to.include('bad key');
  });
});
