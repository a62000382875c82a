export * from './openai-upstream.js';
