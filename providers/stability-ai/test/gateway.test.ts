// The package in a running gateway: @waygate/openai-api and this package (loaded by its path) in front
// of a loopback Stability fake that reads the multipart body with the platform's own parser and
// answers in Stability's documented shapes (test/fixtures/). The key comes from the config file's
// `providers.stability-ai`, whose `base_url` points at the fake.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { fixtures } from '@waygate/core/testing';

const recorded = fixtures(import.meta.url);
const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const KEY = 'sk-stability-held-9f8e7d6c5b4a';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  /** The multipart fields (v2beta) or the JSON body (v1). */
  fields: Record<string, unknown>;
}

/** What the fake does with a request: a status and JSON body, or its own writing (malformed, cut answers). */
type Reply = { status?: number; json: unknown } | ((res: http.ServerResponse) => void);

/** A loopback Stability AI: checks the key, parses the body, answers by path unless a reply is queued. */
class StabilityFake {
  readonly seen: Seen[] = [];
  readonly queue: Reply[] = [];
  server!: http.Server;
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => void this.#answer(req, Buffer.concat(parts), res));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async #answer(req: http.IncomingMessage, raw: Buffer, res: http.ServerResponse): Promise<void> {
    const type = String(req.headers['content-type'] ?? '');
    const fields: Record<string, unknown> = {};
    if (type.startsWith('multipart/form-data')) {
      (await new Response(raw, { headers: { 'content-type': type } }).formData()).forEach((v, k) => (fields[k] = String(v)));
    } else if (raw.length) Object.assign(fields, JSON.parse(raw.toString('utf8')));
    this.seen.push({ method: req.method!, url: req.url!, headers: req.headers, raw, fields });
    const reply = this.queue.shift() ?? this.#byPath(req);
    if (typeof reply === 'function') return reply(res);
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply.json));
  }

  #byPath(req: http.IncomingMessage): Reply {
    if (req.headers.authorization !== `Bearer ${KEY}`) return { status: 401, json: recorded.json('error-v1-unauthorized') };
    if (req.headers.accept !== 'application/json')
      return { status: 406, json: { name: 'not_acceptable', errors: ['accept: application/json or image/*'] } };
    if (/^\/v2beta\/stable-image\/generate\/(ultra|core|sd3)$/.test(req.url!)) return { json: recorded.json('v2-image') };
    if (/^\/v1\/generation\/[^/]+\/text-to-image$/.test(req.url!)) return { json: recorded.json('v1-artifacts') };
    return { status: 404, json: recorded.json('error-v1-not-found') };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('@waygate/provider-stability-ai in a running gateway', () => {
  let up: StabilityFake;
  let gw: Gateway;
  const logs: string[] = [];

  before(async () => {
    up = await new StabilityFake().start();
    gw = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: ['@waygate/openai-api', THIS_PACKAGE],
        providers: { 'stability-ai': { api_key: KEY, base_url: up.url } },
      },
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'trace', destination: { write: (line: string) => void logs.push(line) } }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });
  beforeEach(() => {
    up.seen.length = 0;
    up.queue.length = 0;
  });

  const post = (body: unknown, path = '/v1/images/generations', type = 'application/json') =>
    fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': type, 'x-portkey-provider': 'stability-ai' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const json = async (res: Response) => (await res.json()) as any;

  it('generates with Stable Image Ultra: the multipart fields reach Stability, the image comes back as b64_json', async () => {
    const res = await post({ model: 'stable-image-ultra', prompt: 'a lighthouse at dusk', size: '1024x1792', negative_prompt: 'fog', seed: 7 });
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).to.equal(200);
    expect(res.headers.get('x-waygate-provider')).to.equal('stability-ai');
    expect(body.data).to.deep.equal([{ b64_json: recorded.json('v2-image').image }]);
    expect(body.created).to.be.a('number');
    const seen = up.seen[0]!;
    expect([seen.method, seen.url]).to.deep.equal(['POST', '/v2beta/stable-image/generate/ultra']);
    expect(seen.headers.authorization).to.equal(`Bearer ${KEY}`);
    expect(seen.fields).to.deep.equal({ prompt: 'a lighthouse at dusk', negative_prompt: 'fog', aspect_ratio: '9:16', seed: '7' });
  });

  it('generates with an SD3.5 model (its model field) and with a v1 engine (JSON, n images)', async () => {
    const sd3 = await post({ model: 'sd3.5-large-turbo', prompt: 'a fox' });
    expect(sd3.status).to.equal(200);
    expect(up.seen[0]!.url).to.equal('/v2beta/stable-image/generate/sd3');
    expect(up.seen[0]!.fields).to.deep.equal({ prompt: 'a fox', model: 'sd3.5-large-turbo' });

    const v1 = await post({ model: 'stable-diffusion-xl-1024-v1-0', prompt: 'a fox', n: 2, size: '1024x1024' });
    const body = await json(v1);
    expect(v1.status, JSON.stringify(body)).to.equal(200);
    expect(body.data.map((d: { b64_json: string }) => d.b64_json)).to.deep.equal(
      recorded.json('v1-artifacts').artifacts.map((a: { base64: string }) => a.base64),
    );
    expect(up.seen[1]!.url).to.equal('/v1/generation/stable-diffusion-xl-1024-v1-0/text-to-image');
    expect(up.seen[1]!.headers['content-type']).to.equal('application/json');
    expect(up.seen[1]!.fields).to.deep.equal({ text_prompts: [{ text: 'a fox', weight: 1 }], samples: 2, width: 1024, height: 1024 });
  });

  it('answers a filtered image with a 400 content_filter, the blurred image nowhere in it', async () => {
    for (const [model, name] of [
      ['stable-image-core', 'v2-content-filtered'],
      ['stable-diffusion-v1-6', 'v1-content-filtered'],
    ]) {
      up.queue.push({ json: recorded.json(name!) });
      const res = await post({ model, prompt: 'p', n: model!.startsWith('stable-diffusion') ? 2 : 1 });
      const text = await res.text();
      expect(res.status, name).to.equal(400);
      expect(JSON.parse(text).error, name).to.include({ code: 'content_filter', type: 'invalid_request_error' });
      expect(text, name).not.to.include('iVBOR');
    }
  });

  it("relays Stability's errors in OpenAI's shape with their status; the key is in no error and no log line", async () => {
    const cases: Array<[string, number, number, string]> = [
      ['error-v2-bad-request', 400, 400, 'upstream_error'],
      ['error-v1-unauthorized', 401, 401, 'upstream_error'],
      ['error-v1-permission-denied', 403, 403, 'upstream_error'],
      ['error-v2-content-moderation', 403, 400, 'content_filter'],
      ['error-v1-not-found', 404, 404, 'upstream_error'],
      ['error-v2-payload-too-large', 413, 413, 'upstream_error'],
      ['error-v2-rate-limited', 429, 429, 'upstream_error'],
      ['error-v2-internal', 500, 500, 'upstream_error'],
      ['error-v1-server', 503, 503, 'upstream_error'],
    ];
    for (const [name, status, out, code] of cases) {
      up.queue.push({ status, json: recorded.json(name) });
      const res = await post({ prompt: 'p' });
      const text = await res.text();
      expect(res.status, name).to.equal(out);
      const err = JSON.parse(text).error;
      expect(err.code, name).to.equal(code);
      expect(err.message, name).to.match(/^stability-ai: /);
      expect(text, name).not.to.include(KEY);
    }
    expect(up.seen).to.have.length(cases.length);
    expect(logs.length, 'the gateway logged these requests').to.be.greaterThan(0);
    expect(logs.join('\n')).not.to.include(KEY);
  });

  it('answers a malformed or cut answer with a 502', async () => {
    up.queue.push((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"image": "iVBOR');
    });
    const malformed = await post({ prompt: 'p' });
    expect(malformed.status).to.equal(502);
    expect((await json(malformed)).error.code).to.equal('upstream_bad_response');

    up.queue.push((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"image": "iVBOR', () => res.destroy());
    });
    const cut = await post({ prompt: 'p' });
    expect(cut.status).to.equal(502);

    up.queue.push({ json: { finish_reason: 'SUCCESS', seed: 1 } });
    const empty = await post({ prompt: 'p' });
    expect(empty.status).to.equal(502);
  });

  it('refuses what Stability cannot do before calling it: n > 1 on v2beta, url answers, a multipart body, chat', async () => {
    expect((await post({ prompt: 'p', n: 2 })).status).to.equal(400);
    expect((await post({ prompt: 'p', response_format: 'url' })).status).to.equal(400);
    const form = await post('--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\np\r\n--b--\r\n', undefined, 'multipart/form-data; boundary=b');
    expect(form.status).to.equal(400);
    const chat = await post({ model: 'sd3', messages: [{ role: 'user', content: 'hi' }] }, '/v1/chat/completions');
    expect(chat.status).to.equal(400);
    expect((await json(chat)).error.code).to.equal('unsupported_endpoint');
    expect(up.seen).to.have.length(0);
  });
});
