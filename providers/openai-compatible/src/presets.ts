import type { Endpoint } from '@waygate/core';

export interface Preset {
  displayName: string;
  /** Default base URL with the version path; absent for self-hosted servers, which need a custom host. */
  baseURL?: string;
  endpoints: readonly Endpoint[];
  /** Voyage's own field names (rerank `top_k` and `data`; embeddings usage as `total_tokens` only); default: OpenAI's and Cohere's. */
  dialect?: 'voyage';
  /**
   * For a base URL that depends on the account: `baseURL` is then a template naming each `{key}`,
   * filled from the target's option of that name (or its header), checked against `pattern`. A
   * custom host (or the config file's `base_url`) replaces the template.
   */
  params?: readonly HostParam[];
  /** A query parameter sent with every request (Azure's `api-version`), with its default. */
  query?: HostParam & { name: string; default: string };
  /** Embeddings in Nomic's own shape (`POST /embedding/text`). */
  nomicEmbeddings?: true;
  /**
   * What the service serves when it is not (or not yet) served here: every one of the gateway's
   * endpoints it lacks answers 400 `unsupported_endpoint` saying this.
   */
  serves?: string;
}

/** A value that goes into a URL: read from the config node's `key` (or `x-waygate-`/`x-portkey-` + `header`), checked against `pattern`. */
export interface HostParam {
  key: string;
  header: string;
  pattern: RegExp;
  /** What the value must be, for the error message. */
  what: string;
}

/** One DNS label: letters, digits and inner hyphens, at most 63 characters. */
const LABEL = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
/** Up to four DNS labels joined by dots (Snowflake's `org-account` or `locator.region.cloud`). */
const LABELS = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?){0,3}$/;

const RESOURCE: HostParam = {
  key: 'resource_name',
  header: 'azure-resource-name',
  pattern: LABEL,
  what: 'an Azure resource name (letters, digits and hyphens)',
};
const API_VERSION = {
  key: 'api_version',
  header: 'azure-api-version',
  pattern: /^(?:v1|preview|\d{4}-\d{2}-\d{2}(?:-preview)?)$/,
  what: 'an Azure API version (2024-05-01-preview, v1, ...)',
  name: 'api-version',
  default: '2024-05-01-preview',
};

const ALL: readonly Endpoint[] = ['chat.completions', 'completions', 'embeddings', 'models'];

