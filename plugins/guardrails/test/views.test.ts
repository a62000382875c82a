// Unit tests: the per-endpoint text views (read and write back), stream text readers and the results event.
import { expect } from 'chai';
import { hookResultsEvent, isHookResultsEvent, requestView, responseView, streamTextReader } from '../src/index.js';

describe('@waygate/guardrails: text views', () => {
  describe('request text', () => {
    const chat = requestView('chat.completions')!;

    it('chat: the last user message, whether a string or text parts', () => {
      const body = {
        messages: [
          { role: 'system', content: 'be nice' },
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'ok' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image_url', image_url: { url: 'x' } },
              { type: 'text', text: 'here' },
            ],
          },
        ],
      };
      expect(chat.read(body)).to.equal('look\nhere');
      expect(chat.read({ messages: [{ role: 'system', content: 's' }] })).to.equal('');
      expect(chat.read(undefined)).to.equal('');
    });

    it('chat: writes the text back into the same message without touching the original', () => {
      const body = {
        model: 'm',
        messages: [
          { role: 'user', content: 'one' },
          { role: 'assistant', content: 'a' },
          { role: 'user', content: 'two' },
        ],
      };
      const out = chat.write(body, 'TWO');
      expect(out.messages).to.deep.equal([
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'a' },
        { role: 'user', content: 'TWO' },
      ]);
      expect(out.model).to.equal('m');
      expect(body.messages[2]!.content).to.equal('two');
    });

    it('chat: in text parts, the first text part gets the text and the other text parts go; other parts stay', () => {
      const body = {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'a' },
              { type: 'image_url', image_url: { url: 'x' } },
              { type: 'text', text: 'b' },
            ],
          },
        ],
      };
      expect((chat.write(body, 'A\nB').messages as any[])[0].content).to.deep.equal([
        { type: 'text', text: 'A\nB' },
        { type: 'image_url', image_url: { url: 'x' } },
      ]);
    });

    it('chat: no user message to write into is an error', () => {
      expect(() => chat.write({ messages: [{ role: 'system', content: 's' }] }, 'x')).to.throw(/no user message/);
    });

    it('messages (Anthropic): the last user message, string or blocks', () => {
      const view = requestView('messages')!;
      const body = { system: 'sys', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] };
      expect(view.read(body)).to.equal('hi');
      expect((view.write(body, 'HI').messages as any[])[0].content).to.deep.equal([{ type: 'text', text: 'HI' }]);
      expect(requestView('messages.count_tokens')!.read(body)).to.equal('hi');
    });

    it('completions and embeddings: prompt and input, a single text or a batch', () => {
      const comp = requestView('completions')!;
      expect(comp.read({ prompt: 'say' })).to.equal('say');
      expect(comp.read({ prompt: ['a', 'b'] })).to.equal('a\nb');
      expect(comp.write({ prompt: 'say' }, 'SAY')).to.deep.equal({ prompt: 'SAY' });
      expect(comp.write({ prompt: ['say'] }, 'SAY')).to.deep.equal({ prompt: ['SAY'] });
      expect(() => comp.write({ prompt: ['a', 'b'] }, 'x')).to.throw(/2 entries.*transformedJson/);
      const emb = requestView('embeddings')!;
      expect(emb.read({ input: 'vec me' })).to.equal('vec me');
      expect(emb.read({ input: [1, 2, 3] })).to.equal('');
      expect(requestView('models')).to.equal(undefined);
    });
  });

  describe('answer text', () => {
    it("chat: the first choice's message content, and back", () => {
      const view = responseView('chat.completions')!;
      const json = {
        choices: [
          { index: 0, message: { role: 'assistant', content: 'Hello' } },
          { index: 1, message: { role: 'assistant', content: 'other' } },
        ],
      };
      expect(view.read(json)).to.equal('Hello');
      expect(view.read({ choices: [{ message: { content: null } }] })).to.equal('');
      const out = view.write(json, 'HELLO') as any;
      expect(out.choices[0].message).to.deep.equal({ role: 'assistant', content: 'HELLO' });
      expect(out.choices[1].message.content).to.equal('other');
      expect(json.choices[0]!.message.content).to.equal('Hello');
    });

    it("completions: the first choice's text", () => {
      const view = responseView('completions')!;
      expect(view.read({ choices: [{ text: 'abc' }] })).to.equal('abc');
      expect((view.write({ choices: [{ text: 'abc', index: 0 }] }, 'x') as any).choices[0]).to.deep.equal({ text: 'x', index: 0 });
    });

    it('messages (Anthropic): the text blocks, and back into the first one', () => {
      const view = responseView('messages')!;
      const json = {
        content: [
          { type: 'thinking', thinking: 'hmm' },
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ],
      };
      expect(view.read(json)).to.equal('one\ntwo');
      expect((view.write(json, 'ONE') as any).content).to.deep.equal([
        { type: 'thinking', thinking: 'hmm' },
        { type: 'text', text: 'ONE' },
      ]);
    });

    it('embeddings have no answer text', () => {
      expect(responseView('embeddings')).to.equal(undefined);
    });
  });

  describe('stream text', () => {
    it("OpenAI chat chunks: the first choice's content deltas; role chunks, other choices, [DONE] and errors add nothing", () => {
      const read = streamTextReader('chat.completions')!;
      const chunk = (delta: unknown, index = 0) => ({ data: JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index, delta }] }) });
      expect(read(chunk({ role: 'assistant', content: '' }))).to.equal(undefined);
      expect(read(chunk({ content: 'Hel' }))).to.equal('Hel');
      expect(read(chunk({ content: 'other' }, 1))).to.equal(undefined);
      expect(read({ data: '[DONE]' })).to.equal(undefined);
      expect(read({ data: '{"error":{"message":"x"}}' })).to.equal(undefined);
    });

    it('OpenAI completion chunks: the text', () => {
      const read = streamTextReader('completions')!;
      expect(read({ data: JSON.stringify({ choices: [{ index: 0, text: 'abc' }] }) })).to.equal('abc');
    });

    it('Anthropic: text_delta of content_block_delta events; a second text block starts on a new line', () => {
      const read = streamTextReader('messages')!;
      const delta = (index: number, d: unknown) => ({
        event: 'content_block_delta',
        data: JSON.stringify({ type: 'content_block_delta', index, delta: d }),
      });
      expect(read({ event: 'message_start', data: '{"type":"message_start"}' })).to.equal(undefined);
      expect(read(delta(0, { type: 'text_delta', text: 'one' }))).to.equal('one');
      expect(read(delta(0, { type: 'text_delta', text: ' more' }))).to.equal(' more');
      expect(read(delta(1, { type: 'input_json_delta', partial_json: '{}' }))).to.equal(undefined);
      expect(read(delta(2, { type: 'text_delta', text: 'two' }))).to.equal('\ntwo');
    });

    it('the results event: a chunk with empty choices for OpenAI, `event: hook_results` for named-event streams', () => {
      const results = { before_request_hooks: [], after_request_hooks: [] };
      expect(hookResultsEvent('chat.completions', results, false)).to.deep.equal({ data: JSON.stringify({ choices: [], hook_results: results }) });
      expect(hookResultsEvent('messages', results, true)).to.deep.equal({ event: 'hook_results', data: JSON.stringify({ hook_results: results }) });
    });

    it("recognizes a results event (a cache may replay an earlier answer's), and nothing else", () => {
      const results = { before_request_hooks: [], after_request_hooks: [] };
      expect(isHookResultsEvent(hookResultsEvent('chat.completions', results, false))).to.equal(true);
      expect(isHookResultsEvent(hookResultsEvent('messages', results, true))).to.equal(true);
      expect(isHookResultsEvent({ data: '{"choices":[{"index":0,"delta":{"content":"hook_results"}}]}' })).to.equal(false);
      expect(isHookResultsEvent({ data: '[DONE]' })).to.equal(false);
    });
  });
});
