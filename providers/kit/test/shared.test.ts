import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import type { SSEEvent } from '@waygate/core';
import { contentText, OpenAIChunkStream, openAIUsage, parseObject } from '../src/index.js';
import type { Json } from '../src/index.js';

describe('parseObject', () => {
  it('parses JSON text that holds an object; anything else (not JSON, an array, a scalar, null) is undefined', () => {
    expect(parseObject('{"a":1,"b":[2]}')).to.deep.equal({ a: 1, b: [2] });
    for (const text of ['{"a":', '[1]', '3', '"x"', 'null', '']) expect(parseObject(text), text).to.equal(undefined);
  });
});

describe('openAIUsage', () => {
  it('reads OpenAI field names: a missing count is 0, a missing total the sum; none without counts', () => {
    expect(openAIUsage({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 9 })).to.deep.equal({
      prompt_tokens: 3,
      completion_tokens: 2,
      total_tokens: 9,
    });
    expect(openAIUsage({ prompt_tokens: 3 })).to.deep.equal({ prompt_tokens: 3, completion_tokens: 0, total_tokens: 3 });
    expect(openAIUsage({ total_tokens: 4 })).to.equal(undefined);
    expect(openAIUsage('x')).to.equal(undefined);
  });
});

describe('contentText', () => {
  const notText = (p: unknown): string => `x takes text only, not ${JSON.stringify((p as Json)?.type)}`;
  it('a string as it is, nothing as empty, text parts joined', () => {
    expect(contentText('hi', 'm', notText)).to.equal('hi');
    expect(contentText(null, 'm', notText)).to.equal('');
    expect(
      contentText(
        [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
        'm',
        notText,
      ),
    ).to.equal('ab');
  });
  it('another part or content type is a 400 naming where', () => {
    try {
      contentText([{ type: 'text', text: 'a' }, { type: 'image_url' }], 'messages[0].content', notText);
      expect.fail('no error');
    } catch (e) {
      expect(e).to.be.instanceOf(GatewayError);
      expect((e as GatewayError).status).to.equal(400);
      expect((e as GatewayError).message).to.equal('messages[0].content[1]: x takes text only, not "image_url"');
    }
    expect(() => contentText(5, 'c', notText)).to.throw('c: content must be a string or an array of parts');
  });
});

class Relay extends OpenAIChunkStream {
  constructor(includeUsage: boolean) {
    super({ id: 'start', model: 'm', includeUsage, fail: (m) => new Error(`p ${m}`) });
  }
  protected choices(chunk: Json): SSEEvent[] {
    return (chunk.choices ?? []).map((c: Json) => this.out.delta(c.delta, c.finish_reason ?? null));
  }
  protected unfinished(): never {
    throw new Error('cut');
  }
}

describe('OpenAIChunkStream', () => {
  it('maps chunks under their id, ends at [DONE] with the usage chunk when asked, drops what comes after', () => {
    const r = new Relay(true);
    const first = r.transform({ data: '{"id":"c1","choices":[{"delta":{"content":"Hi"}}]}' })!;
    expect(JSON.parse(first[0]!.data)).to.deep.include({ id: 'c1', model: 'm', object: 'chat.completion.chunk' });
    expect(r.transform({ data: '{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}' })).to.equal(undefined);
    expect(r.transform({ data: '"text"' })).to.equal(undefined);
    const end = r.transform({ data: '[DONE]' })!;
    expect(JSON.parse(end[0]!.data).usage).to.deep.equal({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
    expect(end[1]).to.deep.equal({ data: '[DONE]' });
    expect(r.transform({ data: '{"choices":[{"delta":{}}]}' })).to.equal(undefined);
    expect(r.flush()).to.equal(undefined);
  });
  it('no usage chunk unless asked; bad JSON and a cut body fail', () => {
    const r = new Relay(false);
    r.transform({ data: '{"usage":{"prompt_tokens":1}}' });
    expect(r.transform({ data: '[DONE]' })).to.deep.equal([{ data: '[DONE]' }]);
    expect(() => new Relay(false).transform({ data: '{not' })).to.throw('p sent a stream event that is not JSON: {not');
    expect(() => new Relay(false).flush()).to.throw('cut');
  });
});
