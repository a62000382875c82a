import { ErrorCode, GatewayError, badRequest } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { nearestAspectRatio, num, str } from '@waygate/provider-kit';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { modelOf, signedPost } from './request.js';

/**
 * OpenAI's image generations (`POST /v1/images/generations`) through InvokeModel
 * (`POST /model/{modelId}/invoke`), in each model family's own body:
 * - Amazon Titan Image Generator (v1, v2) and Amazon Nova Canvas: `taskType: TEXT_IMAGE`,
 *   `textToImageParams {text, negativeText}`, `imageGenerationConfig {numberOfImages, width, height,
 *   quality, cfgScale, seed}`; the answer `{images: [base64], error}`.
 * - Stability AI on Bedrock (Stable Diffusion 3.5 Large, Stable Image Ultra and Core):
 *   `{prompt, negative_prompt, aspect_ratio, seed, output_format, mode}`; the answer
 *   `{seeds, finish_reasons, images}`.
 * Bedrock answers base64 only, so `response_format: url` is a 400; the answer is OpenAI's
 * `{created, data: [{b64_json}]}`.
 */

/** The image model families served, by the model id a request names. */
export type ImageFamily = 'titan' | 'nova-canvas' | 'stability';

/** Titan Image Generator's permissible sizes (width × height), as AWS's table lists them. */
export const TITAN_SIZES: ReadonlyArray<readonly [number, number]> = [
  [1024, 1024],
  [768, 768],
  [512, 512],
  [768, 1152],
  [384, 576],
  [1152, 768],
  [576, 384],
  [768, 1280],
  [384, 640],
  [1280, 768],
  [640, 384],
  [896, 1152],
  [448, 576],
  [1152, 896],
  [576, 448],
  [768, 1408],
  [384, 704],
  [1408, 768],
  [704, 384],
  [640, 1408],
  [320, 704],
  [1408, 640],
  [704, 320],
  [1152, 640],
  [1173, 640],
];

/** Nova Canvas's size rules: each side 320 to 4096 and a multiple of 16, ratio 1:4 to 4:1, fewer than 4,194,304 pixels. */
export const NOVA_SIZE = { min: 320, max: 4096, step: 16, maxRatio: 4, maxPixels: 4_194_304 } as const;

/** Nova Canvas's visual styles (`textToImageParams.style`). */
export const NOVA_STYLES: readonly string[] = [
  '3D_ANIMATED_FAMILY_FILM',
  'DESIGN_SKETCH',
  'FLAT_VECTOR_ILLUSTRATION',
  'GRAPHIC_NOVEL_ILLUSTRATION',
  'MAXIMALISM',
  'MIDCENTURY_RETRO',
  'PHOTOREALISM',
  'SOFT_DIGITAL_PAINTING',
];

/** The aspect ratios the Stability models on Bedrock take. */
export const STABILITY_ASPECT_RATIOS: readonly string[] = ['16:9', '1:1', '21:9', '2:3', '3:2', '4:5', '5:4', '9:16', '9:21'];

/** The most images one request makes: Titan and Nova Canvas 5, the Stability models 1. */
export const MAX_IMAGES: Readonly<Record<ImageFamily, number>> = { titan: 5, 'nova-canvas': 5, stability: 1 };

/** OpenAI's `style` values, which no Bedrock model has a counterpart for (ignored). */
const OPENAI_STYLES = new Set(['vivid', 'natural']);

/** The model id inside what a request names: an ARN's resource id (after its last `/`), else the name itself. */
function modelIdOf(model: string): string {
  return model.startsWith('arn:') ? model.slice(model.lastIndexOf('/') + 1) : model;
}

/**
 * The family of a model id, a cross-region inference profile id (`us.amazon.nova-canvas-v1:0`) or a
 * foundation-model ARN; anything else is a 400 naming what is served.
 */
export function imageFamily(model: string): ImageFamily {
  const id = modelIdOf(model);
  if (/^([a-z]{2,4}\.)?amazon\.titan-image-generator-v[12]\b/.test(id)) return 'titan';
  if (/^([a-z]{2,4}\.)?amazon\.nova-canvas-v\d/.test(id)) return 'nova-canvas';
  if (/^([a-z]{2,4}\.)?stability\.(sd3|stable-image-(ultra|core))\b/.test(id)) return 'stability';
  throw badRequest(
    ErrorCode.INVALID_REQUEST,
    `bedrock generates images with amazon.titan-image-generator-v1/-v2:0, amazon.nova-canvas-v1:0, stability.sd3-5-large-v1:0, stability.stable-image-ultra-v1:1 or stability.stable-image-core-v1:1, not ${JSON.stringify(model.slice(0, 200))}`,
    'model',
  );
}

