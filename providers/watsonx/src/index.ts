import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { createWatsonxProvider } from './adapter.js';
import { IAM_URL, IamTokens } from './iam.js';

export { createWatsonxProvider } from './adapter.js';
export { IamTokens, IAM_URL, APIKEY_GRANT } from './iam.js';
export type { IamOptions } from './iam.js';
export { toWatsonxChat, watsonxBase, scopeOf, isBearerToken, buildChat, buildGateway, WATSONX_HOST_TEMPLATE, CHAT_VERSION } from './request.js';
export { fromWatsonxChat, usageOf } from './response.js';
export { mapWatsonxError } from './errors.js';
export { WatsonxStreamTransformer, GatewayPassThrough } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

const Options = z
  .object({
    /** Where IBM Cloud API keys are exchanged for IAM tokens (the operator's: another IAM, or a test's loopback). */
    iamUrl: z.url().default(IAM_URL),
    /** A token is renewed this long before it expires. */
    refreshMarginMs: z
      .number()
      .int()
      .min(0)
      .default(5 * 60_000),
  })
  .strict();

export default definePlugin({
  manifest,
  configSchema: Options,
  setup(api, o) {
    api.register.provider(createWatsonxProvider(new IamTokens({ url: o.iamUrl, refreshMarginMs: o.refreshMarginMs })));
  },
});
