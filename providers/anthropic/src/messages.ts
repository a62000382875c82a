import type { BuildInput, EndpointAdapter, UpstreamRequest } from '@waygate/core';
import { mapAnthropicError } from './errors.js';
import { DEFAULT_ANTHROPIC_VERSION, targetOption } from './request.js';

/**
 * Anthropic's own API on Anthropic: `/v1/messages` and `/v1/messages/count_tokens` pass through.
 * The client's bytes are sent as they are (when nothing changed the body), so `cache_control`,
 * thinking signatures and fields newer than this gateway survive; answers and event streams are
 * relayed without translation (no mapResponse, no stream transformer).
 */

/** The comma-separated union of beta lists, each name once, in order. */
function betas(...lists: Array<string | undefined>): string | undefined {
  const names: string[] = [];
  for (const list of lists) {
    if (!list) continue;
    for (const raw of list.split(',')) {
      const name = raw.trim();
      if (name && !names.includes(name)) names.push(name);
    }
  }
  return names.length ? names.join(',') : undefined;
}

function header(input: BuildInput, name: string): string | undefined {
  const v = input.ctx.headers[name];
  return typeof v === 'string' && v ? v : undefined;
}

/**
 * The upstream request for a pass-through endpoint: the key as `x-api-key`; `anthropic-version`
 * as the client sent it (its body is written for that version), else the target's option, else the
 * default; `anthropic-beta` the union of the client's and the target's option.
 */
function passThrough(path: string): EndpointAdapter {
  return {
    build(input: BuildInput): UpstreamRequest {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'anthropic-version':
          header(input, 'anthropic-version') ?? targetOption(input, 'anthropic_version', 'anthropic-version') ?? DEFAULT_ANTHROPIC_VERSION,
      };
      if (input.target.apiKey) headers['x-api-key'] = input.target.apiKey;
      const beta = betas(header(input, 'anthropic-beta'), targetOption(input, 'anthropic_beta', 'anthropic-beta'));
      if (beta) headers['anthropic-beta'] = beta;
      return {
        url: `${input.target.baseURL}${path}`,
        method: 'POST',
        headers,
        body: input.rawBody ?? JSON.stringify(input.body ?? {}),
      };
    },
    mapError: mapAnthropicError,
  };
}

/** `POST /v1/messages`, passed through. */
export const messages: EndpointAdapter = passThrough('/messages');

/** `POST /v1/messages/count_tokens`, passed through. */
export const messagesCountTokens: EndpointAdapter = passThrough('/messages/count_tokens');
