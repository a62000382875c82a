import type { GatewayError } from '@waygate/core';
import { mapTgiError } from '@waygate/provider-tgi';

/** Predibase's errors: LoRAX's `{error, error_type}` (and `{message}` from its gateway), status and message kept, 429 and 5xx retryable. */
export function mapPredibaseError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  return mapTgiError(status, body, headers, 'predibase');
}
