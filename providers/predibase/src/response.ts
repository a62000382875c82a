import type { BuildInput } from '@waygate/core';
import { str } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { fromGenerate } from '@waygate/provider-tgi';
import type { TgiKind } from '@waygate/provider-tgi';

/** The model an answer names: the request's (`<deployment>[:<adapter_id>]`), else `predibase`. */
export const answerModel = (input: BuildInput): string => str(input.body?.model) || 'predibase';

/**
 * LoRAX's `/generate` answer → OpenAI's: TGI's mapping (`@waygate/provider-tgi`), whose usage reads
 * LoRAX's `details.prompt_tokens` and `generated_tokens`.
 */
export function fromPredibase(json: unknown, kind: TgiKind, input: BuildInput): Json {
  return fromGenerate(json, kind, answerModel(input), 'predibase');
}
