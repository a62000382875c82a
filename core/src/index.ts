/**
 * @waygate/core: the microkernel. The default export starts a gateway; the named exports are the
 * contracts plugins and provider adapters are written against.
 */
import { startGateway } from './gateway.js';

export default startGateway;
export { startGateway } from './gateway.js';
export type { Gateway, StartOptions } from './gateway.js';
export { Kernel, ProviderRegistry } from './kernel.js';
export type { LoadedPluginInfo } from './kernel.js';
export { Stage, HOOK_NAMES } from './hooks.js';
export type { Hooks, HookName } from './hooks.js';
export { definePlugin } from './plugin.js';
export type { Plugin, PluginManifest, PluginKind } from './plugin.js';
export { GatewayError, ErrorCode, badRequest } from './errors.js';
export type { GatewayErrorOptions, UpstreamErrorInfo } from './errors.js';
export { GatewayResponse } from './response.js';
export { RequestContext } from './context.js';
export type { Dialect, AttemptRecord } from './context.js';
export { ConfigNodeSchema, FileConfigSchema, ConfigError, loadConfigFile, configFromObject, parseFileConfig, formatIssues } from './config.js';
export type { FileConfig, FileConfigInput, LoadedConfig } from './config.js';
export { PluginLoadError, loadPlugins, resolveSpecifier } from './loader.js';
export { inherit, leafTarget, targetKey, bearerKey } from './routing.js';
export { StrategyRegistry } from './strategies.js';
export type { RoutingStrategy, AvailabilityCheck } from './strategies.js';
export { AbortEmitter } from './abort.js';
export { checkCustomHost } from './custom-host.js';
export { parseSSE, serializeSSE, SSEParser, DONE } from './sse.js';
export { ChunkWriter } from './chunks.js';
export { base64Embedding } from './vectors.js';
export { EndpointRegistry, OPENAI_STREAM, OPENAI_CHAT_CODEC, OPENAI_COMPLETIONS_CODEC, OPENAI_ENDPOINTS, openAIUsage, answerUsage, recordUsage } from './endpoints.js';
export type { EndpointDefinition, StreamFormat, EndpointCodec } from './endpoints.js';
export { NamedRegistry } from './registry.js';
export { registerChecks, defineCheck } from './guardrails.js';
export type { GuardrailCheck, CheckInput, CheckResult, CheckHook } from './guardrails.js';
export {
  cachePolicy,
  forceRefresh,
  cacheNamespace,
  setCacheStatus,
  targetIdentity,
  exactKey,
  cacheableEndpoint,
  canReplay,
  replay,
  recordAnswer,
  storable,
  canonicalJson,
  canonicalRequest,
  configUsesCache,
  encodeAnswer,
  decodeAnswer,
  tapExactCache,
  DEFAULT_MAX_AGE_MS,
  KEY_IGNORED_FIELDS,
  CACHE_STATUS_HEADER,
  PORTKEY_CACHE_STATUS_HEADER,
} from './cache.js';
export type { CacheStatus, CachedAnswer, CachePolicy, RecordOptions, ExactCacheBackend, ExactCacheOptions } from './cache.js';
export { createLogger, REDACT_PATHS, scrub, redactUrl } from './logger.js';
export { DEFAULT_PLUGINS } from './defaults.js';
export { CORE_VERSION } from './version.js';
export { readPackageInfo, pluginManifest } from './package-info.js';
export type { PackageInfo } from './package-info.js';
export { INHERITED_KEYS } from './types.js';
export type * from './types.js';
