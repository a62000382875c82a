import { expect } from 'chai';
import { ChunkWriter } from '../src/index.js';

describe('ChunkWriter', () => {
  it('writes chat.completion.chunk events with the stream id, model and created time, in OpenAI key order', () => {
    const w = new ChunkWriter({ id: 'chatcmpl-1', model: 'm', created: 100 });
    expect(w.delta({ content: 'Hi' }).data).to.equal(
      '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":100,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}',
    );
    w.id = 'msg_2';
    w.model = 'm2';
    expect(JSON.parse(w.delta({}, 'stop', 1).data)).to.deep.include({
      id: 'msg_2',
      model: 'm2',
      choices: [{ index: 1, delta: {}, logprobs: null, finish_reason: 'stop' }],
    });
  });

  it('writes the usage chunk with no choices, and [DONE]', () => {
    const w = new ChunkWriter({ id: 'c', model: 'm', created: 1 });
    expect(JSON.parse(w.usage({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }).data)).to.deep.equal({
      id: 'c',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
    expect(w.done()).to.deep.equal({ data: '[DONE]' });
  });

  it('writes text_completion chunks for the completions API, in OpenAI key order, and their usage chunk', () => {
    const w = new ChunkWriter({ id: 'cmpl-1', model: 'm', created: 7 });
    expect(w.text('Hi').data).to.equal(
      '{"id":"cmpl-1","object":"text_completion","created":7,"model":"m","choices":[{"index":0,"text":"Hi","logprobs":null,"finish_reason":null}]}',
    );
    expect(JSON.parse(w.text('', 'length', 2).data).choices).to.deep.equal([{ index: 2, text: '', logprobs: null, finish_reason: 'length' }]);
    expect(w.textUsage({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }).data).to.equal(
      '{"id":"cmpl-1","object":"text_completion","created":7,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}',
    );
    expect(JSON.parse(w.choices([{ index: 0, text: 'x' }], undefined, 'text_completion').data).object).to.equal('text_completion');
  });
});
