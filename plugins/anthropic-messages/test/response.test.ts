import { expect } from 'chai';
import { ErrorCode, GatewayError } from '@waygate/core';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import {
  ANTHROPIC_CODEC,
  ANTHROPIC_STREAM,
  MessagesStreamWriter,
  toMessage,
  toAnthropicUsage,
  stopReason,
  anthropicErrorFromOpenAI,
} from '../src/index.js';
import { openAIToolChunks } from './fixtures.js';

const completion = (message: object, finish: string, extra: object = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1730000000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason: finish, ...extra }],
  usage: { prompt_tokens: 50, completion_tokens: 10, total_tokens: 60, prompt_tokens_details: { cached_tokens: 30 } },
});

/** Runs data payloads through a writer: the events it emits, then what flush adds. */
function run(writer: MessagesStreamWriter, datas: string[]): SSEEvent[] {
  const out: SSEEvent[] = [];
  for (const data of datas) out.push(...(writer.transform({ data }) ?? []));
  out.push(...(writer.flush() ?? []));
  return out;
}

describe('@waygate/anthropic-messages: OpenAI answers → Anthropic answers', () => {
  describe('JSON', () => {
    it('turns a text answer into a Message, usage with cached tokens apart', () => {
      expect(toMessage(completion({ content: 'Hello!' }, 'stop'), { model: 'asked' })).to.deep.equal({
        id: 'chatcmpl-1',
        type: 'message',
        role: 'assistant',
        model: 'gpt-4o-mini',
        content: [{ type: 'text', text: 'Hello!' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 30, output_tokens: 10 },
      });
    });

    it('turns tool calls into tool_use blocks with their arguments parsed', () => {
      const msg = toMessage(
        completion(
          {
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'call_2', type: 'function', function: { name: 'broken', arguments: '{"city":' } },
            ],
          },
          'tool_calls',
        ),
      );
      expect(msg.content).to.deep.equal([
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'broken', input: {} },
      ]);
      expect(msg.stop_reason).to.equal('tool_use');
    });

    it('maps every stop reason', () => {
      const stop = (finish: string, extra: object = {}, request: object = {}) =>
        toMessage(completion({ content: 'x' }, finish, extra), request).stop_reason;
      expect(stop('stop')).to.equal('end_turn');
      expect(stop('length')).to.equal('max_tokens');
      expect(stop('tool_calls')).to.equal('tool_use');
      expect(stop('content_filter')).to.equal('refusal');
      // A provider that names the stop string it matched (vLLM's stop_reason): stop_sequence.
      const seq = toMessage(completion({ content: 'x' }, 'stop', { stop_reason: 'END' }), { stop_sequences: ['END'] });
      expect([seq.stop_reason, seq.stop_sequence]).to.deep.equal(['stop_sequence', 'END']);
      expect(stop('stop', { stop_reason: 'END' }, {})).to.equal('end_turn');
      // A provider that says "stop" next to tool calls.
      expect(
        toMessage(completion({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, 'stop'))
          .stop_reason,
      ).to.equal('tool_use');
      expect(stopReason(null)).to.deep.equal({ stop_reason: 'end_turn', stop_sequence: null });
    });

    it('keeps a refusal as text with stop_reason refusal', () => {
      const msg = toMessage(completion({ content: null, refusal: "I can't help with that." }, 'stop'));
      expect(msg.content).to.deep.equal([{ type: 'text', text: "I can't help with that." }]);
      expect(msg.stop_reason).to.equal('refusal');
    });

    it('reports zero usage when the provider gave none', () => {
      expect(toAnthropicUsage(undefined)).to.deep.equal({ input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 });
    });
  });

  describe('streams', () => {
    it('turns text and tool calls with streamed arguments into Anthropic events', () => {
      const out = run(new MessagesStreamWriter({ model: 'gpt-4o-mini' }), openAIToolChunks());
      expect(out.map((e) => e.event)).to.deep.equal([
        'message_start',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      const data = out.map((e) => JSON.parse(e.data));
      for (let i = 0; i < out.length; i++) expect(data[i].type).to.equal(out[i]!.event);
      expect(data[0].message).to.deep.include({ id: 'chatcmpl-9', model: 'gpt-4o-mini', role: 'assistant', content: [], stop_reason: null });
      expect(data[1]).to.deep.equal({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      expect(data[5].content_block).to.deep.equal({ type: 'tool_use', id: 'call_abc', name: 'get_weather', input: {} });
      expect(
        data
          .slice(6, 8)
          .map((d) => d.delta.partial_json)
          .join(''),
      ).to.equal('{"city":"Paris"}');
      expect(data[9]).to.deep.include({ index: 2 });
      expect(data[12]).to.deep.equal({
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { input_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 20, output_tokens: 30 },
      });
      // What a client assembles from them, and what the kernel reads as usage.
      expect(ANTHROPIC_CODEC.fromEvents(out)).to.deep.include({
        content: [
          { type: 'text', text: 'Checking now.' },
          { type: 'tool_use', id: 'call_abc', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_def', name: 'get_time', input: {} },
        ],
        stop_reason: 'tool_use',
      });
      expect(ANTHROPIC_STREAM.usage!(out[12]!)!.usage).to.include({ prompt_tokens: 120, completion_tokens: 30 });
      expect(out.filter((e) => ANTHROPIC_STREAM.isEnd(e))).to.have.length(1);
      expect(out.some((e) => e.data === '[DONE]')).to.equal(false);
    });

    it('holds the opening role chunk as a preamble: message_start only', () => {
      const w = new MessagesStreamWriter({});
      const first = w.transform({ data: openAIToolChunks()[0]! })!;
      expect(first.map((e) => e.event)).to.deep.equal(['message_start']);
      expect(ANTHROPIC_STREAM.isContent(first[0]!)).to.equal(false);
    });

    it('finishes a stream that had a finish reason but no [DONE], and fails one that was cut', () => {
      const chunks = openAIToolChunks();
      const lenient = run(new MessagesStreamWriter({}), chunks.slice(0, 8));
      expect(lenient.at(-1)!.event).to.equal('message_stop');
      const cut = new MessagesStreamWriter({});
      for (const data of chunks.slice(0, 3)) cut.transform({ data });
      let err: unknown;
      try {
        cut.flush();
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(GatewayError);
      expect((err as GatewayError).code).to.equal(ErrorCode.UPSTREAM_BAD_RESPONSE);
      expect(new MessagesStreamWriter({}).flush()).to.deep.equal([]);
    });

    it('turns an OpenAI error event into an Anthropic error event, the end of the stream', () => {
      const w = new MessagesStreamWriter({});
      const out = run(w, [
        openAIToolChunks()[1]!,
        '{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}',
        openAIToolChunks()[2]!,
      ]);
      const last = out.at(-1)!;
      expect(last.event).to.equal('error');
      expect(JSON.parse(last.data)).to.deep.equal({ type: 'error', error: { type: 'api_error', message: 'The server had an error' } });
      expect(ANTHROPIC_STREAM.errorOf(last, 'openai')).to.be.instanceOf(GatewayError);
      expect(anthropicErrorFromOpenAI({ error: { message: 'slow', type: 'rate_limit_error' } })).to.deep.equal({
        type: 'error',
        error: { type: 'rate_limit_error', message: 'slow' },
      });
      expect(anthropicErrorFromOpenAI({ error: { message: 'slow', code: 429 } }).error.type).to.equal('rate_limit_error');
    });

    it('refuses an event that is not JSON', () => {
      expect(() => new MessagesStreamWriter({}).transform({ data: '{"id": nope' })).to.throw(/not JSON/);
    });

    it("composes with a provider's own stream transformer (its events → OpenAI chunks → Anthropic events)", () => {
      const seen: string[] = [];
      // A provider transformer that turns upstream lines "T:<text>" and "END" into OpenAI chunks.
      const inner: StreamTransformer = {
        transform(ev) {
          seen.push(ev.data);
          if (ev.data === 'END') return [{ data: '{"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}' }, { data: '[DONE]' }];
          return {
            data: JSON.stringify({ id: 'x', model: 'gemini', choices: [{ index: 0, delta: { content: ev.data.slice(2) }, finish_reason: null }] }),
          };
        },
        flush: () => undefined,
      };
      const w = new MessagesStreamWriter({}, inner);
      const out = [...w.transform({ data: 'T:Hel' })!, ...w.transform({ data: 'T:lo' })!, ...w.transform({ data: 'END' })!, ...(w.flush() ?? [])];
      expect(seen).to.deep.equal(['T:Hel', 'T:lo', 'END']);
      const msg = ANTHROPIC_CODEC.fromEvents(out) as any;
      expect(msg.content).to.deep.equal([{ type: 'text', text: 'Hello' }]);
      expect(msg.model).to.equal('gemini');
      expect(msg.stop_reason).to.equal('max_tokens');
    });
  });
});
