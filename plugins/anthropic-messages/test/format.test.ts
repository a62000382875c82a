import { expect } from 'chai';
import { ErrorCode, GatewayError } from '@waygate/core';
import plugin, { ANTHROPIC_STREAM, ANTHROPIC_CODEC, anthropicErrorBody, messageUsage, usageFromAnthropic, errorTypeFor } from '../src/index.js';
import { THINKING_TOOL_MESSAGE, THINKING_TOOL_STREAM, events, frame } from './fixtures.js';

describe('@waygate/anthropic-messages: the wire format', () => {
  it('has a manifest with its package name, version, kind endpoint and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/anthropic-messages', kind: 'endpoint', core: '^1.0.0' });
    expect(plugin.manifest.version).to.match(/^\d+\.\d+\.\d+/);
  });

  describe('stream format', () => {
    const evs = events(THINKING_TOOL_STREAM);

    it('holds message_start and ping, and counts everything else as content', () => {
      expect(evs.map((e) => ANTHROPIC_STREAM.isContent(e))).to.deep.equal([false, false, ...evs.slice(2).map(() => true)]);
      // Without an event name (a relay that dropped it), the data's type decides.
      expect(ANTHROPIC_STREAM.isContent({ data: '{"type":"message_start","message":{}}' })).to.equal(false);
      expect(ANTHROPIC_STREAM.isContent({ data: '{"type": "ping"}' })).to.equal(false);
    });

    it('ends at message_stop only', () => {
      expect(evs.filter((e) => ANTHROPIC_STREAM.isEnd(e))).to.have.length(1);
      expect(ANTHROPIC_STREAM.isEnd(evs.at(-1)!)).to.equal(true);
      expect(ANTHROPIC_STREAM.isEnd({ data: '[DONE]' })).to.equal(false);
    });

    it('reads error events: overload and rate limits retryable with their statuses, bad requests not', () => {
      for (const e of evs) expect(ANTHROPIC_STREAM.errorOf(e, 'anthropic')).to.equal(undefined);
      const over = ANTHROPIC_STREAM.errorOf(
        events([frame('error', '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')])[0]!,
        'anthropic',
      )!;
      expect(over).to.be.instanceOf(GatewayError);
      expect(over).to.include({ status: 529, retryable: true, type: 'overloaded_error' });
      expect(over.message).to.include('Overloaded');
      expect(over.upstream?.body).to.deep.equal({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
      const rate = ANTHROPIC_STREAM.errorOf({ data: '{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}' }, 'x')!;
      expect(rate).to.include({ status: 429, retryable: true });
      const bad = ANTHROPIC_STREAM.errorOf({ event: 'error', data: '{"type":"error","error":{"type":"invalid_request_error","message":"no"}}' }, 'x')!;
      expect(bad).to.include({ status: 400, retryable: false });
    });

    it('writes its terminal error event in Anthropic shape', () => {
      const ev = ANTHROPIC_STREAM.errorEvent(
        new GatewayError(ErrorCode.STREAM_INTERRUPTED, 502, 'The stream from x failed after it started: cut', { type: 'server_error' }),
      );
      expect(ev.event).to.equal('error');
      expect(JSON.parse(ev.data)).to.deep.equal({
        type: 'error',
        error: { type: 'api_error', message: 'The stream from x failed after it started: cut' },
      });
    });

    it('reads usage from message_start and message_delta as partial OpenAI-style usage', () => {
      const found = evs.map((e) => ANTHROPIC_STREAM.usage!(e)).filter(Boolean);
      expect(found).to.have.length(2);
      expect(found[0]).to.deep.equal({
        model: 'claude-sonnet-4-5',
        usage: {
          prompt_tokens: 125,
          prompt_tokens_details: { cached_tokens: 100 },
          completion_tokens: 1,
          cache_read_input_tokens: 100,
          cache_creation_input_tokens: 0,
        },
      });
      // message_delta carries only output tokens here: the input count from message_start must survive the merge.
      expect(found[1]).to.deep.equal({ usage: { completion_tokens: 89 } });
      const withInput = ANTHROPIC_STREAM.usage!({
        event: 'message_delta',
        data: '{"type":"message_delta","delta":{},"usage":{"input_tokens":5,"cache_read_input_tokens":7,"output_tokens":3}}',
      });
      expect(withInput!.usage).to.include({ prompt_tokens: 12, completion_tokens: 3 });
      expect(
        ANTHROPIC_STREAM.usage!({
          event: 'content_block_delta',
          data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\\"usage\\""}}',
        }),
      ).to.equal(undefined);
    });
  });

  it('reads usage and the model from a Message answer', () => {
    expect(messageUsage(THINKING_TOOL_MESSAGE)).to.deep.equal({
      model: 'claude-sonnet-4-5',
      usage: {
        prompt_tokens: 125,
        completion_tokens: 89,
        total_tokens: 214,
        prompt_tokens_details: { cached_tokens: 100 },
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 0,
      },
    });
    expect(usageFromAnthropic({ input_tokens: 3, output_tokens: 4, cache_creation_input_tokens: 10 })).to.include({ prompt_tokens: 13, total_tokens: 17 });
    expect(messageUsage('nope')).to.equal(undefined);
  });

  describe('error bodies', () => {
    it("keeps an upstream's own Anthropic error body as it is", () => {
      const body = {
        type: 'error',
        error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' },
        request_id: 'req_011',
      };
      const err = new GatewayError(ErrorCode.UPSTREAM_ERROR, 429, 'x', { upstream: { status: 429, body } });
      expect(anthropicErrorBody(err)).to.equal(body);
    });

    it("gives the gateway's own and OpenAI-format errors Anthropic's shape and the type for their status", () => {
      const openai = { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded', param: null } };
      const relayed = new GatewayError(ErrorCode.UPSTREAM_ERROR, 429, 'Rate limit reached', { upstream: { status: 429, body: openai }, body: openai });
      expect(anthropicErrorBody(relayed)).to.deep.equal({ type: 'error', error: { type: 'rate_limit_error', message: 'Rate limit reached' } });
      expect(anthropicErrorBody(new GatewayError(ErrorCode.MISSING_PROVIDER, 400, 'No provider'))).to.deep.equal({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'No provider' },
      });
      const cases: Array<[number, string]> = [
        [401, 'authentication_error'],
        [402, 'billing_error'],
        [403, 'permission_error'],
        [404, 'not_found_error'],
        [408, 'timeout_error'],
        [413, 'request_too_large'],
        [415, 'invalid_request_error'],
        [429, 'rate_limit_error'],
        [500, 'api_error'],
        [502, 'api_error'],
        [503, 'overloaded_error'],
        [504, 'timeout_error'],
        [529, 'overloaded_error'],
      ];
      for (const [status, type] of cases) expect(errorTypeFor(status), String(status)).to.equal(type);
      const gw = new GatewayError(ErrorCode.UPSTREAM_UNREACHABLE, 502, 'refused', { type: 'server_error' });
      expect((anthropicErrorBody(gw) as any).error.type).to.equal('api_error');
    });
  });

  describe('codec', () => {
    it('adds an Anthropic event stream up to its Message', () => {
      expect(ANTHROPIC_CODEC.fromEvents(events(THINKING_TOOL_STREAM))).to.deep.equal(THINKING_TOOL_MESSAGE);
    });

    it('turns a Message into the full event sequence, and back', () => {
      const out = ANTHROPIC_CODEC.toEvents(THINKING_TOOL_MESSAGE);
      expect(out.map((e) => e.event)).to.deep.equal([
        'message_start',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      for (const e of out) expect(JSON.parse(e.data).type).to.equal(e.event);
      const start = JSON.parse(out[0]!.data);
      expect(start.message).to.include({ id: 'msg_01XyZ', stop_reason: null });
      expect(start.message.content).to.deep.equal([]);
      expect(JSON.parse(out[3]!.data).delta).to.deep.equal({ type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' });
      expect(JSON.parse(out[8]!.data).content_block).to.deep.equal({ type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: {} });
      expect(JSON.parse(out[9]!.data).delta).to.deep.equal({ type: 'input_json_delta', partial_json: '{"city":"Paris"}' });
      expect(JSON.parse(out[11]!.data).delta).to.deep.equal({ stop_reason: 'tool_use', stop_sequence: null });
      expect(ANTHROPIC_CODEC.fromEvents(out)).to.deep.equal(THINKING_TOOL_MESSAGE);
    });

    it('round-trips citations, redacted thinking and block types it does not know', () => {
      const msg = {
        id: 'msg_2',
        type: 'message',
        role: 'assistant',
        model: 'claude-opus-4-1',
        content: [
          { type: 'redacted_thinking', data: 'EmwKAhgB' },
          {
            type: 'text',
            text: 'Per the doc, yes.',
            citations: [{ type: 'char_location', cited_text: 'yes', document_index: 0, start_char_index: 0, end_char_index: 3 }],
          },
          { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'q' } },
          { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [{ type: 'web_search_result', url: 'https://example.com', title: 'E' }] },
        ],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 1, output_tokens: 2 },
      };
      expect(ANTHROPIC_CODEC.fromEvents(ANTHROPIC_CODEC.toEvents(msg))).to.deep.equal(msg);
    });

    it('ignores error events and garbage when assembling', () => {
      const evs = [
        ...events(THINKING_TOOL_STREAM.slice(0, 9)),
        { event: 'error', data: '{"type":"error","error":{"type":"api_error","message":"x"}}' },
        { data: 'not json' },
      ];
      const msg = ANTHROPIC_CODEC.fromEvents(evs) as any;
      expect(msg.content.map((b: any) => b.type)).to.deep.equal(['thinking', 'text']);
      expect(msg.stop_reason).to.equal(null);
    });
  });
});
