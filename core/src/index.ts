/**
 * @waygate/core: the microkernel. The default export starts a gateway; the named exports are the
 * contracts plugins and provider adapters are written against. Test helpers are in
 * `@waygate/core/testing`.
 */
import { startGateway } from './gateway.js';

export default startGateway;

// Starting a gateway.
export { startGateway } from './gateway.js';
export type { Gateway, StartOptions } from './gateway.js';
export { Kernel } from './kernel.js';
export { CORE_VERSION } from './version.js';
export type { FileConfig, FileConfigInput } from './config.js';
export { ConfigError } from './config.js';
export { PluginLoadError } from './loader.js';

// Writing a plugin.
export { definePlugin } from './plugin.js';
export type { Plugin, PluginApi, PluginManifest } from './plugin.js';
export type { PluginRegistry } from './registry.js';
export { pluginManifest, readPackageInfo } from './package-info.js';
export { BeforeRequestStage, SelectTargetStage, AfterResponseStage, OnErrorStage } from './hooks.js';
export type { RoutingStrategy } from './hooks.js';
export { RequestContext, RequestSlot } from './context.js';
export { GatewayResponse } from './response.js';
export type { ErrorDecision } from './contracts.js';

// Writing a provider adapter or an endpoint.
export type { ProviderAdapter, EndpointAdapter, BuildInput, StreamTransformer, EndpointDefinition, StreamFormat, EndpointCodec } from './contracts.js';
export { parseSSE, DONE } from './sse.js';
export { openAIUsage } from './endpoints.js';

// Errors.
export { GatewayError, ErrorCode, badRequest, isRetryableStatus } from './errors.js';
export { formatIssues, ConfigNodeSchema } from './config.js';

// Routing configs and targets.
export type { ConfigNode, StrategyConfig, RetryConfig, CacheConfig, Target, PlannedTarget, Endpoint, Usage, SSEEvent, UpstreamRequest } from './types.js';
export { INHERITED_KEYS } from './types.js';
export { targetKey } from './routing.js';
export { checkCustomHost } from './egress.js';

// Logging without secrets.
export { createLogger, redactUrl, scrub } from './logger.js';
