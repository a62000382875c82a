// The adapter's pure pieces: OpenAI's images request → Stability's v2beta multipart body or v1 JSON
// body, Stability's recorded answers (test/fixtures/) → OpenAI's images answer, its error bodies →
// GatewayErrors with their status and retryability.
import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import type { BuildInput, RequestContext, Target } from '@waygate/core';
import { fixtures, thrown } from '@waygate/core/testing';
import plugin, {
  aspectRatioFor,
  buildImageGeneration,
  fromStability,
  mapStabilityError,
  multipartBody,
  parseSize,
  routeFor,
  stabilityAi,
  STABILITY_BASE_URL,
} from '../src/index.js';

const recorded = fixtures(import.meta.url);
const KEY = 'sk-stability-secret-0123456789';

function input(body: Record<string, unknown> | undefined, over: { apiKey?: string | null; baseURL?: string } = {}): BuildInput {
  const target: Target = {
    provider: 'stability-ai',
    apiKey: over.apiKey === null ? undefined : (over.apiKey ?? KEY),
    baseURL: over.baseURL ?? 'http://127.0.0.1:9',
    node: { provider: 'stability-ai' },
    path: 'config',
  };
  return { ctx: { headers: {} } as unknown as RequestContext, target, body };
}

/** The fields of a multipart body, read by the platform's own parser (not ours). */
async function formFields(req: { headers: Record<string, string>; body?: string | Uint8Array }): Promise<Record<string, string>> {
  const form = await new Response(req.body as Uint8Array, { headers: { 'content-type': req.headers['content-type']! } }).formData();
  const out: Record<string, string> = {};
  form.forEach((v, k) => (out[k] = String(v)));
  return out;
}

