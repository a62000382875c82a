import { expect } from 'chai';
import { finishReasons, operationName, providerName, tracingEnabled, TracingOptionsSchema } from '../src/index.js';

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

  it('is off unless an endpoint is configured, in the options or the OTEL_* environment', () => {
    const o = (x: unknown) => TracingOptionsSchema.parse(x);
    expect(tracingEnabled(o({}), {})).to.equal(false);
    expect(tracingEnabled(o({}), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).to.equal(true);
    expect(tracingEnabled(o({}), { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).to.equal(true);
    expect(tracingEnabled(o({}), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).to.equal(false);
    expect(tracingEnabled(o({ endpoint: 'http://127.0.0.1:4318/v1/traces' }), {})).to.equal(true);
    expect(tracingEnabled(o({ enabled: false, endpoint: 'http://127.0.0.1:4318/v1/traces' }), {})).to.equal(false);
    expect(() => o({ sampleRatio: 2 })).to.throw();
    expect(() => o({ endpoint: 'not a url' })).to.throw();
  });
});