/** Providers that speak OpenAI's wire format, by slug (Portkey's slugs). Base URLs are each provider's documented ones. */
export const PRESETS: Readonly<Record<string, Preset>> = Object.freeze({
  groq: {
    displayName: 'Groq',
    baseURL: 'https://api.groq.com/openai/v1',
    endpoints: ['chat.completions', 'models', 'audio.transcriptions', 'audio.translations', 'audio.speech'],
  },
  'together-ai': { displayName: 'Together AI', baseURL: 'https://api.together.xyz/v1', endpoints: [...ALL, 'rerank', 'images.generations'] },
  'fireworks-ai': { displayName: 'Fireworks AI', baseURL: 'https://api.fireworks.ai/inference/v1', endpoints: ALL },
  deepseek: { displayName: 'DeepSeek', baseURL: 'https://api.deepseek.com/v1', endpoints: ['chat.completions', 'models'] },
  'x-ai': { displayName: 'xAI', baseURL: 'https://api.x.ai/v1', endpoints: ALL },
  'perplexity-ai': { displayName: 'Perplexity', baseURL: 'https://api.perplexity.ai', endpoints: ['chat.completions'] },
  openrouter: { displayName: 'OpenRouter', baseURL: 'https://openrouter.ai/api/v1', endpoints: ['chat.completions', 'completions', 'models'] },
  cerebras: { displayName: 'Cerebras', baseURL: 'https://api.cerebras.ai/v1', endpoints: ['chat.completions', 'completions', 'models'] },
  deepinfra: { displayName: 'DeepInfra', baseURL: 'https://api.deepinfra.com/v1/openai', endpoints: ALL },
  sambanova: { displayName: 'SambaNova', baseURL: 'https://api.sambanova.ai/v1', endpoints: ['chat.completions', 'embeddings', 'models'] },
  nebius: { displayName: 'Nebius AI Studio', baseURL: 'https://api.studio.nebius.com/v1', endpoints: ALL },
  hyperbolic: { displayName: 'Hyperbolic', baseURL: 'https://api.hyperbolic.xyz/v1', endpoints: ['chat.completions', 'completions', 'models'] },
  'novita-ai': { displayName: 'Novita AI', baseURL: 'https://api.novita.ai/v3/openai', endpoints: ALL },
  vllm: { displayName: 'vLLM', endpoints: [...ALL, 'rerank'] },
  lmstudio: { displayName: 'LM Studio', endpoints: ALL },
  // Embeddings and rerank only (no chat): rerank in Cohere's shape (Jina) or Voyage's.
  jina: { displayName: 'Jina AI', baseURL: 'https://api.jina.ai/v1', endpoints: ['embeddings', 'rerank'] },
  voyage: { displayName: 'Voyage AI', baseURL: 'https://api.voyageai.com/v1', endpoints: ['embeddings', 'rerank'], dialect: 'voyage' },

  // OpenAI-compatible services (base URLs as each documents them, and as Portkey's gateway uses them).
  '302ai': { displayName: '302.AI', baseURL: 'https://api.302.ai/v1', endpoints: ['chat.completions'] },
  aibadgr: { displayName: 'AI Badgr', baseURL: 'https://aibadgr.com/api/v1', endpoints: ['chat.completions'] },
  anyscale: { displayName: 'Anyscale', baseURL: 'https://api.endpoints.anyscale.com/v1', endpoints: ['chat.completions', 'completions', 'embeddings'] },
  cometapi: { displayName: 'CometAPI', baseURL: 'https://api.cometapi.com/v1', endpoints: ['chat.completions', 'embeddings'] },
  dashscope: {
    displayName: 'Alibaba DashScope',
    baseURL: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    endpoints: ['chat.completions', 'embeddings'],
  },
  deepbricks: { displayName: 'Deepbricks', baseURL: 'https://api.deepbricks.ai/v1', endpoints: ['chat.completions'] },
  'featherless-ai': { displayName: 'Featherless AI', baseURL: 'https://api.featherless.ai/v1', endpoints: ['chat.completions', 'completions'] },
  github: { displayName: 'GitHub Models', baseURL: 'https://models.inference.ai.azure.com', endpoints: ['chat.completions', 'embeddings'] },
  huggingface: { displayName: 'Hugging Face Inference Providers', baseURL: 'https://router.huggingface.co/v1', endpoints: ['chat.completions', 'models'] },
  'inference-net': { displayName: 'Inference.net', baseURL: 'https://api.inference.net/v1', endpoints: ['chat.completions'] },
  iointelligence: {
    displayName: 'IO Intelligence',
    baseURL: 'https://api.intelligence.io.solutions/api/v1',
    endpoints: ['chat.completions', 'embeddings'],
  },
  'kluster-ai': { displayName: 'kluster.ai', baseURL: 'https://api.kluster.ai/v1', endpoints: ['chat.completions', 'embeddings'] },
  krutrim: { displayName: 'Krutrim', baseURL: 'https://cloud.olakrutrim.com/v1', endpoints: ['chat.completions'] },
  lambda: { displayName: 'Lambda', baseURL: 'https://api.lambdalabs.com/v1', endpoints: ['chat.completions', 'completions'] },
  'lemonfox-ai': {
    displayName: 'Lemonfox.ai',
    baseURL: 'https://api.lemonfox.ai/v1',
    endpoints: ['chat.completions', 'audio.transcriptions', 'audio.speech', 'images.generations'],
    serves: 'chat completions, audio transcriptions and speech, and image generations',
  },
  lepton: { displayName: 'Lepton AI', baseURL: 'https://api.lepton.ai/api/v1', endpoints: ['chat.completions', 'completions'] },
  lingyi: { displayName: '01.AI (Lingyi Wanwu)', baseURL: 'https://api.lingyiwanwu.com/v1', endpoints: ['chat.completions'] },
  matterai: { displayName: 'MatterAI', baseURL: 'https://api.matterai.so/v1', endpoints: ['chat.completions'] },
  modal: { displayName: 'Modal (your deployment)', endpoints: ['chat.completions'] },
  monsterapi: { displayName: 'MonsterAPI', baseURL: 'https://llm.monsterapi.ai/v1', endpoints: ['chat.completions'] },
  moonshot: { displayName: 'Moonshot AI', baseURL: 'https://api.moonshot.cn/v1', endpoints: ['chat.completions'] },
  ncompass: { displayName: 'nCompass', baseURL: 'https://api.ncompass.tech/v1', endpoints: ['chat.completions'] },
  nextbit: { displayName: 'Nextbit', baseURL: 'https://api.nextbit256.com/v1', endpoints: ['chat.completions', 'completions'] },
  nscale: { displayName: 'Nscale', baseURL: 'https://inference.api.nscale.com/v1', endpoints: ['chat.completions'] },
  ovhcloud: { displayName: 'OVHcloud AI Endpoints', baseURL: 'https://oai.endpoints.kepler.ai.cloud.ovh.net/v1', endpoints: ['chat.completions'] },
  'reka-ai': { displayName: 'Reka', baseURL: 'https://api.reka.ai/v1', endpoints: ['chat.completions'] },
  siliconflow: { displayName: 'SiliconFlow', baseURL: 'https://api.siliconflow.cn/v1', endpoints: ['chat.completions', 'embeddings'] },
  upstage: { displayName: 'Upstage', baseURL: 'https://api.upstage.ai/v1/solar', endpoints: ['chat.completions', 'embeddings'] },
  'z-ai': { displayName: 'Z.ai', baseURL: 'https://api.z.ai/api/paas/v4', endpoints: ['chat.completions'] },
  zhipu: { displayName: 'Zhipu AI (BigModel)', baseURL: 'https://open.bigmodel.cn/api/paas/v4', endpoints: ['chat.completions', 'embeddings'] },
  'nvidia-nim': {
    displayName: 'NVIDIA NIM',
    baseURL: 'https://integrate.api.nvidia.com/v1',
    endpoints: ['chat.completions', 'completions', 'embeddings', 'models'],
  },
  vercel: { displayName: 'Vercel AI Gateway', baseURL: 'https://ai-gateway.vercel.sh/v1', endpoints: ['chat.completions', 'embeddings', 'models'] },
  nomic: {
    displayName: 'Nomic Atlas',
    baseURL: 'https://api-atlas.nomic.ai/v1',
    endpoints: ['embeddings'],
    nomicEmbeddings: true,
    serves: 'text embeddings only',
  },

  // Base URLs that depend on the account: templates filled from the target's options.
  'azure-ai': {
    displayName: 'Azure AI Foundry (model inference)',
    baseURL: 'https://{resource_name}.services.ai.azure.com/models',
    endpoints: ['chat.completions', 'embeddings'],
    params: [RESOURCE],
    query: API_VERSION,
  },
  cortex: {
    displayName: 'Snowflake Cortex',
    baseURL: 'https://{snowflake_account}.snowflakecomputing.com/api/v2/cortex/v1',
    endpoints: ['chat.completions'],
    params: [
      { key: 'snowflake_account', header: 'snowflake-account', pattern: LABELS, what: 'a Snowflake account identifier (DNS labels joined by dots)' },
    ],
  },
  databricks: {
    displayName: 'Databricks Model Serving',
    baseURL: 'https://{databricks_workspace}.cloud.databricks.com/serving-endpoints',
    endpoints: ['chat.completions', 'completions', 'embeddings'],
    params: [
      { key: 'databricks_workspace', header: 'databricks-workspace', pattern: LABEL, what: 'a Databricks workspace host name (dbc-…, one DNS label)' },
    ],
  },

  // Accepted slugs whose service is not OpenAI's chat: every endpoint answers 400 saying what they serve.
  milvus: { displayName: 'Milvus', baseURL: 'https://{cluster_endpoint}', endpoints: [], serves: 'a vector database (no model endpoint to proxy)' },
  qdrant: { displayName: 'Qdrant', baseURL: 'https://{cluster_endpoint}', endpoints: [], serves: 'a vector database (no model endpoint to proxy)' },
  meshy: {
    displayName: 'Meshy',
    baseURL: 'https://api.meshy.ai/openapi',
    endpoints: [],
    serves: '3D model generation in its own API, reached through passthrough (other /v1 paths are forwarded to its base URL)',
  },
  tripo3d: {
    displayName: 'Tripo3D',
    baseURL: 'https://api.tripo3d.ai/v2/openapi',
    endpoints: [],
    serves: '3D model generation in its own API, reached through passthrough (other /v1 paths are forwarded to its base URL)',
  },
  'recraft-ai': {
    displayName: 'Recraft',
    baseURL: 'https://external.api.recraft.ai/v1',
    endpoints: ['images.generations'],
    serves: 'image generations (/v1/images/generations) and, through passthrough, the rest of its API',
  },
  segmind: {
    displayName: 'Segmind',
    baseURL: 'https://api.segmind.com/v1',
    endpoints: [],
    serves: 'image generation in its own API, reached through passthrough (other /v1 paths are forwarded to its base URL)',
  },
});
