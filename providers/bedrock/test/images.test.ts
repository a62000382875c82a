// Image generations through InvokeModel: each family's request mapping (Titan Image Generator, Nova
// Canvas, the Stability models), sizes, the signed request, the answers (filtered images included) and
// the errors; then through a running gateway to a loopback fake Bedrock that checks every request's
// SigV4 signature and answers in the documented shapes (test/fixtures/).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError, createLogger, startGateway } from '@waygate/core';
import type { BuildInput, Gateway } from '@waygate/core';
import { imagesGenerations } from '../src/adapter.js';
import { amazonQuality, imageFamily, novaSizeProblem, titanSize, toAmazonImageRequest, toStabilityImageRequest } from '../src/images.js';
import { DEFAULT_BASE_URL } from '../src/request.js';
import { signV4 } from '../src/sigv4.js';
import { jsonFixture } from './fixtures.js';

const KEYS = { aws_access_key_id: 'AKIDIMAGES', aws_secret_access_key: 'secret-for-images-0123', aws_session_token: 'session-images' };
const AT = Date.parse('2025-05-06T07:08:09Z');
const TITAN = 'amazon.titan-image-generator-v2:0';
const NOVA = 'amazon.nova-canvas-v1:0';
const SD35 = 'stability.sd3-5-large-v1:0';
const ULTRA = 'stability.stable-image-ultra-v1:1';
const CORE = 'stability.stable-image-core-v1:1';

function input(body: unknown, node: Record<string, unknown> = KEYS, opts: { baseURL?: string; apiKey?: string } = {}): BuildInput {
  return {
    ctx: { id: 'req-img', startedAt: AT, headers: {} } as never,
    target: {
      provider: 'bedrock',
      node: { provider: 'bedrock', ...node },
      path: 'config',
      baseURL: opts.baseURL ?? DEFAULT_BASE_URL,
      apiKey: opts.apiKey,
    },
    body: body as Record<string, unknown>,
  };
}

/** The 400 a mapping throws, by its param. */
function param(fn: () => unknown): string | null {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GatewayError, String(e));
    assert.equal(e.status, 400, e.message);
    return e.param;
  }
  return assert.fail('expected a 400');
}

