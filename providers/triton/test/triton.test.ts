// The Triton adapter's pieces on their own: the model URL from the custom host and the model, the
// flattening of messages, the parameters, the answers and the stream transformer.
import { expect } from 'chai';
import type { BuildInput, SSEEvent } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import { flattenMessages, fromTritonChat, fromTritonIndex, mapTritonError, modelUrl, parametersOf, TritonStreamTransformer } from '../src/index.js';
import { jsonFixture } from './fixtures.js';

const input = (baseURL: string, model?: unknown): BuildInput => ({
  ctx: { headers: {} } as never,
  target: { provider: 'triton', baseURL, node: {}, path: 'config' },
  body: { model, messages: [{ role: 'user', content: 'x' }] },
});

describe('triton: requests', () => {
  it('builds the model URL from the root and the model, or keeps a custom host that names the model', () => {
    expect(modelUrl(input('http://triton:8000/', 'ensemble'))).to.equal('http://triton:8000/v2/models/ensemble');
    expect(modelUrl(input('http://triton:8000', 'ensemble/versions/3'))).to.equal('http://triton:8000/v2/models/ensemble/versions/3');
    expect(modelUrl(input('http://triton:8000/v2/models/llama/', 'ignored'))).to.equal('http://triton:8000/v2/models/llama');
    expect(modelUrl(input('http://triton:8000/v2/models/llama/versions/1/generate'))).to.equal('http://triton:8000/v2/models/llama/versions/1');
  });

  it('a model that is not a Triton model name is a 400 (no path tricks)', () => {
    for (const model of [undefined, '', '..', '../secret', 'a/b', 'ensemble/versions/x', 'x?y']) {
      expect(thrown(() => modelUrl(input('http://triton:8000', model))).param, String(model)).to.equal('model');
    }
  });

  it('flattens messages to role-named lines, asking for the answer unless the assistant speaks last', () => {
    expect(
      flattenMessages([
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'Again?' },
      ]),
    ).to.equal('System: Be brief.\nUser: Hi\nAssistant: Hello.\nUser: Again?\nAssistant:');
    expect(
      flattenMessages([
        { role: 'user', content: 'Say' },
        { role: 'assistant', content: 'Sure,' },
      ]),
    ).to.equal('User: Say\nAssistant: Sure,');
    expect(thrown(() => flattenMessages([{ role: 'tool', content: 'x' }])).param).to.equal('messages[0].role');
    expect(thrown(() => flattenMessages([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }])).param).to.equal(
      'messages[0].content[0]',
    );
    expect(thrown(() => flattenMessages([])).param).to.equal('messages');
  });

  it("maps the sampling fields and lets the body's own parameters win", () => {
    expect(
      parametersOf({ max_completion_tokens: 9, temperature: 0.5, top_k: 4, stop: 'END', parameters: { temperature: 0, beam_width: 2 } }, true),
    ).to.deep.equal({
      max_tokens: 9,
      temperature: 0,
      top_k: 4,
      stop_words: ['END'],
      stream: true,
      beam_width: 2,
    });
    expect(thrown(() => parametersOf({ n: 2 }, false)).param).to.equal('n');
  });
});

describe('triton: answers', () => {
  it('text_output becomes the message (an array of strings joined); no text_output or an error object is a 502', () => {
    expect(fromTritonChat(jsonFixture('generate-answer'), 'ensemble').choices[0].message.content).to.equal('Hello! How can I help you today?');
    expect(fromTritonChat({ model_name: 'm', text_output: ['a', 'b'] }, 'm').choices[0].message.content).to.equal('ab');
    expect(thrown(() => fromTritonChat({ model_name: 'm' }, 'm')).status).to.equal(502);
    expect(thrown(() => fromTritonChat({ error: 'boom' }, 'm')).message).to.equal('triton: boom');
  });

  it('the repository index lists the READY models', () => {
    expect(fromTritonIndex(jsonFixture('repository-index')).data.map((m: any) => m.id)).to.deep.equal(['ensemble', 'postprocessing']);
    expect(thrown(() => fromTritonIndex({})).status).to.equal(502);
  });

  it('errors keep the status and message; 503 retryable, 400 not', () => {
    expect(mapTritonError(503, jsonFixture('error-queue'), {}).retryable).to.equal(true);
    const e = mapTritonError(400, jsonFixture('error-unknown-model'), {});
    expect([e.status, e.retryable]).to.deep.equal([400, false]);
  });
});

describe('triton: the stream transformer', () => {
  it('turns each text_output into a delta and ends with stop and [DONE] when the body ends', () => {
    const t = new TritonStreamTransformer('chat', 'ensemble');
    const out = ['{"model_name":"ensemble","text_output":"He"}', '{"model_name":"ensemble","text_output":"y"}']
      .flatMap((d) => (t.transform({ data: d }) as SSEEvent[] | undefined) ?? [])
      .concat(t.flush());
    const parsed = out.map((e) => (e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data)));
    expect(parsed[0].choices[0].delta).to.deep.equal({ role: 'assistant', content: '' });
    expect(
      parsed
        .filter((c) => c !== '[DONE]')
        .map((c) => c.choices[0].delta.content ?? '')
        .join(''),
    ).to.equal('Hey');
    expect(parsed.at(-2).choices[0].finish_reason).to.equal('stop');
    expect(parsed.at(-1)).to.equal('[DONE]');
  });

  it('an error object or an event that is not JSON fails the stream', () => {
    expect(thrown(() => new TritonStreamTransformer('chat', 'm').transform({ data: '{"error":"Executor failed"}' })).message).to.equal(
      'triton: Executor failed',
    );
    expect(thrown(() => new TritonStreamTransformer('completion', 'm').transform({ data: '{"text_output":' })).status).to.equal(502);
  });
});
