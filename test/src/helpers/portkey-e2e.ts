// What the provider end-to-end tests share: an `openai` SDK client in front of the gateway in
// Portkey's header dialect, what a chat stream read through it adds up to, and the tear-down of the
// gateway and the loopback fake.
import type http from 'node:http';
import OpenAI from 'openai';
import type { Gateway } from '@waygate/core';

/** An `openai` client on the gateway, no retries, naming the provider and the fake's base URL in Portkey's headers. */
export function portkeyClient(gw: Gateway, apiKey: string, provider: string, customHost: string): OpenAI {
  return new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey,
    maxRetries: 0,
    defaultHeaders: { 'x-portkey-provider': provider, 'x-portkey-custom-host': customHost },
  });
}

/** Closes the gateway, then the fake upstream (its open connections first). */
export async function closeGatewayAndFake(gw: Gateway | undefined, server: http.Server | undefined): Promise<void> {
  await gw?.close();
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** What a chat stream read through the SDK adds up to: the text of its deltas, its last finish reason, its usage chunk. */
export async function readChatStream(
  stream: AsyncIterable<OpenAI.ChatCompletionChunk>,
): Promise<{ text: string; finish: string | null; usage: OpenAI.CompletionUsage | undefined }> {
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  return { text, finish, usage };
}
