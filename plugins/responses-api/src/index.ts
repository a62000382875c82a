import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { StoreSpecSchema } from '@waygate/store';
import type { EndpointAdapter, EndpointDefinition } from '@waygate/core';
import { RESPONSES_STREAM, RESPONSES_CODEC, responseUsage } from './format.js';
import { bridgeToChat } from './bridge.js';
import { installStorage } from './storage.js';

export { RESPONSES_STREAM, RESPONSES_CODEC, responseUsage, usageFromResponses, typeOf, event } from './format.js';
export { toChatRequest, BUILT_IN_TOOLS } from './request.js';
export { toResponse, ResponsesStreamWriter, responseErrorCode } from './response.js';
export { bridgeToChat } from './bridge.js';
export { inputItems, itemPage } from './storage.js';
export { responseEvents } from './events.js';
export { ResponseStore, MIGRATIONS } from './store.js';

/** The plugin's options (the `options` of its entry in the config file's `plugins`). */
export const ResponsesOptionsSchema = z.strictObject({
  /** Keep responses of bridged providers (`store`, `previous_response_id`, GET/DELETE /v1/responses/{id}). */
  storage: z.boolean().default(true),
  /** Where; default: @waygate/auth's database when it is loaded, else the default SQLite file. Opened on first use. */
  store: StoreSpecSchema.optional(),
  /** How long a stored response is kept (OpenAI keeps them 30 days); checked every `pruneEveryMs`, in the background. */
  retention: z
    .strictObject({
      maxAgeDays: z.number().positive().nullable().default(30),
      pruneEveryMs: z.number().int().min(10).default(3_600_000),
    })
    .prefault({}),
});

/**
 * OpenAI's `POST /v1/responses`: its typed stream events, codec and usage, OpenAI's error shape (the
 * default), and the bridge to chat.completions for providers without a native Responses endpoint.
 */
export const responsesEndpoint: EndpointDefinition = Object.freeze({
  id: 'responses',
  routes: [{ method: 'POST', path: '/v1/responses' }],
  stream: RESPONSES_STREAM,
  codec: RESPONSES_CODEC,
  usage: responseUsage,
  bridge: { via: 'chat.completions', wrap: (inner: EndpointAdapter) => bridgeToChat(inner) },
}) as EndpointDefinition;

/**
 * `GET` / `DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`, answered from the
 * store. (The route type names GET and POST only; the server dispatches any method a route lists.)
 */
export const responseItemEndpoint: EndpointDefinition = Object.freeze({
  id: 'responses.item',
  routes: [
    { method: 'GET', path: '/v1/responses/*' },
    { method: 'DELETE', path: '/v1/responses/*' },
  ],
}) as EndpointDefinition;

const manifest = pluginManifest(import.meta.url, 'endpoint');

export default definePlugin({
  manifest,
  configSchema: ResponsesOptionsSchema,
  setup(api, options) {
    api.register.endpoint(responsesEndpoint);
    if (!options.storage) return;
    api.register.endpoint(responseItemEndpoint);
    installStorage(api, options.store, options.retention);
  },
});
