import { definePlugin, pluginManifest } from '@waygate/core';
import type { BuildInput, ProviderAdapter, UpstreamRequest } from '@waygate/core';
import { startEchoServer } from './server.js';

export { chatCompletion, chatStream, embeddings, echoReply, ECHO_MODELS } from './answers.js';

const manifest = pluginManifest(import.meta.url, 'provider');

const route =
  (method: 'GET' | 'POST', path: string) =>
  (input: BuildInput): UpstreamRequest => ({
    url: `${(input.target.baseURL ?? '').replace(/\/+$/, '')}${path}`,
    method,
    headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
    body: method === 'POST' ? JSON.stringify(input.body ?? {}) : undefined,
  });

/** The echo adapter; its base URL is the loopback echo server the plugin starts in setup(). */
export function createEchoAdapter(baseURL: string): ProviderAdapter {
  return {
    id: 'echo',
    displayName: 'Echo (offline, deterministic)',
    baseURL,
    endpoints: {
      'chat.completions': { build: route('POST', '/chat/completions') },
      embeddings: { build: route('POST', '/embeddings') },
      models: { build: route('GET', '/models') },
    },
  };
}

export default definePlugin({
  manifest,
  async setup(api) {
    const server = await startEchoServer();
    api.onClose(() => server.close());
    api.register.provider(createEchoAdapter(server.url));
  },
});