/** The Stability models whose text-to-image body documents `mode` (SD3.5 Large, Stable Image Ultra; not Core). */
function takesMode(model: string): boolean {
  return /^([a-z]{2,4}\.)?stability\.(sd3|stable-image-ultra)\b/.test(modelIdOf(model));
}

/** The request body, which must be JSON (OpenAI's images request): the endpoint is raw, so other bodies arrive unparsed. */
function imageBody(input: BuildInput): Json {
  if (!isObj(input.body))
    throw badRequest(ErrorCode.INVALID_REQUEST, "Send the image request as JSON (OpenAI's images.generate body: prompt, model, n, size)");
  return input.body;
}

/** `WxH` (OpenAI's `size`) as numbers; undefined for no size or `auto`. */
export function parseSize(size: unknown): { width: number; height: number } | undefined {
  if (size === undefined || size === null || size === 'auto') return undefined;
  const m = typeof size === 'string' ? /^(\d{2,5})x(\d{2,5})$/.exec(size.trim()) : null;
  if (!m || Number(m[1]) === 0 || Number(m[2]) === 0)
    throw badRequest(ErrorCode.INVALID_REQUEST, `size must be WIDTHxHEIGHT in pixels (such as 1024x1024) or auto, not ${JSON.stringify(size)}`, 'size');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/**
 * The Titan size for a requested one: the size itself when Titan permits it, else the permissible size
 * of the nearest aspect ratio and, among those, the nearest pixel count (1792x1024 → 1152x640).
 */
export function titanSize(width: number, height: number): { width: number; height: number } {
  const ratio = nearestAspectRatio(
    width,
    height,
    TITAN_SIZES.map(([w, h]) => `${w}:${h}`),
  );
  const [rw, rh] = ratio.split(':').map(Number) as [number, number];
  const area = (w: number, h: number) => Math.abs(Math.log((w * h) / (width * height)));
  const [w, h] = TITAN_SIZES.filter(([sw, sh]) => sw * rh === sh * rw).reduce((best, s) => (area(s[0], s[1]) < area(best[0], best[1]) ? s : best));
  return { width: w, height: h };
}

/** Why Nova Canvas refuses a size, or undefined when it takes it. */
export function novaSizeProblem(width: number, height: number): string | undefined {
  const { min, max, step, maxRatio, maxPixels } = NOVA_SIZE;
  if ([width, height].some((s) => s < min || s > max)) return `each side must be ${min} to ${max} pixels`;
  if ([width, height].some((s) => s % step !== 0)) return `each side must be a multiple of ${step}`;
  if (Math.max(width, height) > maxRatio * Math.min(width, height)) return `the aspect ratio must be between 1:${maxRatio} and ${maxRatio}:1`;
  if (width * height >= maxPixels) return `it must have fewer than ${maxPixels} pixels`;
  return undefined;
}

/** The prompt, `response_format` and `n`, which every family reads the same way. */
function common(body: Json, family: ImageFamily): { prompt: string; n: number } {
  const prompt = str(body.prompt);
  if (!prompt || !prompt.trim()) throw badRequest(ErrorCode.INVALID_REQUEST, 'prompt is required (the text the image is made from)', 'prompt');
  if (body.response_format !== undefined && body.response_format !== null && body.response_format !== 'b64_json') {
    throw badRequest(
      ErrorCode.INVALID_REQUEST,
      `bedrock answers images as base64 only, never a URL: send response_format b64_json (or none), not ${JSON.stringify(body.response_format)}`,
      'response_format',
    );
  }
  const max = MAX_IMAGES[family];
  const n = body.n === undefined || body.n === null ? 1 : num(body.n);
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > max) {
    throw badRequest(
      ErrorCode.INVALID_REQUEST,
      max === 1
        ? 'The Stability models on Bedrock make one image per request: send n: 1 (one request per image)'
        : `n must be a whole number from 1 to ${max} for ${family === 'titan' ? 'Titan Image Generator' : 'Nova Canvas'}`,
      'n',
    );
  }
  return { prompt, n };
}

