// OpenAI image generations on Imagen through the Gemini API (`:predict`): the mapping, and the
// `openai` SDK's images.generate() through a gateway in front of a loopback fake that answers as
// Google documents (predictions with bytesBase64Encoded; a filtered prediction with raiFilteredReason).
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { GatewayError, createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { aspectRatioOf, toImagenRequest, toOpenAIImages } from '../src/index.js';

const KEY = 'AIza-images-0123456789';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).toString('base64');

describe('google image generations (Imagen :predict)', function () {
  this.timeout(20_000);

  describe('mapping', () => {
    it('sends the prompt, n as sampleCount and the size as the nearest aspect ratio', () => {
      expect(toImagenRequest({ prompt: 'a lighthouse', n: 2, size: '1792x1024' })).to.deep.equal({
        instances: [{ prompt: 'a lighthouse' }],
        parameters: { sampleCount: 2, aspectRatio: '16:9' },
      });
      expect(toImagenRequest({ prompt: 'p' })).to.deep.equal({ instances: [{ prompt: 'p' }], parameters: { sampleCount: 1 } });
      expect(['1024x1024', '1024x1792', '1536x1024', '1024x1536', 'auto'].map(aspectRatioOf)).to.deep.equal(['1:1', '9:16', '4:3', '3:4', undefined]);
    });

    it('refuses with a 400 naming the field: no prompt, a url response_format, n past 4, a bad size', () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{}, 'prompt'],
        [{ prompt: 'p', response_format: 'url' }, 'response_format'],
        [{ prompt: 'p', n: 5 }, 'n'],
        [{ prompt: 'p', size: 'big' }, 'size'],
      ];
      for (const [body, param] of cases) {
        let err: GatewayError | undefined;
        try {
          toImagenRequest(body);
        } catch (e) {
          err = e as GatewayError;
        }
        expect(err, param).to.be.instanceOf(GatewayError);
        expect(err!.status).to.equal(400);
        expect(err!.param).to.equal(param);
      }
    });

    it('answers OpenAI’s shape, skipping filtered predictions; all filtered is a 400 content_filter with the reason', () => {
      const answer = toOpenAIImages(
        { predictions: [{ mimeType: 'image/png', bytesBase64Encoded: PNG }, { raiFilteredReason: 'filtered' }] },
        1_733_300_000_000,
      );
      expect(answer).to.deep.equal({ created: 1_733_300_000, data: [{ b64_json: PNG }] });
      let err: GatewayError | undefined;
      try {
        toOpenAIImages({ predictions: [{ raiFilteredReason: 'The prompt violated a usage guideline.' }] });
      } catch (e) {
        err = e as GatewayError;
      }
      expect(err).to.include({ status: 400, code: 'content_filter', retryable: false });
      expect(err!.message).to.contain('violated a usage guideline');
    });
  });

  describe('through the gateway', () => {
    let gw: Gateway;
    let fake: http.Server;
    let fakeURL = '';
    const seen: Array<{ url: string; headers: http.IncomingHttpHeaders; body: unknown }> = [];
    let reply: { status: number; body: unknown };

    before(async () => {
      fake = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          seen.push({ url: req.url!, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') });
          res.writeHead(reply.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(reply.body));
        });
      });
      await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
      fakeURL = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1beta`;
      gw = await startGateway({
        config: { defaultPlugins: false, plugins: ['@waygate/openai-api', new URL('../src/index.js', import.meta.url).href] },
        port: 0,
        logger: createLogger({ level: 'silent' }),
      });
    });
    after(async () => {
      await gw?.close(0);
      fake?.closeAllConnections();
      await new Promise<void>((r) => fake.close(() => r()));
    });
    beforeEach(() => {
      seen.length = 0;
      reply = { status: 200, body: { predictions: [{ mimeType: 'image/png', bytesBase64Encoded: PNG }] } };
    });

    const client = () =>
      new OpenAI({
        baseURL: `${gw.url}/v1`,
        apiKey: KEY,
        maxRetries: 0,
        defaultHeaders: { 'x-waygate-provider': 'google', 'x-waygate-custom-host': fakeURL },
      });

    it('images.generate(): Imagen’s :predict with the key in x-goog-api-key, the image back as b64_json', async () => {
      const res = await client().images.generate({ model: 'imagen-4.0-fast-generate-001', prompt: 'a lighthouse', size: '1024x1024' });
      expect(res.data![0]!.b64_json).to.equal(PNG);
      expect(seen[0]!.url).to.equal('/v1beta/models/imagen-4.0-fast-generate-001:predict');
      expect(seen[0]!.headers['x-goog-api-key']).to.equal(KEY);
      expect(seen[0]!.body).to.deep.equal({ instances: [{ prompt: 'a lighthouse' }], parameters: { sampleCount: 1, aspectRatio: '1:1' } });
      await client().images.generate({ prompt: 'default model' });
      expect(seen[1]!.url).to.equal('/v1beta/models/imagen-4.0-generate-001:predict');
    });

    it('every image filtered is a 400 content_filter; Google’s error is OpenAI’s shape without the key; a bad request is never sent', async () => {
      reply = { status: 200, body: { predictions: [{ raiFilteredReason: 'The prompt violated a usage guideline.' }] } };
      const filtered = (await client()
        .images.generate({ prompt: 'x' })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(filtered.status).to.equal(400);
      expect(filtered.code).to.equal('content_filter');
      reply = { status: 429, body: { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } } };
      const limited = (await client()
        .images.generate({ prompt: 'x' })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(limited.status).to.equal(429);
      expect(limited.message)
        .to.match(/exhausted/)
        .and.not.contain(KEY);
      seen.length = 0;
      const bad = (await client()
        .images.generate({ prompt: 'x', response_format: 'url' })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(bad.status).to.equal(400);
      expect(seen).to.have.length(0);
    });
  });
});
