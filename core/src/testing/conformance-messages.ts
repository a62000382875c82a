/**
 * The provider conformance kit's `/v1/messages` cases: the fixture's chat and stream scenarios
 * asked again in Anthropic's Messages format, through Anthropic's own SDK (`@anthropic-ai/sdk`,
 * what Claude Code and Anthropic's clients use), so every provider package is shown to serve an
 * Anthropic-format client: the Anthropic provider natively, every other one through the bridge of
 * `@waygate/anthropic-messages`. The SDK parses and checks the answer and the stream's event
 * sequence itself; these cases check what it hands back adds up to the fixture's expectations.
 */
import assert from 'node:assert/strict';
import type { ExpectedAnswer, RecordedAnswer, RecordedStream, Scenario } from './conformance.js';

/** What the cases use of the suite that defines them. */
export interface MessagesSuite {
  /** The gateway's origin. */
  url(): string;
  /** The routing config header each request carries. */
  config(): string;
  /** The test key the config carries (never echoed). */
  key: string;
  serve(a: RecordedAnswer): void;
  serveStream(s: RecordedStream): void;
}

const STOP_REASONS: Record<string, string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' };

type AnthropicClient = {
  messages: {
    create(body: Record<string, unknown>): Promise<any>;
    stream(body: Record<string, unknown>): { on(ev: 'text', f: (t: string) => void): unknown; finalMessage(): Promise<any> };
  };
};

async function client(suite: MessagesSuite): Promise<AnthropicClient> {
  let mod: { default: new (o: Record<string, unknown>) => AnthropicClient };
  try {
    mod = (await import('@anthropic-ai/sdk' as string)) as typeof mod;
  } catch {
    throw new Error('the /v1/messages conformance cases need @anthropic-ai/sdk: add it to your dev dependencies, or set `messages: false`');
  }
  return new mod.default({ apiKey: suite.key, baseURL: suite.url(), maxRetries: 0, defaultHeaders: { 'x-waygate-config': suite.config() } });
}

/** The fixture's OpenAI chat request in Anthropic's Messages format: system apart, text parts joined, stop sequences. */
export function toMessagesRequest(req: Record<string, unknown>): Record<string, unknown> {
  const text = (c: unknown): string =>
    typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('') : '';
  const all = (req.messages as Array<{ role: string; content: unknown }>) ?? [];
  const system = all.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => text(m.content));
  const out: Record<string, unknown> = {
    model: req.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? 256,
    messages: all.filter((m) => m.role === 'user' || m.role === 'assistant').map((m) => ({ role: m.role, content: text(m.content) })),
  };
  if (system.length) out.system = system.join('\n');
  for (const k of ['temperature', 'top_p'] as const) if (req[k] !== undefined) out[k] = req[k];
  if (req.stop !== undefined) out.stop_sequences = Array.isArray(req.stop) ? req.stop : [req.stop];
  return out;
}

function checkMessage(msg: any, e: ExpectedAnswer, streamedText?: string): void {
  assert.equal(msg.type, 'message');
  assert.equal(msg.role, 'assistant');
  assert.equal(typeof msg.id, 'string');
  const text = (msg.content as Array<{ type: string; text?: string }>)
    .filter((b) => b.type === 'text')
    .map((b) => b.text)
    .join('');
  if (typeof e.content === 'string') assert.equal(text, e.content, 'text content');
  if (streamedText !== undefined) assert.equal(streamedText, text, 'the text events add up to the final message');
  const want = e.finish_reason ? STOP_REASONS[e.finish_reason] : undefined;
  if (want) assert.equal(msg.stop_reason, want, 'stop_reason');
  if (e.usage) {
    assert.equal(msg.usage.output_tokens, e.usage.completion_tokens, 'output_tokens');
    const read = msg.usage.cache_read_input_tokens ?? 0;
    const made = msg.usage.cache_creation_input_tokens ?? 0;
    assert.equal(msg.usage.input_tokens + read + made, e.usage.prompt_tokens, 'input tokens (with the cache reads and writes)');
  }
}

/** Defines the `/v1/messages` cases inside the running conformance suite. */
export function defineMessagesCases(suite: MessagesSuite, chat: Scenario, stream: Scenario<RecordedStream> | undefined): void {
  describe('on /v1/messages, through @anthropic-ai/sdk', () => {
    it("answers the chat scenario in Anthropic's Message shape", async () => {
      suite.serve(chat.answer);
      const msg = await (await client(suite)).messages.create(toMessagesRequest(chat.request));
      checkMessage(msg, chat.expect);
      assert.ok(!JSON.stringify(msg).includes(suite.key), 'the key is not echoed');
    });

    if (stream) {
      it("streams the stream scenario as Anthropic's typed events", async () => {
        suite.serveStream(stream.answer);
        const s = (await client(suite)).messages.stream(toMessagesRequest(stream.request));
        let text = '';
        s.on('text', (t) => (text += t));
        checkMessage(await s.finalMessage(), stream.expect, text);
      });
    }
  });
}