describe('@waygate/provider-stability-ai: mapping', () => {
  it('has a provider manifest and registers stability-ai with only image generations', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/provider-stability-ai', kind: 'provider', core: '^1.0.0' });
    expect(stabilityAi).to.include({ id: 'stability-ai', baseURL: 'https://api.stability.ai' });
    expect(Object.keys(stabilityAi.endpoints)).to.deep.equal(['images.generations']);
  });

  describe('routes', () => {
    it('sends each model name to its API and endpoint', () => {
      expect(routeFor('stable-image-ultra')).to.deep.equal({ api: 'v2beta', endpoint: 'ultra' });
      expect(routeFor('ultra')).to.deep.equal({ api: 'v2beta', endpoint: 'ultra' });
      expect(routeFor('stable-image-core')).to.deep.equal({ api: 'v2beta', endpoint: 'core' });
      expect(routeFor('core')).to.deep.equal({ api: 'v2beta', endpoint: 'core' });
      expect(routeFor('sd3')).to.deep.equal({ api: 'v2beta', endpoint: 'sd3' });
      for (const m of ['sd3.5-large', 'sd3.5-large-turbo', 'sd3.5-medium', 'sd3-medium']) {
        expect(routeFor(m), m).to.deep.equal({ api: 'v2beta', endpoint: 'sd3', model: m });
      }
      expect(routeFor('stable-diffusion-xl-1024-v1-0')).to.deep.equal({ api: 'v1', engine: 'stable-diffusion-xl-1024-v1-0' });
      expect(routeFor('stable-diffusion-v1-6')).to.deep.equal({ api: 'v1', engine: 'stable-diffusion-v1-6' });
    });

    it('refuses a model it cannot place with a 400 naming the model, and any path trickery', () => {
      for (const m of ['dall-e-3', 'stable-diffusion-../../x', 'sd3/../x', '']) {
        const err = thrown(() => routeFor(m));
        expect([err.status, err.code, err.param], m).to.deep.equal([400, 'invalid_request', 'model']);
      }
    });

    it('maps sizes to the nearest aspect ratio the v2beta API takes', () => {
      expect(parseSize('1792x1024')).to.deep.equal({ width: 1792, height: 1024 });
      expect(parseSize('auto')).to.equal(undefined);
      expect(parseSize(undefined)).to.equal(undefined);
      const cases: Array<[number, number, string]> = [
        [1024, 1024, '1:1'],
        [256, 256, '1:1'],
        [1792, 1024, '16:9'],
        [1024, 1792, '9:16'],
        [1536, 1024, '3:2'],
        [1024, 1536, '2:3'],
        [2560, 1080, '21:9'],
        [1080, 2560, '9:21'],
        [1280, 1024, '5:4'],
        [1024, 1280, '4:5'],
      ];
      for (const [w, h, r] of cases) expect(aspectRatioFor(w, h), `${w}x${h}`).to.equal(r);
      for (const bad of ['big', '1024', '1024x', 1024, '0x0x0']) expect(thrown(() => parseSize(bad)).param, String(bad)).to.equal('size');
    });
  });

  describe('the v2beta request (multipart)', () => {
    it('posts the prompt and the mapped fields to /v2beta/stable-image/generate/ultra, asking for JSON, with the bearer key', async () => {
      const req = buildImageGeneration(
        input({ model: 'stable-image-ultra', prompt: 'a lighthouse at dusk', size: '1792x1024', negative_prompt: 'fog', seed: 42, output_format: 'webp' }),
      );
      expect(req).to.include({ url: 'http://127.0.0.1:9/v2beta/stable-image/generate/ultra', method: 'POST' });
      expect(req.headers).to.include({ accept: 'application/json', authorization: `Bearer ${KEY}` });
      expect(req.headers['content-type']).to.match(/^multipart\/form-data; boundary=/);
      expect(await formFields(req)).to.deep.equal({
        prompt: 'a lighthouse at dusk',
        negative_prompt: 'fog',
        aspect_ratio: '16:9',
        seed: '42',
        output_format: 'webp',
      });
    });

    it('sends an sd3 variant to the sd3 endpoint with its model field; bare sd3 without one', async () => {
      const large = buildImageGeneration(input({ model: 'sd3.5-large', prompt: 'p', cfg_scale: 5 }));
      expect(large.url).to.equal('http://127.0.0.1:9/v2beta/stable-image/generate/sd3');
      expect(await formFields(large)).to.deep.equal({ prompt: 'p', model: 'sd3.5-large', cfg_scale: '5' });
      expect(await formFields(buildImageGeneration(input({ model: 'sd3', prompt: 'p' })))).to.deep.equal({ prompt: 'p' });
    });

    it('uses stable-image-core when no model is named; an explicit aspect_ratio wins over size', async () => {
      const req = buildImageGeneration(input({ prompt: 'p', size: '1024x1024', aspect_ratio: '21:9' }));
      expect(req.url).to.equal('http://127.0.0.1:9/v2beta/stable-image/generate/core');
      expect((await formFields(req)).aspect_ratio).to.equal('21:9');
    });

    it('sends a Stability style as style_preset, never OpenAI’s vivid/natural; quality and user are not sent', async () => {
      expect((await formFields(buildImageGeneration(input({ prompt: 'p', style: 'anime' })))).style_preset).to.equal('anime');
      expect((await formFields(buildImageGeneration(input({ prompt: 'p', style_preset: 'pixel-art', style: 'x' })))).style_preset).to.equal('pixel-art');
      expect(await formFields(buildImageGeneration(input({ prompt: 'p', style: 'vivid', quality: 'hd', user: 'u-1' })))).to.deep.equal({ prompt: 'p' });
    });

    it('keeps any text whole, line breaks, quotes and non-ASCII included', async () => {
      const prompt = 'line one\r\nline two "quoted" -- ümlaut ✓\r\n--';
      expect((await formFields(buildImageGeneration(input({ prompt })))).prompt).to.equal(prompt);
      const form = multipartBody([['a', '1']]);
      expect(Buffer.from(form.body).toString()).to.match(
        /^--(----waygate-[0-9a-f]{24})\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--\1--\r\n$/,
      );
    });

    it('sends no authorization header without a key, and honours a base URL with a trailing slash', () => {
      const req = buildImageGeneration(input({ prompt: 'p' }, { apiKey: null, baseURL: 'http://127.0.0.1:9/' }));
      expect(req.headers).not.to.have.property('authorization');
      expect(req.url).to.equal('http://127.0.0.1:9/v2beta/stable-image/generate/core');
      expect(STABILITY_BASE_URL).to.equal('https://api.stability.ai');
    });
  });

  describe('the v1 engines request (JSON)', () => {
    it('posts text_prompts, the size and samples to /v1/generation/{engine}/text-to-image', () => {
      const req = buildImageGeneration(
        input({
          model: 'stable-diffusion-xl-1024-v1-0',
          prompt: 'a fox',
          negative_prompt: 'blur',
          n: 2,
          size: '1152x896',
          steps: 30,
          cfg_scale: 7,
          style: 'photographic',
          sampler: 'K_DPMPP_2M',
        }),
      );
      expect(req.url).to.equal('http://127.0.0.1:9/v1/generation/stable-diffusion-xl-1024-v1-0/text-to-image');
      expect(req.headers).to.deep.equal({ accept: 'application/json', authorization: `Bearer ${KEY}`, 'content-type': 'application/json' });
      expect(JSON.parse(req.body as string)).to.deep.equal({
        text_prompts: [
          { text: 'a fox', weight: 1 },
          { text: 'blur', weight: -1 },
        ],
        samples: 2,
        width: 1152,
        height: 896,
        steps: 30,
        cfg_scale: 7,
        sampler: 'K_DPMPP_2M',
        style_preset: 'photographic',
      });
    });
  });

  describe('requests refused before any upstream call (400)', () => {
    const cases: Array<[string, Record<string, unknown> | undefined, string | null]> = [
      ['a body that is not JSON', undefined, null],
      ['no prompt', { model: 'core' }, 'prompt'],
      ['a blank prompt', { prompt: '   ' }, 'prompt'],
      ['response_format url (Stability sends no URL)', { prompt: 'p', response_format: 'url' }, 'response_format'],
      ['n > 1 on the v2beta API', { prompt: 'p', n: 2 }, 'n'],
      ['n > 10 on a v1 engine', { prompt: 'p', model: 'stable-diffusion-v1-6', n: 11 }, 'n'],
      ['n not a whole number', { prompt: 'p', n: 1.5 }, 'n'],
      ['a size that is not WxH', { prompt: 'p', size: 'large' }, 'size'],
      ['a seed that is not a number', { prompt: 'p', seed: 'x' }, 'seed'],
      ['a model that is not a string', { prompt: 'p', model: 7 }, 'model'],
      ['an unknown model', { prompt: 'p', model: 'gpt-image-1' }, 'model'],
    ];
    for (const [what, body, param] of cases) {
      it(what, () => {
        const err = thrown(() => buildImageGeneration(input(body)));
        expect(err).to.be.instanceOf(GatewayError);
        expect([err.status, err.code, err.param]).to.deep.equal([400, 'invalid_request', param]);
      });
    }
    it('says what to do about n > 1 and url', () => {
      expect(thrown(() => buildImageGeneration(input({ prompt: 'p', n: 3 }))).message).to.match(/one image per request.*v1 engine/);
      expect(thrown(() => buildImageGeneration(input({ prompt: 'p', response_format: 'url' }))).message).to.match(/never a URL.*b64_json/);
    });
  });

  describe('answers', () => {
    const v2 = input({ model: 'stable-image-ultra', prompt: 'p' });
    const v1 = input({ model: 'stable-diffusion-xl-1024-v1-0', prompt: 'p', n: 2 });

    it('turns a v2beta answer into OpenAI’s images shape', () => {
      const answer = recorded.json('v2-image');
      const out = fromStability(answer, v2);
      expect(out).to.deep.equal({ created: out.created, data: [{ b64_json: answer.image }] });
      expect(out.created)
        .to.be.a('number')
        .and.be.closeTo(Date.now() / 1000, 5);
    });

    it('turns each v1 artifact into one image, in order', () => {
      const answer = recorded.json('v1-artifacts');
      expect(fromStability(answer, v1).data).to.deep.equal(answer.artifacts.map((a: { base64: string }) => ({ b64_json: a.base64 })));
    });

    it('fails a filtered image with a 400 content_filter, never passing the blurred image on', () => {
      for (const [name, inp] of [
        ['v2-content-filtered', v2],
        ['v1-content-filtered', v1],
      ] as const) {
        const err = thrown(() => fromStability(recorded.json(name), inp)) as GatewayError;
        expect([err.status, err.code, err.retryable], name).to.deep.equal([400, 'content_filter', false]);
        expect(err.message, name).to.match(/content filter/);
        expect(JSON.stringify(err.toBody()), name).not.to.include(recorded.json(name).image ?? recorded.json(name).artifacts[1].base64);
      }
    });

    it('reports an answer without an image as a retryable 502', () => {
      const bad: Array<[unknown, BuildInput]> = [
        [{ finish_reason: 'SUCCESS', seed: 1 }, v2],
        [[], v2],
        [{ artifacts: [] }, v1],
        [{ artifacts: [{ finishReason: 'ERROR', seed: 1 }] }, v1],
        [{ image: 'x' }, v1],
      ];
      for (const [json, inp] of bad) {
        const err = thrown(() => fromStability(json, inp)) as GatewayError;
        expect([err.status, err.code, err.retryable], JSON.stringify(json)).to.deep.equal([502, 'upstream_bad_response', true]);
      }
    });
  });

  describe('errors', () => {
    const cases: Array<[string, number, number, string, boolean, RegExp]> = [
      ['error-v2-bad-request', 400, 400, 'upstream_error', false, /bad_request: prompt: cannot be empty; aspect_ratio: must be one of/],
      ['error-v1-unauthorized', 401, 401, 'upstream_error', false, /unauthorized: missing authorization header/],
      ['error-v1-permission-denied', 403, 403, 'upstream_error', false, /permission_denied/],
      ['error-v2-content-moderation', 403, 400, 'content_filter', false, /flagged by our content moderation system/],
      ['error-v1-not-found', 404, 404, 'upstream_error', false, /not_found/],
      ['error-v2-payload-too-large', 413, 413, 'upstream_error', false, /10MiB/],
      ['error-v2-rate-limited', 429, 429, 'upstream_error', true, /rate limit of 150 requests/],
      ['error-v2-internal', 500, 500, 'upstream_error', true, /unexpected server error/],
      ['error-v1-server', 503, 503, 'upstream_error', true, /server_error/],
    ];
    for (const [name, status, out, code, retryable, message] of cases) {
      it(`${name} (${status}) → ${out} ${code}, retryable ${retryable}`, () => {
        const err = mapStabilityError(status, recorded.json(name), {});
        expect([err.status, err.code, err.retryable]).to.deep.equal([out, code, retryable]);
        expect(err.message).to.match(message);
        expect(err.upstream?.status).to.equal(status);
      });
    }
    it('keeps a text body’s start, and says the status when there is nothing else', () => {
      expect(mapStabilityError(502, '<html>bad gateway</html>', {}).message).to.equal('stability-ai: <html>bad gateway</html>');
      expect(mapStabilityError(504, '', {})).to.include({ message: 'stability-ai: status 504', retryable: true });
    });
  });
});
