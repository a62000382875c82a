import type { GatewayError } from '@waygate/core';
import { mapGoogleError } from '@waygate/provider-google';
import { mapAnthropicError } from '@waygate/provider-anthropic';
import { isObj } from './json.js';

/** A Vertex AI error answer as a GatewayError: Anthropic-shaped bodies (Claude's own errors) are read as such, Google's (`{error:{code,message,status}}`) as Google's. */
export function mapVertexError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const anthropicShaped =
    isObj(body) && (body.type === 'error' || (isObj(body.error) && typeof body.error.type === 'string' && body.error.status === undefined));
  return anthropicShaped ? mapAnthropicError(status, body, headers) : mapGoogleError(status, body, headers);
}