/** A number field the caller sent (Bedrock's own: `seed`, `cfg_scale`), checked; a seed must be a whole number, at least 0. */
function numberField(body: Json, key: string): number | undefined {
  if (body[key] === undefined || body[key] === null) return undefined;
  const v = num(body[key]);
  if (v === undefined || (key === 'seed' && (!Number.isInteger(v) || v < 0)))
    throw badRequest(ErrorCode.INVALID_REQUEST, `${key} must be a ${key === 'seed' ? 'whole number, at least 0' : 'number'}`, key);
  return v;
}

/** OpenAI's `quality` as Titan's and Nova Canvas's (`standard`, `premium`); undefined for `auto` or none. */
export function amazonQuality(quality: unknown): 'standard' | 'premium' | undefined {
  if (quality === undefined || quality === null || quality === 'auto') return undefined;
  if (quality === 'standard' || quality === 'low' || quality === 'medium') return 'standard';
  if (quality === 'hd' || quality === 'high' || quality === 'premium') return 'premium';
  throw badRequest(
    ErrorCode.INVALID_REQUEST,
    `quality must be standard, hd, low, medium, high, premium or auto, not ${JSON.stringify(quality)}`,
    'quality',
  );
}

/** A `style` other than OpenAI's own (`vivid`, `natural`, ignored) is a Nova Canvas visual style; other families take none. */
function styleOf(body: Json, family: ImageFamily): string | undefined {
  const style = body.style;
  if (style === undefined || style === null || (typeof style === 'string' && OPENAI_STYLES.has(style))) return undefined;
  if (family === 'nova-canvas' && typeof style === 'string' && NOVA_STYLES.includes(style)) return style;
  throw badRequest(
    ErrorCode.INVALID_REQUEST,
    family === 'nova-canvas'
      ? `style must be vivid, natural (no counterpart on Bedrock) or a Nova Canvas style: ${NOVA_STYLES.join(', ')}`
      : 'style has no counterpart on this Bedrock model: send vivid, natural or none',
    'style',
  );
}

/** OpenAI's `output_format` (`png`, `jpeg`, `webp`) as far as the family can honour it. */
function outputFormat(body: Json, family: ImageFamily): 'png' | 'jpeg' | undefined {
  const f = body.output_format;
  if (f === undefined || f === null) return undefined;
  if (f === 'png' || (f === 'jpeg' && family === 'stability')) return f;
  throw badRequest(
    ErrorCode.INVALID_REQUEST,
    family === 'stability'
      ? `output_format must be png or jpeg for the Stability models on Bedrock, not ${JSON.stringify(f)}`
      : `Titan and Nova Canvas make PNG images: send output_format png or none, not ${JSON.stringify(f)}`,
    'output_format',
  );
}

/** OpenAI's images request → Titan Image Generator's or Nova Canvas's `TEXT_IMAGE` body. */
export function toAmazonImageRequest(body: Json, family: 'titan' | 'nova-canvas'): Json {
  const { prompt, n } = common(body, family);
  const textToImageParams: Json = { text: prompt };
  const negative = str(body.negative_prompt);
  if (negative) textToImageParams.negativeText = negative;
  const style = styleOf(body, family);
  if (style) textToImageParams.style = style;
  outputFormat(body, family);
  const imageGenerationConfig: Json = { numberOfImages: n };
  const size = parseSize(body.size);
  if (size) {
    if (family === 'titan') Object.assign(imageGenerationConfig, titanSize(size.width, size.height));
    else {
      const problem = novaSizeProblem(size.width, size.height);
      if (problem) throw badRequest(ErrorCode.INVALID_REQUEST, `Nova Canvas cannot make a ${size.width}x${size.height} image: ${problem}`, 'size');
      Object.assign(imageGenerationConfig, size);
    }
  }
  const quality = amazonQuality(body.quality);
  if (quality) imageGenerationConfig.quality = quality;
  const cfgScale = numberField(body, 'cfg_scale');
  if (cfgScale !== undefined) imageGenerationConfig.cfgScale = cfgScale;
  const seed = numberField(body, 'seed');
  if (seed !== undefined) imageGenerationConfig.seed = seed;
  return { taskType: 'TEXT_IMAGE', textToImageParams, imageGenerationConfig };
}

