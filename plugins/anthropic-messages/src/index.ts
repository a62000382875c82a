import { z } from 'zod';
import { definePlugin, pluginManifest, BeforeRequestStage, GatewayResponse, ErrorCode, badRequest } from '@waygate/core';
import type { EndpointDefinition } from '@waygate/core';
import { ANTHROPIC_STREAM, ANTHROPIC_CODEC, anthropicErrorBody, messageUsage } from './format.js';
import { bridgeToChat } from './bridge.js';
import { estimateInputTokens } from './count.js';
import type { RequestOptions } from './request.js';

export {
  ANTHROPIC_STREAM,
  ANTHROPIC_CODEC,
  anthropicErrorBody,
  messageUsage,
  usageFromAnthropic,
  errorTypeFor,
  errorFromAnthropic,
  isAnthropicErrorBody,
  ERROR_TYPE_BY_STATUS,
  STATUS_BY_ERROR_TYPE,
} from './format.js';
export { toChatRequest, systemText, reasoningEffort } from './request.js';
export type { RequestOptions } from './request.js';
export { toMessage, toAnthropicUsage, stopReason, parseInput, anthropicErrorFromOpenAI, MessagesStreamWriter } from './response.js';
export { bridgeToChat } from './bridge.js';
export { estimateInputTokens, CHARS_PER_TOKEN, TOKENS_PER_IMAGE } from './count.js';

/** The plugin's options (the `options` of its entry in the config file's `plugins`). */
export const AnthropicMessagesOptionsSchema = z.strictObject({
  /**
   * On translated targets, send `thinking: {type: "enabled", budget_tokens}` as OpenAI's
   * `reasoning_effort` (budget under 4,096 low, under 16,384 medium, else high). Off by default:
   * most non-reasoning models refuse the parameter.
   */
  thinkingToReasoningEffort: z.boolean().default(false),
  /** Answer `/v1/messages/count_tokens` locally with an estimate when the first target cannot count tokens. */
  estimateTokenCount: z.boolean().default(true),
});

/** Anthropic's `POST /v1/messages`: its stream semantics, codec, usage, error shape, and the bridge to chat.completions. */
export function messagesEndpoint(opts: RequestOptions = {}): EndpointDefinition {
  return {
    id: 'messages',
    routes: [{ method: 'POST', path: '/v1/messages' }],
    stream: ANTHROPIC_STREAM,
    codec: ANTHROPIC_CODEC,
    usage: messageUsage,
    errorBody: anthropicErrorBody,
    bridge: { via: 'chat.completions', wrap: (inner) => bridgeToChat(inner, opts) },
  };
}

/** Anthropic's `POST /v1/messages/count_tokens`: no stream, Anthropic's error shape. */
export const countTokensEndpoint: EndpointDefinition = Object.freeze({
  id: 'messages.count_tokens',
  routes: [{ method: 'POST', path: '/v1/messages/count_tokens' }],
  usage: () => undefined,
  errorBody: anthropicErrorBody,
}) as EndpointDefinition;

/** The response header that marks a token count as the gateway's estimate. */
export const ESTIMATE_HEADER = 'x-waygate-token-count';

const manifest = pluginManifest(import.meta.url, 'endpoint');

export default definePlugin({
  manifest,
  configSchema: AnthropicMessagesOptionsSchema,
  setup(api, options) {
    api.register.endpoint(messagesEndpoint({ thinkingToReasoningEffort: options.thinkingToReasoningEffort }));
    api.register.endpoint(countTokensEndpoint);
    if (!options.estimateTokenCount) return;
    // count_tokens for a provider that cannot count (any but Anthropic's family): answered here,
    // with an estimate, when the first planned target has no count_tokens endpoint.
    api.hooks.beforeRequest.tap(BeforeRequestStage.NORMAL, (ctx) => {
      if (ctx.endpoint !== 'messages.count_tokens') return undefined;
      const first = api.plan(ctx).targets[0]!;
      if (api.providers.get(first.provider)?.endpoints['messages.count_tokens']) return undefined;
      const body = ctx.body;
      if (!body || !Array.isArray(body.messages)) throw badRequest(ErrorCode.INVALID_REQUEST, 'messages: an array of messages is required', 'messages');
      return GatewayResponse.json(200, { input_tokens: estimateInputTokens(body) }, { [ESTIMATE_HEADER]: 'estimate' }, manifest.name);
    });
  },
});
