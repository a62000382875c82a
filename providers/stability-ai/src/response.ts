import { ErrorCode, GatewayError } from '@waygate/core';
import type { BuildInput } from '@waygate/core';
import { isObj, str } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { contentFiltered } from './errors.js';
import { imageRequest, modelOf, routeFor } from './request.js';

/**
 * Stability AI's JSON answers → OpenAI's images answer `{ created, data: [{ b64_json }] }`. v2beta
 * answers `{ image, finish_reason, seed }`; v1 `{ artifacts: [{ base64, finishReason, seed }] }`. An
 * image Stability filtered (`CONTENT_FILTERED`: it sends a blurred one) is never passed on as if it
 * were the answer: the request fails with a 400 `content_filter`.
 */

/** The 502 for a 200 answer that carries no image. */
export function notAnImage(what: string): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `stability-ai answered an image generation with a body that is not an image: ${what}`, {
    retryable: true,
  });
}

const filteredImage = (detail: string): string => `Stability AI's content filter withheld the image (${detail}); change the prompt`;

const created = (): number => Math.floor(Date.now() / 1000);

/** A v2beta Stable Image answer (JSON, as `Accept: application/json` asks for). */
export function fromStabilityV2(json: unknown): Json {
  if (!isObj(json)) throw notAnImage('not a JSON object');
  if (json.finish_reason === 'CONTENT_FILTERED') throw contentFiltered(filteredImage('finish_reason CONTENT_FILTERED'));
  const image = str(json.image);
  if (!image) throw notAnImage('no image');
  return { created: created(), data: [{ b64_json: image }] };
}

/** A v1 engines answer: every artifact an image; any one filtered or failed fails the request. */
export function fromStabilityV1(json: unknown): Json {
  if (!isObj(json) || !Array.isArray(json.artifacts) || json.artifacts.length === 0) throw notAnImage('no artifacts');
  const artifacts: unknown[] = json.artifacts;
  const filtered = artifacts.filter((a) => isObj(a) && a.finishReason === 'CONTENT_FILTERED').length;
  if (filtered) throw contentFiltered(filteredImage(`${filtered} of ${artifacts.length} artifacts CONTENT_FILTERED`));
  const data = artifacts.map((a, i) => {
    if (!isObj(a) || a.finishReason === 'ERROR' || !str(a.base64))
      throw notAnImage(`artifact ${i} has no image${isObj(a) && a.finishReason === 'ERROR' ? ' (finishReason ERROR)' : ''}`);
    return { b64_json: a.base64 as string };
  });
  return { created: created(), data };
}

/** The answer for the API the request was sent to (the route is worked out again from the request, as build() did). */
export function fromStability(json: unknown, input: BuildInput): Json {
  return routeFor(modelOf(imageRequest(input))).api === 'v1' ? fromStabilityV1(json) : fromStabilityV2(json);
}
