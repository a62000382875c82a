import type { BuildInput } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';
import { TgiStreamTransformer } from '@waygate/provider-tgi';
import type { TgiKind } from '@waygate/provider-tgi';
import { answerModel } from './response.js';

/**
 * LoRAX's `/generate_stream` events are TGI's (`{token, generated_text, details}`, the details
 * carrying `prompt_tokens`): TGI's transformer, naming Predibase in its errors.
 */
export function predibaseStream(kind: TgiKind, input: BuildInput): TgiStreamTransformer {
  const so = input.body?.stream_options;
  return new TgiStreamTransformer(kind, answerModel(input), isObj(so) && so.include_usage === true, 'predibase');
}
