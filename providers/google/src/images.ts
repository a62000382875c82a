import { ErrorCode, GatewayError, badRequest } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { nearestAspectRatio } from '@waygate/provider-kit';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { base, headers, modelPath } from './request.js';

/** The model an image request names by default: Imagen 4 on the Gemini API. */
export const DEFAULT_IMAGE_MODEL = 'imagen-4.0-generate-001';

/** Imagen's aspect ratios. */
const ASPECTS: readonly string[] = ['1:1', '3:4', '4:3', '9:16', '16:9'];

/** OpenAI's `size` (`1792x1024`) as the nearest of Imagen's aspect ratios; undefined for `auto` or none. */
export function aspectRatioOf(size: unknown): string | undefined {
  if (size === undefined || size === null || size === 'auto') return undefined;
  const m = typeof size === 'string' ? /^(\d{2,5})x(\d{2,5})$/.exec(size) : null;
  if (!m) throw badRequest(ErrorCode.INVALID_REQUEST, `size must be WIDTHxHEIGHT (such as 1024x1024) or auto, got ${JSON.stringify(size)}`, 'size');
  return nearestAspectRatio(Number(m[1]), Number(m[2]), ASPECTS);
}

/**
 * OpenAI image generations → Imagen's `:predict` body (`instances[].prompt`, `parameters`). Imagen
 * answers base64 only, so `response_format: url` is a 400 rather than an answer without URLs;
 * `n` is Imagen's `sampleCount` (1 to 4). `quality`, `style` and `user` have no counterpart.
 */
export function toImagenRequest(body: Json): Json {
  if (typeof body.prompt !== 'string' || body.prompt.trim() === '') throw badRequest(ErrorCode.INVALID_REQUEST, 'prompt is required', 'prompt');
  if (body.response_format !== undefined && body.response_format !== null && body.response_format !== 'b64_json') {
    throw badRequest(
      ErrorCode.INVALID_REQUEST,
      'google (Imagen) answers images as base64 only: send response_format "b64_json" or leave it out',
      'response_format',
    );
  }
  const n = body.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 4)
    throw badRequest(ErrorCode.INVALID_REQUEST, 'n must be a whole number from 1 to 4 for Imagen', 'n');
  const parameters: Json = { sampleCount: n };
  const aspectRatio = aspectRatioOf(body.size);
  if (aspectRatio) parameters.aspectRatio = aspectRatio;
  return { instances: [{ prompt: body.prompt }], parameters };
}

/**
 * Imagen's answer (`predictions[]` with `bytesBase64Encoded`) → OpenAI's `{created, data: [{b64_json}]}`.
 * A prediction without an image was filtered by Google's safety filters (`raiFilteredReason` says
 * why when asked for); when none is left, the answer is a 400 `content_filter`, not an empty list.
 */
export function toOpenAIImages(res: Json, now = Date.now()): Json {
  const predictions = Array.isArray(res.predictions) ? res.predictions.filter(isObj) : [];
  const images = predictions.filter((p) => typeof p.bytesBase64Encoded === 'string' && p.bytesBase64Encoded !== '');
  if (images.length === 0) {
    const why = predictions.map((p) => p.raiFilteredReason).find((r) => typeof r === 'string');
    throw new GatewayError('content_filter', 400, `google filtered every image of this request${why ? `: ${why}` : ''}`, { param: 'prompt' });
  }
  return { created: Math.floor(now / 1000), data: images.map((p) => ({ b64_json: p.bytesBase64Encoded })) };
}

/** The upstream request: `POST {base}/models/{model}:predict`. */
export function buildImages(input: BuildInput): UpstreamRequest {
  const body = input.body;
  if (!body) throw badRequest(ErrorCode.INVALID_REQUEST, 'google image generations take a JSON body');
  return {
    url: `${base(input)}/${modelPath(body.model ?? DEFAULT_IMAGE_MODEL)}:predict`,
    method: 'POST',
    headers: headers(input),
    body: JSON.stringify(toImagenRequest(body)),
  };
}
