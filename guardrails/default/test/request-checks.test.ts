import { expect } from 'chai';
import {
  addPrefix,
  allowedRequestTypes,
  estimatePromptTokens,
  estimateTextTokens,
  modelRules,
  modelWhitelist,
  promptSize,
  requiredMetadataKeys,
} from '../src/index.js';
import { rejects, run } from './helpers.js';

const chat = (model: string, content = 'hi') => ({ model, messages: [{ role: 'user', content }] });

describe('default request checks', () => {
  describe('modelWhitelist', () => {
    it('passes a listed model, fails another; not makes it a block list', async () => {
      expect((await run(modelWhitelist, { models: ['gpt-4o-mini', 'gpt-4o'] }, { json: chat('gpt-4o') })).verdict).to.equal(true);
      expect((await run(modelWhitelist, { models: ['gpt-4o-mini'] }, { json: chat('o3') })).verdict).to.equal(false);
      expect((await run(modelWhitelist, { models: ['o3'], not: true }, { json: chat('o3') })).verdict).to.equal(false);
      expect((await run(modelWhitelist, { models: ['o3'], not: true }, { json: chat('gpt-4o') })).verdict).to.equal(true);
    });
    it('fails a request without a model', async () => {
      expect((await run(modelWhitelist, { models: ['x'] }, { json: { messages: [] } })).verdict).to.equal(false);
    });
    it('rejects an empty or missing list; runs only before the call', () => {
      expect(rejects(modelWhitelist, {})).to.match(/models/);
      expect(rejects(modelWhitelist, { models: [] })).to.match(/at least one model/);
      expect(modelWhitelist.hooks).to.deep.equal(['beforeRequest']);
    });
  });

  describe('modelRules', () => {
    const rules = {
      defaults: ['gpt-4o-mini'],
      metadata: { tier: { pro: ['gpt-4o', 'o3'], free: ['gpt-4o-mini'] }, team: { research: ['o3-pro'] } },
    };
    it('allows the models of the matching metadata rules, merged', async () => {
      expect((await run(modelRules, { rules }, { json: chat('o3'), metadata: { tier: 'pro' } })).verdict).to.equal(true);
      expect((await run(modelRules, { rules }, { json: chat('o3-pro'), metadata: { tier: 'pro', team: 'research' } })).verdict).to.equal(true);
      const r = await run(modelRules, { rules }, { json: chat('o3-pro'), metadata: { tier: 'free' } });
      expect(r.verdict).to.equal(false);
      expect(r.data).to.deep.include({ matchedRules: ['tier:free'], usingDefaults: false });
    });
    it('accepts a list of metadata values', async () => {
      expect((await run(modelRules, { rules }, { json: chat('o3-pro'), metadata: { team: ['sales', 'research'] } })).verdict).to.equal(true);
    });
    it('falls back to defaults when no rule matches', async () => {
      expect((await run(modelRules, { rules }, { json: chat('gpt-4o-mini'), metadata: { tier: 'unknown' } })).verdict).to.equal(true);
      expect((await run(modelRules, { rules }, { json: chat('gpt-4o') })).verdict).to.equal(false);
    });
    it('with not, the resolved models are blocked', async () => {
      expect((await run(modelRules, { rules, not: true }, { json: chat('o3'), metadata: { tier: 'pro' } })).verdict).to.equal(false);
      expect((await run(modelRules, { rules, not: true }, { json: chat('gpt-4o') })).verdict).to.equal(true);
    });
    it('rejects rules without defaults or metadata, and malformed rules', () => {
      expect(rejects(modelRules, {})).to.match(/rules/);
      expect(rejects(modelRules, { rules: {} })).to.match(/defaults or metadata/);
      expect(rejects(modelRules, { rules: { metadata: { tier: { pro: 'gpt-4o' } } } })).to.match(/rules\.metadata\.tier\.pro/);
    });
  });

  describe('allowedRequestTypes', () => {
    it('allow list: the endpoint must be listed (Waygate ids or Portkey names)', async () => {
      expect((await run(allowedRequestTypes, { allowedTypes: ['chat.completions'] }, { endpoint: 'chat.completions' })).verdict).to.equal(true);
      expect((await run(allowedRequestTypes, { allowedTypes: ['chatComplete'] }, { endpoint: 'chat.completions' })).verdict).to.equal(true);
      expect((await run(allowedRequestTypes, { allowedTypes: ['chatComplete'] }, { endpoint: 'embeddings' })).verdict).to.equal(false);
    });
    it('block list, as a comma-separated string too; block wins over allow', async () => {
      expect((await run(allowedRequestTypes, { blockedTypes: 'embed, complete' }, { endpoint: 'embeddings' })).verdict).to.equal(false);
      expect((await run(allowedRequestTypes, { blockedTypes: 'embed' }, { endpoint: 'messages' })).verdict).to.equal(true);
      const r = await run(allowedRequestTypes, { allowedTypes: ['messages'], blockedTypes: ['embed'] }, { endpoint: 'embeddings' });
      expect(r.verdict).to.equal(false);
      expect(r.data).to.deep.include({ source: 'parameters' });
    });
    it('without parameters, reads the metadata lists; with neither, allows', async () => {
      const metadata = { supported_endpoints: ['chatComplete'], blocked_endpoints: 'messages' };
      expect((await run(allowedRequestTypes, {}, { endpoint: 'chat.completions', metadata })).verdict).to.equal(true);
      const r = await run(allowedRequestTypes, {}, { endpoint: 'messages', metadata });
      expect(r.verdict).to.equal(false);
      expect(r.data).to.deep.include({ source: 'metadata' });
      expect((await run(allowedRequestTypes, {}, { endpoint: 'embeddings' })).verdict).to.equal(true);
    });
    it('rejects a type in both lists', () => {
      expect(rejects(allowedRequestTypes, { allowedTypes: ['embed'], blockedTypes: ['embeddings'] })).to.match(
        /in both allowedTypes and blockedTypes: embeddings/,
      );
      expect(rejects(allowedRequestTypes, { allowedTypes: 3 })).to.match(/allowedTypes/);
    });
  });

  describe('requiredMetadataKeys', () => {
    const metadataKeys = ['user', 'team'];
    it('all (the default), any, none', async () => {
      expect((await run(requiredMetadataKeys, { metadataKeys }, { metadata: { user: 'u', team: 't' } })).verdict).to.equal(true);
      const r = await run(requiredMetadataKeys, { metadataKeys }, { metadata: { user: 'u' } });
      expect(r.verdict).to.equal(false);
      expect(r.data).to.deep.include({ missing_metadata_keys: ['team'], found_metadata_keys: ['user'] });
      expect((await run(requiredMetadataKeys, { metadataKeys, operator: 'any' }, { metadata: { user: 'u' } })).verdict).to.equal(true);
      expect((await run(requiredMetadataKeys, { metadataKeys, operator: 'any' }, { metadata: {} })).verdict).to.equal(false);
      expect((await run(requiredMetadataKeys, { metadataKeys, operator: 'none' }, { metadata: { other: 1 } })).verdict).to.equal(true);
      expect((await run(requiredMetadataKeys, { metadataKeys, operator: 'none' }, { metadata: { team: 1 } })).verdict).to.equal(false);
    });
    it('rejects an empty list and unknown operators', () => {
      expect(rejects(requiredMetadataKeys, { metadataKeys: [] })).to.match(/at least one/);
      expect(rejects(requiredMetadataKeys, { metadataKeys: ['a'], operator: 'some' })).to.match(/operator/);
    });
  });

  describe('addPrefix', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi' },
      { role: 'user', content: [{ type: 'text', text: 'Again' }] },
    ];
    const body = { model: 'm', messages };

    it('prefixes the first message of the role, never touching the request it was given', async () => {
      const before = JSON.stringify(body);
      const r = await run(addPrefix, { prefix: '[ctx] ' }, { json: body });
      expect(r.verdict).to.equal(true);
      const out = r.transformedJson as typeof body;
      expect(out.messages[1]).to.deep.equal({ role: 'user', content: '[ctx] Hello' });
      expect(out.messages[3]).to.deep.equal(messages[3]);
      expect(JSON.stringify(body)).to.equal(before);
      expect(addPrefix.mutates).to.equal(true);
    });
    it('prefixes the first text part of array content', async () => {
      const r = await run(addPrefix, { prefix: 'P: ' }, { json: { model: 'm', messages: [messages[3]] } });
      expect((r.transformedJson as any).messages[0].content).to.deep.equal([{ type: 'text', text: 'P: Again' }]);
    });
    it('addToExisting false inserts a message before the first of the role', async () => {
      const r = await run(addPrefix, { prefix: 'Rules first.', applyToRole: 'system', addToExisting: false }, { json: body });
      expect((r.transformedJson as any).messages.slice(0, 2)).to.deep.equal([
        { role: 'system', content: 'Rules first.' },
        { role: 'system', content: 'Be brief.' },
      ]);
    });
    it('onlyIfEmpty: adds a message only when none has the role', async () => {
      const same = await run(addPrefix, { prefix: 'X', applyToRole: 'system', onlyIfEmpty: true }, { json: body });
      expect(same.transformedJson).to.equal(undefined);
      const added = await run(
        addPrefix,
        { prefix: 'You are kind.', applyToRole: 'system', onlyIfEmpty: true },
        { json: { model: 'm', messages: [messages[1]] } },
      );
      expect((added.transformedJson as any).messages).to.deep.equal([{ role: 'system', content: 'You are kind.' }, messages[1]]);
    });
    it("onlyIfEmpty (Portkey's code, not its manifest): also prefixes a message of the role whose content is empty", async () => {
      const empty = await run(addPrefix, { prefix: 'P: ', onlyIfEmpty: true }, { json: { model: 'm', messages: [{ role: 'user', content: '' }] } });
      expect((empty.transformedJson as any).messages).to.deep.equal([{ role: 'user', content: 'P: ' }]);
      const blank = [
        { role: 'system', content: '  ' },
        { role: 'user', content: 'x' },
      ];
      const sys = await run(addPrefix, { prefix: 'P: ', applyToRole: 'system', onlyIfEmpty: true }, { json: { model: 'm', messages: blank } });
      expect((sys.transformedJson as any).messages).to.deep.equal([{ role: 'system', content: 'P:   ' }, blank[1]]);
      const noParts = [
        { role: 'user', content: [] },
        { role: 'assistant', content: 'a' },
      ];
      const parts = await run(addPrefix, { prefix: 'P: ', onlyIfEmpty: true }, { json: { model: 'm', messages: noParts } });
      expect((parts.transformedJson as any).messages[0]).to.deep.equal({ role: 'user', content: [{ type: 'text', text: 'P: ' }] });
      const before = await run(
        addPrefix,
        { prefix: 'P: ', onlyIfEmpty: true, addToExisting: false },
        { json: { model: 'm', messages: [{ role: 'user', content: '' }] } },
      );
      expect((before.transformedJson as any).messages).to.deep.equal([
        { role: 'user', content: 'P: ' },
        { role: 'user', content: '' },
      ]);
      // Content that is not empty is left alone.
      const full = await run(addPrefix, { prefix: 'P: ', onlyIfEmpty: true }, { json: { model: 'm', messages: [{ role: 'user', content: 'x' }] } });
      expect(full.transformedJson).to.equal(undefined);
      const anth = await run(
        addPrefix,
        { prefix: 'P: ', onlyIfEmpty: true },
        { json: { model: 'c', messages: [{ role: 'user', content: '' }] }, endpoint: 'messages' },
      );
      expect((anth.transformedJson as any).messages).to.deep.equal([{ role: 'user', content: 'P: ' }]);
      const anthSystem = await run(
        addPrefix,
        { prefix: 'P: ', applyToRole: 'system', onlyIfEmpty: true },
        { json: { model: 'c', system: '', messages: [] }, endpoint: 'messages' },
      );
      expect((anthSystem.transformedJson as any).system).to.equal('P: ');
      const blankSystem = await run(
        addPrefix,
        { prefix: 'P: ', applyToRole: 'system', onlyIfEmpty: true },
        { json: { model: 'c', system: ' ', messages: [] }, endpoint: 'messages' },
      );
      expect((blankSystem.transformedJson as any).system).to.equal('P:  ');
      const keptSystem = await run(
        addPrefix,
        { prefix: 'P: ', applyToRole: 'system', onlyIfEmpty: true },
        { json: { model: 'c', system: 'Be brief.', messages: [] }, endpoint: 'messages' },
      );
      expect(keptSystem.transformedJson).to.equal(undefined);
    });
    it('content whose first block is not text (an image, then text): a new text block with the prefix at index 0', async () => {
      const image = { type: 'image', source: { type: 'url', url: 'https://example.com/image.jpg' } };
      const content = [image, { type: 'text', text: 'What is in this image?' }];
      const r = await run(
        addPrefix,
        { prefix: 'Analyze carefully: ' },
        { json: { model: 'c', messages: [{ role: 'user', content }] }, endpoint: 'messages' },
      );
      const out = (r.transformedJson as any).messages[0].content;
      expect(out).to.deep.equal([{ type: 'text', text: 'Analyze carefully: ' }, image, content[1]]);
      expect(content[1], 'the request it was given is untouched').to.deep.equal({ type: 'text', text: 'What is in this image?' });
      // The same for a message that is not the last, and for OpenAI-format parts.
      const earlier = [
        { role: 'user', content },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'more' },
      ];
      const r2 = await run(addPrefix, { prefix: 'P: ' }, { json: { model: 'c', messages: earlier }, endpoint: 'messages' });
      expect((r2.transformedJson as any).messages[0].content).to.deep.equal([{ type: 'text', text: 'P: ' }, image, content[1]]);
      const imageUrl = { type: 'image_url', image_url: { url: 'https://e.com/a.png' } };
      const r3 = await run(
        addPrefix,
        { prefix: 'P: ' },
        { json: { model: 'm', messages: [{ role: 'user', content: [imageUrl, { type: 'text', text: 'What?' }] }] } },
      );
      expect((r3.transformedJson as any).messages[0].content).to.deep.equal([{ type: 'text', text: 'P: ' }, imageUrl, { type: 'text', text: 'What?' }]);
    });
    it('Anthropic messages: a new message holds the prefix as a text block, as Portkey writes it', async () => {
      const added = await run(addPrefix, { prefix: 'User instruction: ' }, { json: { model: 'c', system: 'S', messages: [] }, endpoint: 'messages' });
      expect((added.transformedJson as any).messages).to.deep.equal([{ role: 'user', content: [{ type: 'text', text: 'User instruction: ' }] }]);
      const original = { role: 'user', content: [{ type: 'text', text: 'Original message' }] };
      const inserted = await run(
        addPrefix,
        { prefix: 'Prefix message', addToExisting: false },
        { json: { model: 'c', messages: [original] }, endpoint: 'messages' },
      );
      expect((inserted.transformedJson as any).messages).to.deep.equal([{ role: 'user', content: [{ type: 'text', text: 'Prefix message' }] }, original]);
    });
    it('Anthropic messages: system goes to the system field (string or blocks)', async () => {
      const anth = { model: 'claude', system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] };
      const r = await run(addPrefix, { prefix: 'Policy. ', applyToRole: 'system' }, { json: anth, endpoint: 'messages' });
      expect((r.transformedJson as any).system).to.equal('Policy. Be brief.');
      expect((r.transformedJson as any).messages).to.deep.equal(anth.messages);
      const none = await run(
        addPrefix,
        { prefix: 'Policy.', applyToRole: 'system' },
        { json: { model: 'c', messages: anth.messages }, endpoint: 'messages' },
      );
      expect((none.transformedJson as any).system).to.equal('Policy.');
      const blocks = { ...anth, system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }] };
      const b = await run(addPrefix, { prefix: 'Policy.', applyToRole: 'system', addToExisting: false }, { json: blocks, endpoint: 'messages' });
      expect((b.transformedJson as any).system).to.deep.equal([{ type: 'text', text: 'Policy.' }, blocks.system[0]]);
      const user = await run(addPrefix, { prefix: '> ' }, { json: anth, endpoint: 'messages' });
      expect((user.transformedJson as any).messages[0].content).to.equal('> Hi');
    });
    it('completions: the prompt (each prompt of a list)', async () => {
      const r = await run(addPrefix, { prefix: 'Q: ' }, { json: { model: 'm', prompt: 'why?' }, endpoint: 'completions' });
      expect((r.transformedJson as any).prompt).to.equal('Q: why?');
      const list = await run(addPrefix, { prefix: 'Q: ' }, { json: { model: 'm', prompt: ['a', 'b'] }, endpoint: 'completions' });
      expect((list.transformedJson as any).prompt).to.deep.equal(['Q: a', 'Q: b']);
    });
    it('leaves other requests alone (embeddings, token prompts)', async () => {
      const r = await run(addPrefix, { prefix: 'x' }, { json: { model: 'e', input: 'text' }, endpoint: 'embeddings' });
      expect(r.verdict).to.equal(true);
      expect(r.transformedJson).to.equal(undefined);
      const tokens = await run(addPrefix, { prefix: 'x' }, { json: { model: 'm', prompt: [1, 2, 3] }, endpoint: 'completions' });
      expect(tokens.transformedJson).to.equal(undefined);
    });
    it('rejects an empty prefix and unknown roles', () => {
      expect(rejects(addPrefix, { prefix: '' })).to.match(/empty/);
      expect(rejects(addPrefix, { prefix: 'a', applyToRole: 'tool' })).to.match(/applyToRole/);
      expect(addPrefix.hooks).to.deep.equal(['beforeRequest']);
    });
  });

  describe('promptSize', () => {
    it('estimates ASCII at 4 characters a token and CJK at one token a character', () => {
      expect(estimateTextTokens('a'.repeat(400))).to.equal(100);
      expect(estimateTextTokens('東京都')).to.equal(3);
      expect(estimateTextTokens('привет')).to.equal(3);
    });
    it('counts every message, the system prompt, tool definitions and per-message overhead', () => {
      const body = {
        model: 'm',
        messages: [
          { role: 'system', content: 'x'.repeat(40) },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'y'.repeat(40) },
              { type: 'image_url', image_url: { url: 'https://e/x.png' } },
            ],
          },
          { role: 'assistant', content: null, tool_calls: [{ id: '1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        ],
      };
      const base = estimatePromptTokens(body);
      // 10 + 10 text, 85 image, 3 × 4 overhead, 3 priming, tool call name and arguments
      expect(base).to.equal(Math.ceil(10 + 10 + 85 + 12 + 3 + (1 + 7) / 4));
      const tools = [{ type: 'function', function: { name: 'lookup', description: 'd'.repeat(400), parameters: { type: 'object' } } }];
      expect(estimatePromptTokens({ ...body, tools })).to.be.greaterThan(base + 100);
    });
    it('counts Anthropic system and blocks, and completions / embeddings inputs (token arrays exactly)', () => {
      expect(estimatePromptTokens({ system: [{ type: 'text', text: 'z'.repeat(80) }], messages: [{ role: 'user', content: 'hi' }] })).to.equal(
        Math.ceil(20 + 0.5 + 4 + 3),
      );
      expect(estimatePromptTokens({ prompt: 'p'.repeat(41) })).to.equal(11);
      expect(
        estimatePromptTokens({
          input: [
            [1, 2, 3],
            [4, 5],
          ],
        }),
      ).to.equal(5);
      expect(estimatePromptTokens({ input: ['abcd', 'efgh'] })).to.equal(2);
    });
    it('passes a small prompt and fails an oversize one, looking at all messages, not only the last', async () => {
      const small = { model: 'm', messages: [{ role: 'user', content: 'hello there' }] };
      expect((await run(promptSize, { maxTokens: 100 }, { json: small })).verdict).to.equal(true);
      const long = {
        model: 'm',
        messages: [
          { role: 'user', content: 'w '.repeat(1000) },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'short' },
        ],
      };
      const r = await run(promptSize, { maxTokens: 100 }, { json: long });
      expect(r.verdict).to.equal(false);
      expect((r.data as { estimatedTokens: number }).estimatedTokens).to.be.greaterThan(500);
    });
    it('minTokens sets a floor', async () => {
      expect((await run(promptSize, { maxTokens: 100, minTokens: 50 }, { json: chat('m', 'hi') })).verdict).to.equal(false);
    });
    it('rejects a missing or non-positive maxTokens and min above max', () => {
      expect(rejects(promptSize, {})).to.match(/maxTokens/);
      expect(rejects(promptSize, { maxTokens: 0 })).to.match(/maxTokens/);
      expect(rejects(promptSize, { maxTokens: 10, minTokens: 20 })).to.match(/minTokens is greater/);
      expect(promptSize.hooks).to.deep.equal(['beforeRequest']);
    });
  });
});
