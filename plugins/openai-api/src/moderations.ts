import { ErrorCode, badRequest } from '@waygate/core';
import type { EndpointDefinition } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';

/**
 * OpenAI's `POST /v1/moderations`: a JSON answer (no stream), OpenAI's error shape, and the model read
 * from the answer (moderations report no token usage). Providers pass it through (OpenAI's format).
 */
export const MODERATIONS_ENDPOINT: EndpointDefinition = Object.freeze({
  id: 'moderations',
  routes: [{ method: 'POST', path: '/v1/moderations' }],
}) as EndpointDefinition;

/**
 * Checks a moderations body before any upstream call: `input` a non-empty string, a non-empty array
 * of strings, or of multimodal parts (`{type: "text", text}`, `{type: "image_url", image_url: {url}}`);
 * `model` a string when given. A bad field is a 400 naming it.
 */
export function checkModerationRequest(body: Json | undefined): void {
  const input: unknown = body?.input;
  if (typeof input === 'string') {
    if (!input) throw badRequest(ErrorCode.INVALID_REQUEST, 'input must not be empty', 'input');
  } else if (Array.isArray(input) && input.length > 0) {
    input.forEach((item: unknown, i) => {
      if (typeof item === 'string') return;
      const ok =
        isObj(item) &&
        ((item.type === 'text' && typeof item.text === 'string') ||
          (item.type === 'image_url' && isObj(item.image_url) && typeof item.image_url.url === 'string'));
      if (!ok) {
        throw badRequest(
          ErrorCode.INVALID_REQUEST,
          `input[${i}] must be a string, {type: "text", text} or {type: "image_url", image_url: {url}}`,
          `input[${i}]`,
        );
      }
    });
  } else {
    throw badRequest(ErrorCode.INVALID_REQUEST, 'input is required: a string, an array of strings, or an array of text and image_url parts', 'input');
  }
  if (body?.model !== undefined && (typeof body.model !== 'string' || !body.model)) {
    throw badRequest(ErrorCode.INVALID_REQUEST, 'model must be a non-empty string', 'model');
  }
}