/** OpenAI's images request → a Stability model's text-to-image body on Bedrock. */
export function toStabilityImageRequest(body: Json, model: string): Json {
  const { prompt } = common(body, 'stability');
  styleOf(body, 'stability');
  const out: Json = { prompt };
  if (takesMode(model)) out.mode = 'text-to-image';
  const negative = str(body.negative_prompt);
  if (negative) out.negative_prompt = negative;
  const size = parseSize(body.size);
  const own = body.aspect_ratio;
  if (own !== undefined && own !== null && !(typeof own === 'string' && STABILITY_ASPECT_RATIOS.includes(own)))
    throw badRequest(ErrorCode.INVALID_REQUEST, `aspect_ratio must be one of ${STABILITY_ASPECT_RATIOS.join(', ')}`, 'aspect_ratio');
  const aspect = (own as string | undefined) ?? (size ? nearestAspectRatio(size.width, size.height, STABILITY_ASPECT_RATIOS) : undefined);
  if (aspect) out.aspect_ratio = aspect;
  const seed = numberField(body, 'seed');
  if (seed !== undefined) out.seed = seed;
  const format = outputFormat(body, 'stability');
  if (format) out.output_format = format;
  return out;
}

/** The upstream request: a signed `POST /model/{modelId}/invoke` with the family's body. */
export function buildImageGeneration(input: BuildInput): UpstreamRequest {
  const body = imageBody(input);
  const model = modelOf(input);
  const family = imageFamily(model);
  const payload = family === 'stability' ? toStabilityImageRequest(body, model) : toAmazonImageRequest(body, family);
  return signedPost(input, `/model/${encodeURIComponent(model)}/invoke`, payload);
}

/** The 502 for a 200 answer that carries no image. */
function notAnImage(what: string): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `bedrock answered an image generation with a body that is not an image: ${what}`, {
    retryable: true,
  });
}

/** The 400 `content_filter` for what Bedrock's moderation withheld. Not retryable. */
function contentFiltered(detail: string): GatewayError {
  return new GatewayError('content_filter', 400, `bedrock's content filter withheld the image (${detail}); change the prompt`, {
    type: 'invalid_request_error',
    param: 'prompt',
  });
}

const created = (): number => Math.floor(Date.now() / 1000);

/** Each of a list's entries as a base64 image, or the 502 naming the first that is not one. */
function imagesOf(images: unknown): Array<{ b64_json: string }> {
  if (!Array.isArray(images) || images.length === 0) throw notAnImage('no images');
  return images.map((image: unknown, i) => {
    if (typeof image !== 'string' || image === '') throw notAnImage(`images[${i}] is not a base64 string`);
    return { b64_json: image };
  });
}

/**
 * Titan's or Nova Canvas's answer `{images, error}`: `error` is set when the moderation policy flagged
 * the prompt or at least one image, and then the request fails with a 400 `content_filter`.
 */
export function fromAmazonImages(json: unknown): Json {
  if (!isObj(json)) throw notAnImage('not a JSON object');
  if (json.error !== undefined && json.error !== null) throw contentFiltered(typeof json.error === 'string' ? json.error.slice(0, 500) : 'error');
  return { created: created(), data: imagesOf(json.images) };
}

/**
 * A Stability model's answer `{seeds, finish_reasons, images}`: a `Filter reason: …` (prompt, output
 * image, input image) is a 400 `content_filter`; `Inference error` is a retryable 502.
 */
export function fromStabilityImages(json: unknown): Json {
  if (!isObj(json)) throw notAnImage('not a JSON object');
  const reasons: unknown[] = Array.isArray(json.finish_reasons) ? json.finish_reasons : [];
  const reason = reasons.find((r) => r !== null && r !== undefined);
  if (reason !== undefined) {
    const text = typeof reason === 'string' ? reason.slice(0, 200) : JSON.stringify(reason);
    if (/^Filter reason/i.test(text)) throw contentFiltered(`finish_reasons: ${text}`);
    throw notAnImage(`finish_reasons: ${text}`);
  }
  return { created: created(), data: imagesOf(json.images) };
}

/** The answer for the family the request was sent to (worked out again from the request, as build() did). */
export function fromBedrockImages(json: unknown, input: BuildInput): Json {
  return imageFamily(modelOf(input)) === 'stability' ? fromStabilityImages(json) : fromAmazonImages(json);
}
