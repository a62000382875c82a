// The TGI mapping as pure functions: OpenAI requests to /generate's {inputs, parameters}, its answers
// and stream events back, and its error bodies.
import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import { chatPrompt, completionPrompt, generateParameters, fromGenerate, mapTgiError, streamError, TgiStreamTransformer, usageOf } from '../src/index.js';
import { jsonFixture, sseFixture } from './fixtures.js';

const events = (name: string) => sseFixture(name).map((raw) => ({ data: raw.replace(/^data:/, '').trim() }));
const chunks = (out: Array<{ data: string }>) => out.map((e) => (e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data)));

describe('@waygate/provider-tgi mapping', () => {
  it('sends a lone user message as it is, and a conversation as a transcript ending with Assistant:', () => {
    expect(chatPrompt([{ role: 'user', content: 'Hi there' }])).to.equal('Hi there');
    expect(
      chatPrompt([
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'Again' },
      ]),
    ).to.equal('Be brief.\n\nUser: Hi\n\nAssistant: Hello.\n\nUser: Again\n\nAssistant:');
    expect(
      chatPrompt([
        { role: 'user', content: 'Q' },
        { role: 'assistant', content: 'Partial' },
      ]),
    ).to.equal('User: Q\n\nAssistant: Partial');
    expect(thrown(() => chatPrompt([])).status).to.equal(400);
    expect(thrown(() => chatPrompt([{ role: 'system', content: 'x' }])).message).to.include('needs a user message');
    expect(thrown(() => chatPrompt([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }])).param).to.equal(
      'messages[0].content[0]',
    );
    expect(thrown(() => chatPrompt([{ role: 'critic', content: 'x' }])).param).to.equal('messages[0].role');
  });

  it('takes one completion prompt, and refuses suffix, echo and several prompts', () => {
    expect(completionPrompt({ prompt: 'My name is' })).to.equal('My name is');
    expect(completionPrompt({ prompt: ['One'] })).to.equal('One');
    expect(thrown(() => completionPrompt({ prompt: ['a', 'b'] })).param).to.equal('prompt');
    expect(thrown(() => completionPrompt({ prompt: 'def f(', suffix: 'return 1' })).param).to.equal('suffix');
    expect(thrown(() => completionPrompt({ prompt: 'x', echo: true })).param).to.equal('echo');
  });

  it("maps the sampling fields to TGI's parameters, within TGI's ranges, the request's own parameters over them", () => {
    expect(generateParameters({ max_completion_tokens: 9, max_tokens: 3, temperature: 0, top_p: 1, stop: 'END', frequency_penalty: 0.5 })).to.deep.equal({
      max_new_tokens: 9,
      do_sample: false,
      stop: ['END'],
      frequency_penalty: 0.5,
      details: true,
    });
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    expect(generateParameters({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }).grammar).to.deep.equal({
      type: 'json',
      value: schema,
    });
    expect(generateParameters({ temperature: 0.7, parameters: { top_k: 10, temperature: 0.1, details: false } })).to.deep.equal({
      temperature: 0.1,
      top_k: 10,
      details: false,
    });
    expect(thrown(() => generateParameters({ tools: [{ type: 'function', function: { name: 'f' } }] })).param).to.equal('tools');
    expect(thrown(() => generateParameters({ n: 2 })).param).to.equal('n');
    expect(thrown(() => generateParameters({ stop: [1] })).param).to.equal('stop');
    expect(thrown(() => generateParameters({ parameters: 'x' })).param).to.equal('parameters');
  });

  it('answers a completion with the prompt tokens counted from prefill, and finish length', () => {
    const out = fromGenerate(jsonFixture('generate-length'), 'completion', 'my-model');
    expect(out).to.deep.include({ object: 'text_completion', model: 'my-model' });
    expect(out.id).to.match(/^cmpl-/);
    expect(out.choices).to.deep.equal([{ index: 0, text: ' a software engineer living in', logprobs: null, finish_reason: 'length' }]);
    expect(out.usage).to.deep.equal({ prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 });
    expect(fromGenerate([{ generated_text: 'x' }], 'chat', 'm').choices[0].message).to.deep.equal({ role: 'assistant', content: 'x' });
    expect(fromGenerate({ generated_text: 'x' }, 'chat', 'm').usage).to.equal(undefined);
    expect(usageOf({ generated_tokens: 4, prompt_tokens: 6 })).to.deep.equal({ prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 });
    const bad = thrown(() => fromGenerate({ text: 'x' }, 'chat', 'm'));
    expect([bad.status, bad.code]).to.deep.equal([502, 'upstream_bad_response']);
  });

  it('streams a completion as text_completion chunks, skipping special tokens, usage only when asked', () => {
    const t = new TgiStreamTransformer('completion', 'm', true);
    const out = chunks(events('stream-length').flatMap((e) => t.transform(e) ?? []));
    expect(out.at(-1)).to.equal('[DONE]');
    const body = out.slice(0, -1);
    expect(body.every((c: any) => c.object === 'text_completion')).to.equal(true);
    expect(body.map((c: any) => c.choices[0]?.text ?? '').join('')).to.equal(' a software engineer');
    expect(body.at(-2).choices[0].finish_reason).to.equal('length');
    expect(body.at(-1)).to.deep.include({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } });
    expect(t.flush()).to.equal(undefined);

    const chat = new TgiStreamTransformer('chat', 'm', false);
    const got = chunks(events('stream').flatMap((e) => chat.transform(e) ?? []));
    expect(got.some((c: any) => c.usage)).to.equal(false);
    expect(JSON.stringify(got)).not.to.include('</s>');
    expect(got[0].choices[0].delta).to.deep.equal({ role: 'assistant', content: '' });
  });

  it('fails a stream on an error event (by its type) and on a stream cut before its last event', () => {
    const t = new TgiStreamTransformer('chat', 'm', false);
    const [first, second] = events('stream-overloaded-midway');
    expect(t.transform(first!)).to.have.length(2);
    const err = thrown(() => t.transform(second!));
    expect(err).to.be.instanceOf(GatewayError);
    expect([err.status, (err as GatewayError).retryable]).to.deep.equal([424, false]);
    expect(err.message).to.include('CUDA out of memory');
    expect(thrown(() => t.flush()).message).to.include('ended before its last event');
    const [validation] = events('stream-error');
    const early = thrown(() => new TgiStreamTransformer('chat', 'm', false).transform(validation!));
    expect([early.status, (early as GatewayError).retryable]).to.deep.equal([422, false]);
    expect(early.message).to.include('`temperature` must be strictly positive');
    expect(streamError({ error: 'Model is overloaded', error_type: 'overloaded' }).retryable).to.equal(true);
    expect(streamError({ error: 'x', error_type: 'validation' }).status).to.equal(422);
    expect(thrown(() => new TgiStreamTransformer('chat', 'm', false).transform({ data: 'not json' })).status).to.equal(502);
  });

  it('keeps the status, the message and Retry-After of an error answer', () => {
    const err = mapTgiError(429, jsonFixture('error-overloaded'), { 'retry-after': '3' });
    expect([err.status, err.retryable, err.message]).to.deep.equal([429, true, 'tgi: Model is overloaded']);
    expect(err.headers).to.deep.equal({ 'retry-after': '3' });
    expect(mapTgiError(502, '<html>bad gateway</html>', {}).message).to.equal('tgi: <html>bad gateway</html>');
    expect(mapTgiError(500, undefined, {}, 'predibase').message).to.equal('predibase: answered status 500');
  });
});
