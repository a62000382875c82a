import { expect } from 'chai';
import { trace } from '@opentelemetry/api';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runningTracing, startTracing, tracingEnabled, tracingSettingsOf } from '@waygate/core/otel';
import type { SSEEvent } from '@waygate/core';
import { bounded, finishReader, finishReasons, operationName, outputMessages, providerName, TracingOptionsSchema } from '../src/index.js';

describe('@waygate/tracing: the GenAI conventions and when tracing is on', () => {
  it('names operations and providers as the GenAI semantic conventions do', () => {
    expect(['chat.completions', 'messages', 'responses', 'completions', 'embeddings', 'rerank'].map(operationName)).to.deep.equal([
      'chat',
      'chat',
      'chat',
      'text_completion',
      'embeddings',
      'rerank',
    ]);
    expect(['openai', 'anthropic', 'bedrock', 'azure-openai', 'google', 'vertex-ai', 'mistral-ai', 'moonshot'].map(providerName)).to.deep.equal([
      'openai',
      'anthropic',
      'aws.bedrock',
      'azure.ai.openai',
      'gcp.gemini',
      'gcp.vertex_ai',
      'mistral_ai',
      'moonshot',
    ]);
  });

  it('reads finish reasons from OpenAI, Anthropic and Responses answers', () => {
    expect(finishReasons({ choices: [{ finish_reason: 'stop' }, { finish_reason: 'length' }] })).to.deep.equal(['stop', 'length']);
    expect(finishReasons({ type: 'message', stop_reason: 'end_turn' })).to.deep.equal(['end_turn']);
    expect(finishReasons({ object: 'response', status: 'completed' })).to.deep.equal(['completed']);
    expect(finishReasons({ data: [] })).to.deep.equal([]);
    expect(finishReasons(null)).to.deep.equal([]);
  });

  it('the CLI’s SDK is off unless OTEL_* or the settings ask for it', () => {
    expect(tracingEnabled({}, {})).to.equal(false);
    expect(tracingEnabled({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).to.equal(true);
    expect(tracingEnabled({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).to.equal(true);
    expect(tracingEnabled({}, { OTEL_TRACES_EXPORTER: 'console' })).to.equal(true);
    expect(tracingEnabled({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).to.equal(false);
    expect(tracingEnabled({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' })).to.equal(false);
    expect(tracingEnabled({ endpoint: 'http://127.0.0.1:4318/v1/traces' }, {})).to.equal(true);
    expect(tracingEnabled({ enabled: false, endpoint: 'http://127.0.0.1:4318/v1/traces' }, {})).to.equal(false);
    const o = (x: unknown) => TracingOptionsSchema.parse(x);
    expect(o({}).maxContentChars).to.equal(16_384);
    expect(() => o({ sampleRatio: 2 })).to.throw();
    expect(() => o({ endpoint: 'not a url' })).to.throw();
    expect(() => o({ maxContentChars: 0 })).to.throw();
  });

  it('startTracing registers one global provider per process, and shutdown unregisters it', async () => {
    expect(startTracing({ env: {} })).to.equal(undefined);
    const t = startTracing({ settings: { endpoint: 'http://127.0.0.1:9/v1/traces' }, env: {} })!;
    expect(t.exporters).to.deep.equal(['otlp (http/protobuf)']);
    expect(startTracing({ settings: { endpoint: 'http://127.0.0.1:8/v1/traces' }, env: {} })).to.equal(t);
    expect(runningTracing()).to.equal(t);
    expect(trace.getTracer('x').startSpan('s').isRecording()).to.equal(true);
    await t.shutdown();
    expect(runningTracing()).to.equal(undefined);
    expect(trace.getTracer('x').startSpan('s').isRecording()).to.equal(false);
  });

  it('the CLI reads the SDK settings from the config file’s @waygate/tracing entry', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'waygate-tracing-'));
    try {
      const file = (name: string, plugins: unknown[]) => {
        const f = path.join(dir, name);
        writeFileSync(f, JSON.stringify({ plugins }));
        return f;
      };
      const options = {
        endpoint: 'http://127.0.0.1:4318/v1/traces',
        headers: { 'x-key': 'k' },
        serviceName: 'gw',
        sampleRatio: 0.5,
        captureContent: true,
      };
      expect(await tracingSettingsOf(file('a.json', ['@waygate/metrics', { module: '@waygate/tracing', options }]), {})).to.deep.equal({
        endpoint: 'http://127.0.0.1:4318/v1/traces',
        headers: { 'x-key': 'k' },
        serviceName: 'gw',
        sampleRatio: 0.5,
      });
      const off = await tracingSettingsOf(file('b.json', [{ module: '@waygate/tracing', enabled: false, options }]), {});
      expect(off?.enabled).to.equal(false);
      expect(tracingEnabled(off!, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).to.equal(false);
      expect(await tracingSettingsOf(file('c.json', []), {})).to.equal(undefined);
      expect(await tracingSettingsOf(path.join(dir, 'missing.json'), {})).to.equal(undefined);
      expect(await tracingSettingsOf(undefined, {})).to.equal(undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const reasons = (endpoint: string, events: SSEEvent[]) => {
    const read = finishReader(endpoint)!;
    const into: string[] = [];
    for (const e of events) read(e, into);
    return into.filter(Boolean);
  };

  it('reads the finish reasons of chat, Anthropic and Responses streams from their events', () => {
    const c = (choices: unknown[]) => ({ data: JSON.stringify({ object: 'chat.completion.chunk', choices }) });
    expect(
      reasons('chat.completions', [
        c([{ index: 0, delta: { content: 'a' }, finish_reason: null }]),
        c([{ index: 1, delta: {}, finish_reason: 'length' }]),
        { data: '{"choices":[{"index":0,"delta":{},"finish_reason": "stop"}]}' },
        { data: '[DONE]' },
      ]),
    ).to.deep.equal(['stop', 'length']);
    expect(reasons('completions', [{ data: '{"choices":[{"index":0,"text":"x","finish_reason":"stop"}]}' }])).to.deep.equal(['stop']);
    expect(
      reasons('messages', [
        { event: 'content_block_delta', data: '{"type":"content_block_delta","delta":{"stop_reason":"fake"}}' },
        { event: 'message_delta', data: '{"type":"message_delta","delta":{"stop_reason":"max_tokens"}}' },
      ]),
    ).to.deep.equal(['max_tokens']);
    expect(reasons('responses', [{ data: '{"type":"response.incomplete","response":{"status":"incomplete"}}' }])).to.deep.equal(['incomplete']);
    expect(finishReader('embeddings')).to.equal(undefined);
  });

  it('maps answers of every known shape to GenAI output messages, each text through the function', () => {
    const up = (t: string) => t.toUpperCase();
    expect(
      outputMessages(
        {
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'hi', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":"b"}' } }] },
              finish_reason: 'tool_calls',
            },
          ],
        },
        up,
      ),
    ).to.deep.equal([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'HI' },
          { type: 'tool_call', id: 't1', name: 'f', arguments: '{"A":"B"}' },
        ],
        finish_reason: 'tool_calls',
      },
    ]);
    expect(outputMessages({ choices: [{ text: 'x', finish_reason: 'stop' }] }, up)).to.deep.equal([
      { role: 'assistant', parts: [{ type: 'text', content: 'X' }], finish_reason: 'stop' },
    ]);
    expect(
      outputMessages(
        {
          type: 'message',
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hm', signature: 'sig' },
            { type: 'text', text: 'ok' },
            { type: 'tool_use', id: 'tu', name: 'g', input: { q: 'z' } },
          ],
          stop_reason: 'tool_use',
        },
        up,
      ),
    ).to.deep.equal([
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'HM' },
          { type: 'text', content: 'OK' },
          { type: 'tool_call', id: 'tu', name: 'g', arguments: '{"Q":"Z"}' },
        ],
        finish_reason: 'tool_use',
      },
    ]);
    expect(
      outputMessages(
        {
          object: 'response',
          status: 'completed',
          output: [
            { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'yo' }] },
            { type: 'function_call', call_id: 'c1', name: 'h', arguments: '{}' },
          ],
        },
        up,
      ),
    ).to.deep.equal([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'YO' },
          { type: 'tool_call', id: 'c1', name: 'h', arguments: '{}' },
        ],
        finish_reason: 'completed',
      },
    ]);
    expect(outputMessages({ data: [] }, up)).to.equal(undefined);
  });

  it('bounds the texts of one attribute to a shared budget, counted after redaction', () => {
    const b = bounded((t) => t.replace(/secret/g, '[X]'), 10);
    expect(b.fn('a secret')).to.equal('a [X]');
    expect(b.truncated).to.equal(false);
    expect(b.fn('0123456789')).to.equal('01234…');
    expect(b.fn('more')).to.equal('');
    expect(b.truncated).to.equal(true);
  });
});
