import { expect } from 'chai';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import plugin, { detect, redactCheck } from '../src/index.js';
import { rejects, run } from './helpers.js';

const chatBody = () => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'Support agent. Escalate to lead@corp.example.' },
    { role: 'user', content: 'My card is 4111 1111 1111 1111.' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"email":"jane@example.com","note":"ok"}' } }],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'Found jane, phone 415-555-2671' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Mail me at jane@example.com' },
        { type: 'image_url', image_url: { url: 'https://x.example/a.png' } },
      ],
    },
  ],
});

describe('pii checks', () => {
  describe('pii.detect', () => {
    it('fails when any message of the request holds personal data, giving kinds and counts only', async () => {
      const body = chatBody();
      const r = await run(detect, {}, { json: body, text: 'Mail me at jane@example.com' });
      expect(r.verdict).to.equal(false);
      expect(r.data).to.deep.include({ total: 5, kinds: { EMAIL: 3, CREDIT_CARD: 1, PHONE: 1 }, categories: { email: 3, credit_card: 1, phone: 1 } });
      const data = JSON.stringify(r.data);
      for (const value of ['jane@example.com', '4111', '415-555']) expect(data).to.not.include(value);
      expect(r.transformedJson).to.equal(undefined);
    });

    it('passes a clean request, and scans the text when there is no body', async () => {
      expect(
        (await run(detect, {}, { json: { model: 'm', messages: [{ role: 'user', content: 'What is 2+2?' }] }, text: 'What is 2+2?' })).verdict,
      ).to.equal(true);
      expect((await run(detect, {}, { text: 'reach me on +44 20 7946 0958' })).verdict).to.equal(false);
    });

    it('after the call, looks at every choice of the answer', async () => {
      const answer = {
        choices: [
          { index: 0, message: { role: 'assistant', content: 'Nothing here.' } },
          { index: 1, message: { role: 'assistant', content: 'SSN 536-22-1234' } },
        ],
      };
      const r = await run(detect, {}, { response: { text: 'Nothing here.', json: answer } });
      expect(r.verdict).to.equal(false);
      expect(r.data).to.deep.include({ kinds: { US_SSN: 1 } });
    });

    it('only the selected categories', async () => {
      expect((await run(detect, { categories: ['secret'] }, { text: 'mail bob@example.com' })).verdict).to.equal(true);
      expect((await run(detect, { categories: ['email'] }, { text: 'mail bob@example.com' })).verdict).to.equal(false);
    });

    it('partial: fails a stream once a finding is settled (its end is no longer at the end of the text)', async () => {
      const p = detect.params.parse({});
      expect(detect.partial!('You can write to bob@example.co', p)).to.equal(undefined);
      expect(detect.partial!('You can write to bob@example.com and', p)).to.equal(false);
      expect(detect.partial!('Card 4111 1111 1111 11', p)).to.equal(undefined);
      expect(detect.partial!('Nothing personal here, just text.', p)).to.equal(undefined);
    });

    it('rejects unknown categories, an empty list and unknown keys', () => {
      expect(rejects(detect, { categories: ['emails'] })).to.match(/categories/);
      expect(rejects(detect, { categories: [] })).to.match(/at least one category/);
      expect(rejects(detect, { mode: 'redact' })).to.match(/mode/);
    });
  });

  describe('pii.redact', () => {
    it('masks every message of a chat request (not only the last) and keeps tool-call arguments valid JSON', async () => {
      const body = chatBody();
      const before = JSON.stringify(body);
      const r = await run(redactCheck, {}, { json: body, text: 'Mail me at jane@example.com' });
      expect(r.verdict).to.equal(true);
      const out = r.transformedJson as ReturnType<typeof chatBody>;
      expect(out.messages[0]!.content).to.equal('Support agent. Escalate to [REDACTED_EMAIL].');
      expect(out.messages[1]!.content).to.equal('My card is [REDACTED_CREDIT_CARD].');
      const args = JSON.parse(out.messages[2]!.tool_calls![0]!.function.arguments);
      expect(args).to.deep.equal({ email: '[REDACTED_EMAIL]', note: 'ok' });
      expect(out.messages[3]!.content).to.equal('Found jane, phone [REDACTED_PHONE]');
      expect(out.messages[4]!.content).to.deep.equal([
        { type: 'text', text: 'Mail me at [REDACTED_EMAIL]' },
        { type: 'image_url', image_url: { url: 'https://x.example/a.png' } },
      ]);
      expect(out.model).to.equal('gpt-4o-mini');
      expect(r.transformedText).to.equal('Mail me at [REDACTED_EMAIL]');
      expect(JSON.stringify(body)).to.equal(before); // the request it was given is untouched
      expect(redactCheck.mutates).to.equal(true);
    });

    it('masks tool-call arguments nested deeper than it walks as text, instead of overflowing the stack', async () => {
      const n = 20_000;
      const args = `{"to":"jane@example.com","x":${'['.repeat(n)}${']'.repeat(n)}}`;
      const body = {
        model: 'm',
        messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: args } }] }],
      };
      const r = await run(redactCheck, {}, { json: body, text: '' });
      expect(r.verdict).to.equal(true);
      const out = r.transformedJson as typeof body;
      expect(out.messages[0]!.tool_calls[0]!.function.arguments).to.equal(args.replace('jane@example.com', '[REDACTED_EMAIL]'));
    });

    it('masks Anthropic system prompts and blocks, tool inputs and tool results', async () => {
      const body = {
        model: 'claude',
        system: [{ type: 'text', text: 'Owner: ops@corp.example' }],
        messages: [
          { role: 'user', content: 'IBAN DE89 3704 0044 0532 0130 00' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'pay', input: { iban: 'DE89370400440532013000', amount: 5 } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'sent from 203.0.113.42' }] }] },
        ],
      };
      const r = await run(redactCheck, {}, { json: body, endpoint: 'messages' });
      const out = r.transformedJson as any;
      expect(out.system[0].text).to.equal('Owner: [REDACTED_EMAIL]');
      expect(out.messages[0].content).to.equal('IBAN [REDACTED_IBAN]');
      expect(out.messages[1].content[0].input).to.deep.equal({ iban: '[REDACTED_IBAN]', amount: 5 });
      expect(out.messages[2].content[0].content[0].text).to.equal('sent from [REDACTED_IPV4]');
    });

    it('masks completions prompts and embeddings inputs, leaving token arrays alone', async () => {
      const c = await run(redactCheck, {}, { json: { model: 'm', prompt: ['to bob@example.com', 'hi'] }, endpoint: 'completions' });
      expect((c.transformedJson as any).prompt).to.deep.equal(['to [REDACTED_EMAIL]', 'hi']);
      const e = await run(redactCheck, {}, { json: { model: 'e', input: 'SSN 536-22-1234' }, endpoint: 'embeddings' });
      expect((e.transformedJson as any).input).to.equal('SSN [REDACTED_US_SSN]');
      const t = await run(redactCheck, {}, { json: { model: 'e', input: [[1, 2, 3]] }, endpoint: 'embeddings' });
      expect(t.transformedJson).to.equal(undefined);
    });

    it('after the call, masks every choice of the answer and the text', async () => {
      const answer = {
        id: 'x',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'Call 415-555-2671' }, finish_reason: 'stop' },
          { index: 1, message: { role: 'assistant', content: 'Mail bob@example.com' }, finish_reason: 'stop' },
        ],
      };
      const r = await run(redactCheck, {}, { response: { text: 'Call 415-555-2671', json: answer } });
      const out = r.transformedJson as typeof answer;
      expect(out.choices.map((c) => c.message.content)).to.deep.equal(['Call [REDACTED_PHONE]', 'Mail [REDACTED_EMAIL]']);
      expect(out.id).to.equal('x');
      expect(r.transformedText).to.equal('Call [REDACTED_PHONE]');
      const anth = await run(
        redactCheck,
        {},
        { response: { text: 'key ' + 'AK' + 'IAIOSFODNN7EXAMPLE', json: { content: [{ type: 'text', text: 'key ' + 'AK' + 'IAIOSFODNN7EXAMPLE' }] } } },
      );
      expect((anth.transformedJson as any).content[0].text).to.equal('key [REDACTED_AWS_ACCESS_KEY]');
      const legacy = await run(redactCheck, {}, { response: { text: 'x', json: { choices: [{ index: 0, text: 'ip 203.0.113.9' }] } } });
      expect((legacy.transformedJson as any).choices[0].text).to.equal('ip [REDACTED_IPV4]');
    });

    it('uses a configured mask, with {kind} replaced', async () => {
      expect((await run(redactCheck, { mask: '***' }, { text: 'bob@example.com' })).transformedText).to.equal('***');
      expect((await run(redactCheck, { mask: '<{kind}>' }, { text: 'bob@example.com, 415-555-2671' })).transformedText).to.equal('<EMAIL>, <PHONE>');
    });

    it('fails with failOnDetection (still masking), passes and changes nothing when clean', async () => {
      const r = await run(redactCheck, { failOnDetection: true }, { text: 'bob@example.com' });
      expect(r).to.deep.include({ verdict: false, transformedText: '[REDACTED_EMAIL]' });
      const clean = await run(
        redactCheck,
        { failOnDetection: true },
        { json: { model: 'm', messages: [{ role: 'user', content: 'hello' }] }, text: 'hello' },
      );
      expect(clean.verdict).to.equal(true);
      expect(clean.transformedJson).to.equal(undefined);
      expect(clean.transformedText).to.equal(undefined);
    });

    it('masks only the selected categories', async () => {
      const r = await run(redactCheck, { categories: ['email'] }, { text: 'bob@example.com 415-555-2671' });
      expect(r.transformedText).to.equal('[REDACTED_EMAIL] 415-555-2671');
    });

    it('partial: only with failOnDetection', () => {
      expect(redactCheck.partial!('mail bob@example.com now', redactCheck.params.parse({}))).to.equal(undefined);
      expect(redactCheck.partial!('mail bob@example.com now', redactCheck.params.parse({ failOnDetection: true }))).to.equal(false);
    });

    it('rejects bad parameters', () => {
      expect(rejects(redactCheck, { mask: 5 })).to.match(/mask/);
      expect(rejects(redactCheck, { mask: 'x'.repeat(201) })).to.match(/mask/);
      expect(rejects(redactCheck, { failOnDetection: 'no' })).to.match(/failOnDetection/);
      expect(rejects(redactCheck, { categories: ['pii'] })).to.match(/categories/);
    });
  });

  it('the plugin registers pii.detect and pii.redact', async () => {
    const kernel = newKernel();
    await use(kernel, plugin);
    expect(kernel.registry(CHECKS).names().sort()).to.deep.equal(['pii.detect', 'pii.redact']);
    expect(plugin.manifest).to.include({ name: '@waygate/guardrail-pii', kind: 'guardrail', core: '^1.0.0' });
  });
});
