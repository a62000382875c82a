import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { awsErrorType } from '@waygate/provider-bedrock';
import { isObj } from '@waygate/provider-kit';

/**
 * SageMaker Runtime's error answers (`{"message": ...}` or `{"Message": ...}`, the type in the
 * `x-amzn-ErrorType` header or `__type`) as OpenAI-shaped errors. ValidationError (400),
 * ModelNotReadyException (429), ServiceUnavailable (503), InternalFailure (500),
 * InternalDependencyException (530), ThrottlingException (AWS sends it as 400) and the access
 * errors (403) keep their meaning; a ModelError (424) is the container's own failure and takes the
 * container's status (`OriginalStatusCode`) and message (`OriginalMessage`).
 */

/** Retryable whatever status they came with. */
const RETRYABLE_TYPES = new Set([
  'ThrottlingException',
  'ModelNotReadyException',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalDependencyException',
  'InternalStreamFailure',
  'ModelStreamError',
]);
const THROTTLED = new Set(['ThrottlingException', 'ModelNotReadyException']);

/**
 * AWS's signature errors echo the canonical request (the session token among its headers) and the
 * string to sign: everything from there on is dropped, and anything shaped like an access key id or
 * a signature is masked, so no credential reaches a caller or a log.
 */
export function redactAws(text: string): string {
  const cut = text.search(/\s*The (?:Canonical String|String-to-Sign)\b/);
  return (cut >= 0 ? text.slice(0, cut) : text)
    .replace(/\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b/g, '[REDACTED]')
    .replace(/(Signature=)[0-9a-f]{16,}/gi, '$1[REDACTED]')
    .slice(0, 1000);
}

const field = (body: unknown, ...names: string[]): unknown => {
  if (!isObj(body)) return undefined;
  for (const n of names) if (body[n] !== undefined) return body[n];
  return undefined;
};

/** A SageMaker error answer as a GatewayError. */
export function mapSageMakerError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const type = awsErrorType(body, headers);
  const msg = field(body, 'message', 'Message');
  let message = redactAws(typeof msg === 'string' ? msg : typeof body === 'string' && body ? body : `sagemaker answered status ${status}`);
  let out = status;
  let retryable = isRetryableStatus(status) || (type !== undefined && RETRYABLE_TYPES.has(type));
  if (type && THROTTLED.has(type)) out = 429;
  else if (type === 'InternalDependencyException' || (status > 599 && retryable)) out = 502;
  else if (type === 'ModelError') {
    const original = field(body, 'OriginalStatusCode', 'originalStatusCode');
    const said = field(body, 'OriginalMessage', 'originalMessage');
    if (typeof original === 'number' && original >= 400 && original <= 599) {
      out = original;
      retryable = isRetryableStatus(original);
    } else retryable = false;
    if (typeof said === 'string' && said)
      message = `the model container answered${typeof original === 'number' ? ` ${original}` : ''}: ${redactAws(said)}`;
  }
  // The body kept for retry policies and logs carries the redacted message only.
  const { Message: _m, OriginalMessage: _o, ...rest } = isObj(body) ? body : {};
  const safeBody = { ...rest, message };
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, out, type ? `${type}: ${message}` : message, {
    retryable,
    upstream: { status, body: safeBody, headers },
  });
}
