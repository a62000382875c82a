import { ErrorCode, badRequest } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj, nearestAspectRatio, num, str } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { multipartBody } from './multipart.js';

/**
 * OpenAI's `POST /v1/images/generations` request → Stability AI's text-to-image APIs: the v2beta
 * Stable Image API (`/v2beta/stable-image/generate/{ultra|core|sd3}`, multipart/form-data) for the
 * Stable Image and Stable Diffusion 3 models, the v1 engines API (`/v1/generation/{engine}/text-to-image`,
 * JSON) for the `stable-diffusion-*` engines. Both are asked for JSON (`Accept: application/json`): the
 * image comes back base64-encoded, which is OpenAI's `b64_json`.
 */

/** Stability AI's API host; a target's `base_url` (or custom host) replaces it. */
export const STABILITY_BASE_URL = 'https://api.stability.ai';

/** The model used when the request names none. */
export const DEFAULT_MODEL = 'stable-image-core';

/** The most images one v1 request makes (its `samples`). */
export const MAX_V1_SAMPLES = 10;

/** The aspect ratios the v2beta API takes. */
const ASPECT_RATIOS: readonly string[] = ['21:9', '16:9', '3:2', '5:4', '1:1', '4:5', '2:3', '9:16', '9:21'];

/** OpenAI's `style` values, which have no Stability counterpart (any other `style` is a Stability `style_preset`). */
const OPENAI_STYLES = new Set(['vivid', 'natural']);

/** Where a request goes: a v2beta Stable Image endpoint (and its `model` field), or a v1 engine. */
export type Route = { api: 'v2beta'; endpoint: 'ultra' | 'core' | 'sd3'; model?: string } | { api: 'v1'; engine: string };

/**
 * The route for a model name: `stable-image-ultra` (or `ultra`) and `stable-image-core` (or `core`) are
 * their v2beta endpoints; `sd3` is the SD3 endpoint with Stability's default model, and any other `sd3…`
 * name (`sd3.5-large`, `sd3.5-large-turbo`, `sd3.5-medium`, `sd3-medium`, …) that endpoint with the name
 * as its `model`; `stable-diffusion-…` (`stable-diffusion-xl-1024-v1-0`, `stable-diffusion-v1-6`) is a v1 engine.
 */
export function routeFor(model: string): Route {
  if (model === 'stable-image-ultra' || model === 'ultra') return { api: 'v2beta', endpoint: 'ultra' };
  if (model === 'stable-image-core' || model === 'core') return { api: 'v2beta', endpoint: 'core' };
  if (model === 'sd3') return { api: 'v2beta', endpoint: 'sd3' };
  if (/^sd3[a-z0-9.-]+$/i.test(model)) return { api: 'v2beta', endpoint: 'sd3', model };
  if (/^stable-diffusion-[a-z0-9._-]+$/i.test(model)) return { api: 'v1', engine: model };
  throw badRequest(
    ErrorCode.INVALID_REQUEST,
    `Stability AI has no text-to-image model ${JSON.stringify(model)} here: use stable-image-ultra, stable-image-core, an sd3 model (sd3.5-large, sd3.5-large-turbo, sd3.5-medium) or a v1 engine (stable-diffusion-xl-1024-v1-0)`,
    'model',
  );
}

/** The model a request names (the default when it names none), checked to be a string. */
export function modelOf(body: Json): string {
  if (body.model === undefined || body.model === null) return DEFAULT_MODEL;
  const model = str(body.model);
  if (!model) throw badRequest(ErrorCode.INVALID_REQUEST, 'model must be a Stability AI model name', 'model');
  return model;
}

/** The request body, which must be JSON (OpenAI's images request): the endpoint is raw, so other bodies arrive unparsed. */
export function imageRequest(input: BuildInput): Json {
  const body = input.body;
  if (!isObj(body)) throw badRequest(ErrorCode.INVALID_REQUEST, "Send the image request as JSON (OpenAI's images.generate body: prompt, model, n, size)");
  return body;
}

