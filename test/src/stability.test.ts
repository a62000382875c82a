// Stability AI end to end with the official openai SDK: `client.images.generate()` through the
// gateway's HTTP server, on the bundled plugins, to a loopback fake answering in Stability's v2beta
// JSON shape (`{ image, finish_reason, seed }`); the multipart body it received read back with the
// platform's parser.
import { expect } from 'chai';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream } from './fakes/provider-upstreams.js';
import type { Received } from './fakes/provider-upstreams.js';
import { LogCapture } from './helpers/api-support.js';

const KEY = 'sk-stability-e2e-0123456789';
const IMAGE = Buffer.from('png:a lighthouse').toString('base64');

async function fields(req: Received): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const form = await new Response(req.raw, { headers: { 'content-type': String(req.headers['content-type']) } }).formData();
  form.forEach((v, k) => (out[k] = String(v)));
  return out;
}

describe('Stability AI (@waygate/provider-stability-ai) through the openai SDK', () => {
  let up: FakeUpstream;
  let gw: Gateway;

  before(async () => {
    up = await FakeUpstream.start((req) =>
      req.headers.authorization === `Bearer ${KEY}`
        ? { json: { image: IMAGE, finish_reason: req.raw.includes('forbidden') ? 'CONTENT_FILTERED' : 'SUCCESS', seed: 42 } }
        : { status: 401, json: { id: 'e1', name: 'unauthorized', message: 'missing authorization header' } },
    );
    gw = await startGateway({
      config: { providers: { 'stability-ai': { base_url: up.url } } },
      port: 0,
      host: '127.0.0.1',
      logger: new LogCapture('warn').logger,
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });

  const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0, defaultHeaders: { 'x-portkey-provider': 'stability-ai' } });

  it('images.generate(): the caller’s key and prompt reach Stable Image Ultra as multipart; b64_json comes back', async () => {
    const res = await client().images.generate({ model: 'stable-image-ultra', prompt: 'a lighthouse', size: '1536x1024' });
    expect(res.data).to.deep.equal([{ b64_json: IMAGE }]);
    const req = up.requests.at(-1)!;
    expect(req.pathname).to.equal('/v2beta/stable-image/generate/ultra');
    expect(req.headers.authorization).to.equal(`Bearer ${KEY}`);
    expect(req.headers.accept).to.equal('application/json');
    expect(await fields(req)).to.deep.equal({ prompt: 'a lighthouse', aspect_ratio: '3:2' });
  });

  it('a filtered image is an SDK error (400 content_filter), not an image', async () => {
    const err = await client()
      .images.generate({ model: 'sd3.5-large', prompt: 'forbidden' })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).to.equal('content_filter');
  });
});
