/** The data types of the kernel: routing configs, targets, plans, usage, events. No behaviour here. */
/** The API operations the gateway knows, named after OpenAI's resources. */
export type Endpoint = 'chat.completions' | 'completions' | 'embeddings' | 'models' | 'messages' | 'messages.count_tokens' | (string & {});

/**
 * One node of a routing config, in Portkey's snake_case dialect (which is also Waygate's). A node is a
 * leaf when it names a `provider`; otherwise it has `targets` and a `strategy`. Unknown keys are kept:
 * they carry provider-specific options (`resource_name`, `aws_region`, ...).
 */
export interface ConfigNode {
  provider?: string;
  api_key?: string;
  custom_host?: string;
  override_params?: Record<string, unknown>;
  strategy?: StrategyConfig;
  targets?: ConfigNode[];
  name?: string;
  weight?: number;
  retry?: RetryConfig;
  cache?: CacheConfig;
  request_timeout?: number;
  /** Longest silence (ms) allowed between two chunks of a streamed answer. */
  stream_idle_timeout?: number;
  /** Bound (ms) on all attempts of a request together, retries and fallbacks included. */
  deadline?: number;
  forward_headers?: string[];
  [option: string]: unknown;
}

export interface StrategyConfig {
  mode: string;
  on_status_codes?: number[];
  conditions?: Array<{ query: Record<string, unknown>; then: string }>;
  default?: string;
  [option: string]: unknown;
}

export interface RetryConfig {
  attempts: number;
  on_status_codes?: number[];
  use_retry_after_header?: boolean;
  [option: string]: unknown;
}

export interface CacheConfig {
  mode: 'simple' | 'semantic';
  max_age?: number;
  [option: string]: unknown;
}

/** Keys that a child node inherits from its ancestors unless it sets its own. */
export const INHERITED_KEYS = ['retry', 'cache', 'request_timeout', 'stream_idle_timeout', 'custom_host', 'forward_headers'] as const;

/** A concrete upstream to call: a leaf of the routing config with everything inherited folded in. */
export interface Target {
  /** Provider slug, e.g. `openai`, `groq`. */
  provider: string;
  /** The provider key to use, if any. */
  apiKey?: string;
  /** Where the key came from: the request (header or config) or the gateway's own config file. */
  keySource?: 'request' | 'server';
  /** Base URL override (custom host), already validated. */
  baseURL?: string;
  /** The merged leaf node: provider options, inherited policy, override_params (parents' merged under the child's). */
  node: ConfigNode;
  /** JSON path of the leaf in the request's config, as Portkey writes it: `config`, `config.targets[1]`. */
  path: string;
}

/** What selectTarget returns: the targets to try, in order. */
export interface RoutePlan {
  targets: PlannedTarget[];
}

export interface PlannedTarget extends Target {
  /** Status codes on which a fallback moves past this target; undefined means any failure. */
  fallbackOn?: number[];
}

/** Token usage as OpenAI reports it. */
export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number; [k: string]: unknown };
  [k: string]: unknown;
}

/** One server-sent event. `data` is the raw text of the event's data lines (JSON for OpenAI chunks). */
export interface SSEEvent {
  event?: string;
  id?: string;
  data: string;
}

/** The upstream HTTP request an adapter builds; the kernel sends it. */
export interface UpstreamRequest {
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers: Record<string, string>;
  body?: string | Uint8Array;
}
