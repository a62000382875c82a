/**
 * The distribution's bundled plugins: with no config file (or `"defaultPlugins": true`, the default)
 * the CLI has the gateway load every one, in this order, before the config's own `plugins`. This
 * list is the CLI's, not the kernel's: `startGateway()` loads it only when passed it.
 */
export const BUNDLED_PLUGINS: readonly string[] = Object.freeze([
  '@waygate/auth',
  '@waygate/openai-api',
  '@waygate/provider-openai',
  '@waygate/provider-echo',
  '@waygate/provider-openai-compatible',
  '@waygate/provider-anthropic',
  '@waygate/provider-azure-openai',
  '@waygate/provider-cohere',
  '@waygate/provider-google',
  '@waygate/provider-bedrock',
  '@waygate/provider-vertex-ai',
  '@waygate/anthropic-messages',
  '@waygate/strategy-single',
  '@waygate/strategy-fallback',
  '@waygate/strategy-loadbalance',
  '@waygate/strategy-conditional',
  '@waygate/retry',
  '@waygate/cache-memory',
  '@waygate/guardrails',
  '@waygate/guardrail-default',
  '@waygate/guardrail-pii',
  '@waygate/guardrail-json-schema',
  '@waygate/metrics',
]);
