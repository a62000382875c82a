/**
 * The embedded default: with no config file (or `"defaultPlugins": true`, the default) the gateway
 * loads every bundled provider and default plugin, in this order, before the config's own `plugins`.
 */
export const DEFAULT_PLUGINS: readonly string[] = Object.freeze([
  '@waygate/provider-openai',
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
]);
