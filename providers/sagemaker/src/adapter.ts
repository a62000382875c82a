import type { BuildInput, EndpointAdapter, ProviderAdapter, StreamTransformer } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';
import { TgiStreamTransformer, fromGenerate, modelOf } from '@waygate/provider-tgi';
import type { TgiKind } from '@waygate/provider-tgi';
import { mapSageMakerError } from './errors.js';
import { DEFAULT_BASE_URL, buildChat, buildCompletion, buildEmbeddings, sageMakerFormat } from './request.js';
import { OpenAIStreamRelay, decodeSageMakerStream } from './stream.js';

/**
 * Amazon SageMaker real-time endpoints behind Waygate's canonical (OpenAI) format. The LLM containers
 * SageMaker hosts speak OpenAI's chat completions (and embeddings) through InvokeEndpoint, so the
 * body goes as it is and the JSON answer comes back as it is; a stream comes through
 * InvokeEndpointWithResponseStream as AWS event-stream frames whose PayloadParts carry the
 * container's own server-sent events, relayed whole and ending with `data: [DONE]`. Every request
 * is signed with SigV4 (service `sagemaker`) by the Bedrock adapter's signer.
 *
 * A Hugging Face TGI container's own format (`sagemaker_format: "tgi"`) is translated both ways by
 * `@waygate/provider-tgi`'s mapping: the request to `{inputs, parameters}`, the `generated_text`
 * answer and the `generate_stream` token events back to OpenAI's.
 */

/** The answer to a TGI container's JSON: OpenAI's; an OpenAI-style container's stays as it is (its bytes kept). */
function answer(kind: TgiKind) {
  return (json: unknown, input: BuildInput): unknown =>
    sageMakerFormat(input) === 'tgi' ? fromGenerate(json, kind, modelOf(input.body, 'sagemaker'), 'sagemaker') : json;
}

function streamTransformer(kind: TgiKind) {
  return (input: BuildInput): StreamTransformer => {
    if (sageMakerFormat(input) !== 'tgi') return new OpenAIStreamRelay();
    const so = input.body?.stream_options;
    return new TgiStreamTransformer(kind, modelOf(input.body, 'sagemaker'), isObj(so) && so.include_usage === true, 'sagemaker');
  };
}

export const chatCompletions: EndpointAdapter = {
  build: buildChat,
  mapResponse: answer('chat'),
  createStreamTransformer: streamTransformer('chat'),
  decodeStream: decodeSageMakerStream,
  mapError: mapSageMakerError,
};

/** Text completions: a TGI container's only (`sagemaker_format: "tgi"`); otherwise a 400 before anything is sent. */
export const completions: EndpointAdapter = {
  build: buildCompletion,
  mapResponse: answer('completion'),
  createStreamTransformer: streamTransformer('completion'),
  decodeStream: decodeSageMakerStream,
  mapError: mapSageMakerError,
};

export const embeddings: EndpointAdapter = { build: buildEmbeddings, mapError: mapSageMakerError };

/** The SageMaker provider adapter. */
export const sagemaker: ProviderAdapter = {
  id: 'sagemaker',
  displayName: 'Amazon SageMaker',
  baseURL: DEFAULT_BASE_URL,
  endpoints: { 'chat.completions': chatCompletions, completions, embeddings },
};