describe('bedrock image generations', () => {
  describe('which family a model is', () => {
    it('knows Titan, Nova Canvas and the Stability models by id, inference profile id or foundation-model ARN', () => {
      assert.equal(imageFamily('amazon.titan-image-generator-v1'), 'titan');
      assert.equal(imageFamily(TITAN), 'titan');
      assert.equal(imageFamily(NOVA), 'nova-canvas');
      assert.equal(imageFamily('us.amazon.nova-canvas-v1:0'), 'nova-canvas');
      assert.equal(imageFamily('arn:aws:bedrock:us-west-2::foundation-model/stability.sd3-5-large-v1:0'), 'stability');
      for (const m of [ULTRA, CORE, SD35]) assert.equal(imageFamily(m), 'stability');
    });

    it('refuses any other model with a 400 naming model (chat models, SDXL, an opaque ARN)', () => {
      for (const m of [
        'anthropic.claude-3-haiku-20240307-v1:0',
        'stability.stable-diffusion-xl-v1',
        'amazon.titan-embed-image-v1',
        'arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123',
      ]) {
        assert.equal(
          param(() => imageFamily(m)),
          'model',
          m,
        );
      }
    });
  });

  describe('Titan Image Generator and Nova Canvas requests', () => {
    it('maps prompt, negative_prompt, n, size, quality, cfg_scale and seed into TEXT_IMAGE', () => {
      const body = {
        model: TITAN,
        prompt: 'a lighthouse at dusk',
        negative_prompt: 'people',
        n: 3,
        size: '1152x768',
        quality: 'hd',
        cfg_scale: 7.5,
        seed: 42,
        style: 'vivid',
        response_format: 'b64_json',
        user: 'u-1',
      };
      assert.deepEqual(toAmazonImageRequest(body, 'titan'), {
        taskType: 'TEXT_IMAGE',
        textToImageParams: { text: 'a lighthouse at dusk', negativeText: 'people' },
        imageGenerationConfig: { numberOfImages: 3, width: 1152, height: 768, quality: 'premium', cfgScale: 7.5, seed: 42 },
      });
      assert.deepEqual(toAmazonImageRequest({ prompt: 'x' }, 'nova-canvas'), {
        taskType: 'TEXT_IMAGE',
        textToImageParams: { text: 'x' },
        imageGenerationConfig: { numberOfImages: 1 },
      });
    });

    it("quality: standard, low, medium → standard; hd, high, premium → premium; auto → Bedrock's default", () => {
      for (const q of ['standard', 'low', 'medium']) assert.equal(amazonQuality(q), 'standard');
      for (const q of ['hd', 'high', 'premium']) assert.equal(amazonQuality(q), 'premium');
      assert.equal(amazonQuality('auto'), undefined);
      assert.equal(amazonQuality(undefined), undefined);
      assert.equal(
        param(() => amazonQuality('ultra')),
        'quality',
      );
    });

    it("takes Titan's permissible sizes as they are, and any other size as the nearest permissible one", () => {
      assert.deepEqual(titanSize(1024, 1024), { width: 1024, height: 1024 });
      assert.deepEqual(titanSize(1173, 640), { width: 1173, height: 640 });
      assert.deepEqual(titanSize(384, 704), { width: 384, height: 704 });
      assert.deepEqual(titanSize(1792, 1024), { width: 1152, height: 640 }, '1.75 → 9:5');
      assert.deepEqual(titanSize(1024, 1792), { width: 768, height: 1408 }, '0.571 → 6:11');
      assert.deepEqual(titanSize(1536, 1024), { width: 1152, height: 768 });
      assert.deepEqual(titanSize(256, 256), { width: 512, height: 512 }, 'the nearest pixel count among the 1:1 sizes');
      assert.deepEqual(titanSize(800, 800), { width: 768, height: 768 });
      const cfg = (size: string) => toAmazonImageRequest({ prompt: 'x', size }, 'titan').imageGenerationConfig;
      assert.deepEqual(cfg('1792x1024'), { numberOfImages: 1, width: 1152, height: 640 });
      assert.deepEqual(cfg('auto'), { numberOfImages: 1 });
    });

    it("takes any size Nova Canvas's rules allow, and refuses the others with a 400 saying which rule", () => {
      assert.equal(novaSizeProblem(1792, 1024), undefined);
      assert.equal(novaSizeProblem(320, 1280), undefined);
      assert.equal(novaSizeProblem(2032, 2048), undefined);
      assert.match(novaSizeProblem(256, 256)!, /320 to 4096/);
      assert.match(novaSizeProblem(4112, 1024)!, /320 to 4096/);
      assert.match(novaSizeProblem(1000, 1000)!, /multiple of 16/);
      assert.match(novaSizeProblem(320, 1296)!, /1:4 and 4:1/);
      assert.match(novaSizeProblem(2048, 2048)!, /fewer than 4194304 pixels/);
      assert.deepEqual(toAmazonImageRequest({ prompt: 'x', size: '1792x1024' }, 'nova-canvas').imageGenerationConfig, {
        numberOfImages: 1,
        width: 1792,
        height: 1024,
      });
      assert.equal(
        param(() => toAmazonImageRequest({ prompt: 'x', size: '256x256' }, 'nova-canvas')),
        'size',
      );
      assert.equal(
        param(() => toAmazonImageRequest({ prompt: 'x', size: 'big' }, 'titan')),
        'size',
      );
    });

    it("style: Nova Canvas's visual styles go to textToImageParams.style; OpenAI's vivid and natural have no counterpart", () => {
      assert.deepEqual(toAmazonImageRequest({ prompt: 'x', style: 'PHOTOREALISM' }, 'nova-canvas').textToImageParams, {
        text: 'x',
        style: 'PHOTOREALISM',
      });
      assert.deepEqual(toAmazonImageRequest({ prompt: 'x', style: 'natural' }, 'nova-canvas').textToImageParams, { text: 'x' });
      assert.equal(
        param(() => toAmazonImageRequest({ prompt: 'x', style: 'MAXIMALISM' }, 'titan')),
        'style',
      );
      assert.equal(
        param(() => toAmazonImageRequest({ prompt: 'x', style: 'anime' }, 'nova-canvas')),
        'style',
      );
    });

    it('refuses what Titan and Nova Canvas cannot do with a 400 naming the field', () => {
      const p = (body: Record<string, unknown>, family: 'titan' | 'nova-canvas' = 'titan') => param(() => toAmazonImageRequest(body, family));
      assert.equal(p({ prompt: 'x', response_format: 'url' }), 'response_format');
      assert.equal(p({ prompt: '  ' }), 'prompt');
      assert.equal(p({}), 'prompt');
      assert.equal(p({ prompt: 'x', n: 6 }), 'n');
      assert.equal(p({ prompt: 'x', n: 0 }, 'nova-canvas'), 'n');
      assert.equal(p({ prompt: 'x', n: 1.5 }), 'n');
      assert.equal(p({ prompt: 'x', seed: -1 }), 'seed');
      assert.equal(p({ prompt: 'x', seed: 'abc' }), 'seed');
      assert.equal(p({ prompt: 'x', cfg_scale: 'high' }), 'cfg_scale');
      assert.equal(p({ prompt: 'x', output_format: 'jpeg' }, 'nova-canvas'), 'output_format');
      assert.equal(toAmazonImageRequest({ prompt: 'x', n: 5, output_format: 'png' }, 'titan').imageGenerationConfig.numberOfImages, 5);
    });
  });

  describe('Stability model requests', () => {
    it('maps prompt, negative_prompt, size (as the nearest aspect ratio), seed and output_format; mode where documented', () => {
      assert.deepEqual(
        toStabilityImageRequest(
          { prompt: 'a fox', negative_prompt: 'blur', size: '1792x1024', seed: 7, output_format: 'jpeg', n: 1, quality: 'hd' },
          SD35,
        ),
        { prompt: 'a fox', mode: 'text-to-image', negative_prompt: 'blur', aspect_ratio: '16:9', seed: 7, output_format: 'jpeg' },
      );
      assert.deepEqual(toStabilityImageRequest({ prompt: 'a fox', size: '1024x1536' }, ULTRA), {
        prompt: 'a fox',
        mode: 'text-to-image',
        aspect_ratio: '2:3',
      });
      assert.deepEqual(
        toStabilityImageRequest({ prompt: 'a fox', size: '1024x1024' }, CORE),
        { prompt: 'a fox', aspect_ratio: '1:1' },
        'Core documents no mode',
      );
      assert.deepEqual(toStabilityImageRequest({ prompt: 'a fox', size: '1024x1024', aspect_ratio: '21:9' }, CORE), {
        prompt: 'a fox',
        aspect_ratio: '21:9',
      });
      assert.deepEqual(toStabilityImageRequest({ prompt: 'a fox' }, 'us.stability.stable-image-core-v1:1'), { prompt: 'a fox' });
    });

    it('refuses what the Stability models on Bedrock cannot do with a 400 naming the field', () => {
      const p = (body: Record<string, unknown>) => param(() => toStabilityImageRequest(body, ULTRA));
      assert.equal(p({ prompt: 'x', n: 2 }), 'n');
      assert.equal(p({ prompt: 'x', response_format: 'url' }), 'response_format');
      assert.equal(p({ prompt: 'x', output_format: 'webp' }), 'output_format');
      assert.equal(p({ prompt: 'x', aspect_ratio: '7:3' }), 'aspect_ratio');
      assert.equal(p({ prompt: 'x', style: 'PHOTOREALISM' }), 'style');
      assert.equal(p({ prompt: 'x', seed: 1.5 }), 'seed');
    });
  });

  describe('the upstream request', () => {
    it('POSTs the model’s /invoke on the regional host, signed for service bedrock; pure', () => {
      const inp = input({ model: TITAN, prompt: 'a lighthouse', size: '1024x1024' }, { ...KEYS, aws_region: 'us-west-2' });
      const req = imagesGenerations.build(inp);
      assert.equal(req.method, 'POST');
      assert.equal(req.url, 'https://bedrock-runtime.us-west-2.amazonaws.com/model/amazon.titan-image-generator-v2%3A0/invoke');
      assert.deepEqual(JSON.parse(req.body as string), {
        taskType: 'TEXT_IMAGE',
        textToImageParams: { text: 'a lighthouse' },
        imageGenerationConfig: { numberOfImages: 1, width: 1024, height: 1024 },
      });
      const again = signV4({
        method: 'POST',
        url: req.url,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: req.body as string,
        credentials: { accessKeyId: KEYS.aws_access_key_id, secretAccessKey: KEYS.aws_secret_access_key, sessionToken: KEYS.aws_session_token },
        region: 'us-west-2',
        service: 'bedrock',
        date: AT,
      });
      assert.equal(req.headers.authorization, again.headers.authorization);
      assert.match(
        req.headers.authorization!,
        /Credential=AKIDIMAGES\/20250506\/us-west-2\/bedrock\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token,/,
      );
      assert.equal(req.headers['x-amz-security-token'], 'session-images');
      assert.deepEqual(imagesGenerations.build(inp), req, 'pure');
    });

    it('sends a Bedrock API key as a Bearer token; refuses a body that is not JSON and a request without a model', () => {
      const req = imagesGenerations.build(input({ model: NOVA, prompt: 'x' }, {}, { apiKey: 'bedrock-api-key-img', baseURL: 'http://127.0.0.1:9/' }));
      assert.equal(req.url, 'http://127.0.0.1:9/model/amazon.nova-canvas-v1%3A0/invoke');
      assert.equal(req.headers.authorization, 'Bearer bedrock-api-key-img');
      assert.throws(
        () => imagesGenerations.build(input(undefined)),
        (e: GatewayError) => e.status === 400 && /as JSON/.test(e.message),
      );
      assert.equal(
        param(() => imagesGenerations.build(input({ prompt: 'x' }))),
        'model',
      );
      assert.throws(
        () => imagesGenerations.build(input({ model: NOVA, prompt: 'x' }, {})),
        (e: GatewayError) => e.status === 401 && e.code === 'missing_credentials',
      );
    });
  });

  describe('the answers', () => {
    const map = (json: unknown, model: string) => imagesGenerations.mapResponse!(json, input({ model, prompt: 'x' })) as Record<string, any>;
    const fails = (json: unknown, model: string): GatewayError => {
      try {
        map(json, model);
      } catch (e) {
        assert.ok(e instanceof GatewayError);
        return e;
      }
      return assert.fail('expected an error');
    };

    it("Titan's and Nova Canvas's images → OpenAI's {created, data: [{b64_json}]}", () => {
      const titan = jsonFixture('titan-image-answer');
      const out = map(titan, TITAN);
      assert.deepEqual(
        out.data,
        titan.images.map((b64_json: string) => ({ b64_json })),
      );
      assert.ok(Number.isInteger(out.created) && Math.abs(out.created - Date.now() / 1000) < 60);
      assert.deepEqual(map(jsonFixture('nova-image-answer'), NOVA).data, [{ b64_json: jsonFixture('nova-image-answer').images[0] }]);
    });

    it('an answer whose error is set (the moderation policy flagged it) is a 400 content_filter, not retryable', () => {
      const e = fails(jsonFixture('nova-image-moderated'), NOVA);
      assert.deepEqual([e.status, e.code, e.retryable, e.param], [400, 'content_filter', false, 'prompt']);
      assert.match(e.message, /blocked by our content filters/);
    });

    it("a Stability model's images → OpenAI's; a filtered one is a 400 content_filter, an inference error a retryable 502", () => {
      const ok = jsonFixture('stability-image-answer');
      assert.deepEqual(map(ok, ULTRA).data, [{ b64_json: ok.images[0] }]);
      const filtered = fails(jsonFixture('stability-image-filtered'), SD35);
      assert.deepEqual([filtered.status, filtered.code, filtered.retryable], [400, 'content_filter', false]);
      assert.match(filtered.message, /Filter reason: output image/);
      const prompt = fails({ seeds: [1], finish_reasons: ['Filter reason: prompt'], images: ['aGk='] }, CORE);
      assert.equal(prompt.code, 'content_filter', 'a filtered answer is never passed on, even with an image in it');
      const broken = fails(jsonFixture('stability-image-inference-error'), CORE);
      assert.deepEqual([broken.status, broken.code, broken.retryable], [502, 'upstream_bad_response', true]);
      assert.match(broken.message, /Inference error/);
    });

    it('a 200 answer without images is a retryable 502', () => {
      for (const [json, model] of [
        [{ images: [] }, TITAN],
        [{ images: ['ok', 7] }, NOVA],
        [{ seeds: [1], finish_reasons: [null] }, SD35],
        ['text', ULTRA],
        [null, TITAN],
      ] as const) {
        const e = fails(json, model);
        assert.deepEqual([e.status, e.code, e.retryable], [502, 'upstream_bad_response', true], JSON.stringify(json));
      }
    });

    it("maps Bedrock's errors as the package does: status kept, throttling and model timeouts retryable", () => {
      const err = (name: string) => {
        const f = jsonFixture(name);
        return imagesGenerations.mapError!(f.status, f.body, f.headers)!;
      };
      const v = err('error-image-validation');
      assert.deepEqual([v.status, v.retryable], [400, false]);
      assert.match(v.message, /^ValidationException: Malformed input request: #\/imageGenerationConfig\/numberOfImages/);
      assert.deepEqual([err('error-throttled').status, err('error-throttled').retryable], [429, true]);
      assert.deepEqual([err('error-model-timeout').status, err('error-model-timeout').retryable], [408, true]);
      assert.deepEqual([err('error-access-denied').status, err('error-access-denied').retryable], [403, false]);
      assert.deepEqual([err('error-internal').status, err('error-internal').retryable], [500, true]);
    });
  });

  describe('through the gateway, to a fake Bedrock that checks signatures', function () {
    this.timeout(20_000);
    let gw: Gateway;
    let server: http.Server;
    let base = '';
    const seen: Array<{ url: string; headers: http.IncomingHttpHeaders; body: any; signatureOk: boolean }> = [];
    const queue: Array<(res: http.ServerResponse) => void> = [];

    /** Checks a request's SigV4 signature as AWS does: the headers it names, the path and body as received, the known secret. */
    function signatureOk(req: http.IncomingMessage, body: Buffer): boolean {
      const auth = String(req.headers.authorization ?? '');
      const m =
        /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/bedrock\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$/.exec(
          auth,
        );
      if (!m || m[1] !== KEYS.aws_access_key_id || req.headers['x-amz-security-token'] !== KEYS.aws_session_token) return false;
      const stamp = String(req.headers['x-amz-date'] ?? '');
      const date = Date.parse(stamp.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
      if (Number.isNaN(date) || stamp.slice(0, 8) !== m[2]) return false;
      const headers: Record<string, string> = {};
      for (const name of m[4]!.split(';'))
        if (!['host', 'x-amz-date', 'x-amz-security-token'].includes(name)) headers[name] = String(req.headers[name] ?? '');
      const want = signV4({
        method: req.method!,
        url: `http://${req.headers.host}${req.url}`,
        headers,
        body: new Uint8Array(body),
        credentials: { accessKeyId: m[1], secretAccessKey: KEYS.aws_secret_access_key, sessionToken: KEYS.aws_session_token },
        region: m[3]!,
        service: 'bedrock',
        date,
      });
      return want.headers.authorization === auth;
    }

    const json =
      (status: number, body: unknown, headers: Record<string, string> = {}) =>
      (res: http.ServerResponse) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
    const awsError = (name: string) => {
      const f = jsonFixture(name);
      return json(f.status, f.body, f.headers);
    };

    before(async () => {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const raw = Buffer.concat(chunks);
          const ok = signatureOk(req, raw);
          seen.push({ url: req.url!, headers: req.headers, body: JSON.parse(raw.toString('utf8')), signatureOk: ok });
          if (!ok) {
            return json(
              403,
              { message: 'The request signature we calculated does not match the signature you provided.' },
              { 'x-amzn-errortype': 'InvalidSignatureException' },
            )(res);
          }
          const reply = queue.shift();
          if (reply) return reply(res);
          if (req.url === '/model/amazon.titan-image-generator-v2%3A0/invoke') return json(200, jsonFixture('titan-image-answer'))(res);
          if (req.url === '/model/amazon.nova-canvas-v1%3A0/invoke') return json(200, jsonFixture('nova-image-answer'))(res);
          if (/^\/model\/stability\.[^/]+\/invoke$/.test(req.url!)) return json(200, jsonFixture('stability-image-answer'))(res);
          return json(
            404,
            { message: 'Could not resolve the foundation model from the provided model identifier.' },
            { 'x-amzn-errortype': 'ResourceNotFoundException' },
          )(res);
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
    beforeEach(() => {
      seen.length = 0;
      queue.length = 0;
    });

    const post = async (body: Record<string, unknown>, secret = KEYS.aws_secret_access_key) => {
      const res = await fetch(`${gw.url}/v1/images/generations`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-waygate-config': JSON.stringify({ provider: 'bedrock', custom_host: base, aws_region: 'eu-west-1', ...KEYS, aws_secret_access_key: secret }),
        },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, any> };
    };

    it('Titan: the signed InvokeModel request, and every image back as b64_json', async () => {
      const res = await post({ model: TITAN, prompt: 'a lighthouse', n: 2, size: '1792x1024', quality: 'standard', seed: 9 });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(
        res.json.data,
        jsonFixture('titan-image-answer').images.map((b64_json: string) => ({ b64_json })),
      );
      assert.equal(typeof res.json.created, 'number');
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.url, '/model/amazon.titan-image-generator-v2%3A0/invoke');
      assert.equal(seen[0]!.signatureOk, true);
      assert.match(String(seen[0]!.headers.authorization), /Credential=AKIDIMAGES\/\d{8}\/eu-west-1\/bedrock\/aws4_request/);
      assert.deepEqual(seen[0]!.body, {
        taskType: 'TEXT_IMAGE',
        textToImageParams: { text: 'a lighthouse' },
        imageGenerationConfig: { numberOfImages: 2, width: 1152, height: 640, quality: 'standard', seed: 9 },
      });
      assert.ok(!JSON.stringify(seen[0]!.headers).includes(KEYS.aws_secret_access_key), 'the secret leaves only as a signature');
    });

    it('Nova Canvas: the size as asked; a moderated answer is a 400 content_filter in OpenAI’s error shape', async () => {
      const ok = await post({ model: NOVA, prompt: 'a fox', size: '1024x1024', style: 'DESIGN_SKETCH' });
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.equal(ok.json.data.length, 1);
      assert.deepEqual(seen[0]!.body.imageGenerationConfig, { numberOfImages: 1, width: 1024, height: 1024 });
      assert.equal(seen[0]!.body.textToImageParams.style, 'DESIGN_SKETCH');
      queue.push(json(200, jsonFixture('nova-image-moderated')));
      const filtered = await post({ model: NOVA, prompt: 'something refused' });
      assert.equal(filtered.status, 400);
      assert.equal(filtered.json.error.code, 'content_filter');
      assert.match(filtered.json.error.message, /content filter/);
    });

    it('Stability: the body with mode and aspect ratio; a filtered image is a 400 content_filter', async () => {
      const ok = await post({ model: ULTRA, prompt: 'a lighthouse', size: '1536x1024', output_format: 'png' });
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.deepEqual(ok.json.data, [{ b64_json: jsonFixture('stability-image-answer').images[0] }]);
      assert.equal(seen[0]!.url, '/model/stability.stable-image-ultra-v1%3A1/invoke');
      assert.deepEqual(seen[0]!.body, { prompt: 'a lighthouse', mode: 'text-to-image', aspect_ratio: '3:2', output_format: 'png' });
      queue.push(json(200, jsonFixture('stability-image-filtered')));
      const filtered = await post({ model: SD35, prompt: 'forbidden' });
      assert.equal(filtered.status, 400);
      assert.equal(filtered.json.error.code, 'content_filter');
      assert.match(filtered.json.error.message, /Filter reason: output image/);
    });

    it("Bedrock's errors keep their status and message: ValidationException 400, ThrottlingException 429", async () => {
      queue.push(awsError('error-image-validation'));
      const bad = await post({ model: TITAN, prompt: 'x' });
      assert.equal(bad.status, 400);
      assert.match(bad.json.error.message, /^ValidationException: Malformed input request/);
      queue.push(awsError('error-throttled'));
      const slow = await post({ model: NOVA, prompt: 'x' });
      assert.equal(slow.status, 429);
      assert.match(slow.json.error.message, /ThrottlingException: Too many requests/);
    });

    it('reads an answer sent one byte at a time; a 503 keeps its status', async () => {
      const whole = Buffer.from(JSON.stringify(jsonFixture('titan-image-answer')));
      queue.push((res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        let i = 0;
        const next = () => (i < whole.length ? res.write(whole.subarray(i, ++i), () => setImmediate(next)) : res.end());
        next();
      });
      const slow = await post({ model: TITAN, prompt: 'x', n: 2 });
      assert.equal(slow.status, 200, JSON.stringify(slow.json));
      assert.deepEqual(
        slow.json.data,
        jsonFixture('titan-image-answer').images.map((b64_json: string) => ({ b64_json })),
      );
      queue.push(awsError('error-unavailable'));
      const down = await post({ model: NOVA, prompt: 'x' });
      assert.equal(down.status, 503);
      assert.match(down.json.error.message, /^ServiceUnavailableException/);
    });

    it('image edits and variations are not served: a 400 naming the endpoint, nothing sent', async () => {
      const res = await fetch(`${gw.url}/v1/images/variations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify({ provider: 'bedrock', custom_host: base, ...KEYS }) },
        body: JSON.stringify({ model: NOVA, image: 'aGk=' }),
      });
      const json = (await res.json()) as Record<string, any>;
      assert.equal(res.status, 400);
      assert.equal(json.error.code, 'unsupported_endpoint');
      assert.match(json.error.message, /images\.variations/);
      assert.equal(seen.length, 0);
    });

    it('a wrong secret fails the fake’s signature check: 403 InvalidSignatureException', async () => {
      const res = await post({ model: TITAN, prompt: 'x' }, 'not-the-secret');
      assert.equal(res.status, 403);
      assert.match(res.json.error.message, /InvalidSignatureException: The request signature we calculated does not match/);
      assert.equal(seen[0]!.signatureOk, false);
    });

    it('a malformed or cut answer is a 502, and a url response_format a 400 sent nowhere', async () => {
      queue.push((res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"images": ["iVBOR');
      });
      const malformed = await post({ model: TITAN, prompt: 'x' });
      assert.equal(malformed.status, 502);
      queue.push((res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
        res.write('{"seeds": [1], "finish_reasons": [null], "images": ["iVBOR');
        setTimeout(() => res.destroy(), 20);
      });
      const cut = await post({ model: CORE, prompt: 'x' });
      assert.ok(cut.status >= 500, JSON.stringify(cut));
      seen.length = 0;
      const url = await post({ model: TITAN, prompt: 'x', response_format: 'url' });
      assert.equal(url.status, 400);
      assert.equal(url.json.error.param, 'response_format');
      assert.equal(seen.length, 0);
    });
  });
});