/** `WxH` (OpenAI's `size`) as numbers; undefined for no size or `auto`. */
export function parseSize(size: unknown): { width: number; height: number } | undefined {
  if (size === undefined || size === null || size === 'auto') return undefined;
  const m = typeof size === 'string' ? /^(\d{2,5})x(\d{2,5})$/i.exec(size.trim()) : null;
  if (!m) throw badRequest(ErrorCode.INVALID_REQUEST, `size must be WIDTHxHEIGHT in pixels (e.g. 1024x1024) or auto, not ${JSON.stringify(size)}`, 'size');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** The v2beta aspect ratio nearest a size's (1792x1024 → 16:9, 1024x1024 → 1:1). */
export function aspectRatioFor(width: number, height: number): string {
  return nearestAspectRatio(width, height, ASPECT_RATIOS);
}

/** Checks the fields every route reads the same way; returns the prompt and `n`. */
function common(body: Json, maxN: number, route: Route): { prompt: string; n: number } {
  const prompt = str(body.prompt);
  if (!prompt || !prompt.trim()) throw badRequest(ErrorCode.INVALID_REQUEST, 'prompt is required (the text the image is made from)', 'prompt');
  if (body.response_format !== undefined && body.response_format !== null && body.response_format !== 'b64_json') {
    throw badRequest(
      ErrorCode.INVALID_REQUEST,
      `Stability AI answers with the image itself, never a URL: send response_format b64_json (or none), not ${JSON.stringify(body.response_format)}`,
      'response_format',
    );
  }
  const n = body.n === undefined || body.n === null ? 1 : num(body.n);
  if (n === undefined || !Number.isInteger(n) || n < 1) throw badRequest(ErrorCode.INVALID_REQUEST, 'n must be a whole number of images, at least 1', 'n');
  if (n > maxN) {
    throw badRequest(
      ErrorCode.INVALID_REQUEST,
      route.api === 'v2beta'
        ? `Stability AI's Stable Image API makes one image per request: send n: 1 (one request per image), or use a v1 engine (stable-diffusion-xl-1024-v1-0), which makes up to ${MAX_V1_SAMPLES}`
        : `A Stability AI v1 engine makes at most ${MAX_V1_SAMPLES} images per request (n)`,
      'n',
    );
  }
  return { prompt, n };
}

/** The Stability `style_preset`: the body's own, or OpenAI's `style` when it is not one of OpenAI's values. */
function stylePreset(body: Json): string | undefined {
  const own = str(body.style_preset);
  if (own) return own;
  const style = str(body.style);
  return style && !OPENAI_STYLES.has(style) ? style : undefined;
}

/** A number field the caller sent (Stability's own: `seed`, `cfg_scale`, `steps`), checked. */
function numberField(body: Json, key: string): number | undefined {
  if (body[key] === undefined || body[key] === null) return undefined;
  const v = num(body[key]);
  if (v === undefined) throw badRequest(ErrorCode.INVALID_REQUEST, `${key} must be a number`, key);
  return v;
}

/** The text fields of the v2beta multipart body, in order. */
export function v2Fields(body: Json, route: Extract<Route, { api: 'v2beta' }>): Array<[string, string]> {
  const { prompt } = common(body, 1, route);
  const fields: Array<[string, string]> = [['prompt', prompt]];
  if (route.model) fields.push(['model', route.model]);
  const negative = str(body.negative_prompt);
  if (negative) fields.push(['negative_prompt', negative]);
  const size = parseSize(body.size);
  const aspect = str(body.aspect_ratio) ?? (size ? aspectRatioFor(size.width, size.height) : undefined);
  if (aspect) fields.push(['aspect_ratio', aspect]);
  for (const key of ['seed', 'cfg_scale']) {
    const v = numberField(body, key);
    if (v !== undefined) fields.push([key, String(v)]);
  }
  const format = str(body.output_format);
  if (format) fields.push(['output_format', format]);
  const preset = stylePreset(body);
  if (preset) fields.push(['style_preset', preset]);
  return fields;
}

/** The v1 engines' JSON body: the prompt (and the negative prompt, weighted -1), the size, `samples`. */
export function v1Body(body: Json, route: Extract<Route, { api: 'v1' }>): Json {
  const { prompt, n } = common(body, MAX_V1_SAMPLES, route);
  const text_prompts: Json[] = [{ text: prompt, weight: 1 }];
  const negative = str(body.negative_prompt);
  if (negative) text_prompts.push({ text: negative, weight: -1 });
  const out: Json = { text_prompts, samples: n };
  const size = parseSize(body.size);
  if (size) Object.assign(out, { width: size.width, height: size.height });
  for (const key of ['seed', 'cfg_scale', 'steps']) {
    const v = numberField(body, key);
    if (v !== undefined) out[key] = v;
  }
  for (const key of ['sampler', 'clip_guidance_preset']) if (str(body[key])) out[key] = body[key];
  const preset = stylePreset(body);
  if (preset) out.style_preset = preset;
  return out;
}

/** The upstream request for an image generation, on the target's base URL (default `https://api.stability.ai`). */
export function buildImageGeneration(input: BuildInput): UpstreamRequest {
  const body = imageRequest(input);
  const route = routeFor(modelOf(body));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (input.target.apiKey) headers.authorization = `Bearer ${input.target.apiKey}`;
  const base = (input.target.baseURL ?? STABILITY_BASE_URL).replace(/\/+$/, '');
  if (route.api === 'v1') {
    headers['content-type'] = 'application/json';
    const url = `${base}/v1/generation/${encodeURIComponent(route.engine)}/text-to-image`;
    return { url, method: 'POST', headers, body: JSON.stringify(v1Body(body, route)) };
  }
  const form = multipartBody(v2Fields(body, route));
  headers['content-type'] = form.contentType;
  return { url: `${base}/v2beta/stable-image/generate/${route.endpoint}`, method: 'POST', headers, body: form.body };
}
