export * from './openai-upstream.js';
export * from './provider-upstreams.js';
