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
});
