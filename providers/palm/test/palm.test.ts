// The PaLM adapter's mapping (pure functions) and the package in a running gateway in front of a
// loopback fake that answers in the PaLM API's documented format: chat, completions and embeddings,
// JSON and as streams, filtered answers, malformed and cut answers, and what reaches the upstream.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLogger, parseSSE, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import { embeddingTexts, fromPalmEmbed, fromPalmMessage, fromPalmText, modelPath, toPalmMessage, toPalmText } from '../src/index.js';
import { jsonFixture } from './fixtures.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const KEY = 'AIza-palm-test-key-0123456789';

describe('@waygate/provider-palm: request mapping', () => {
  it('chat: system messages become the context, turns alternate (one author twice in a row is joined), sampling options renamed', () => {
    const body = toPalmMessage({
      model: 'chat-bison-001',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hello' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Are you ' },
            { type: 'text', text: 'there?' },
          ],
        },
        { role: 'assistant', content: 'Oui.' },
        { role: 'user', content: 'Capital of France?' },
      ],
      examples: [{ input: { content: 'hi' }, output: { content: 'salut' } }],
      temperature: 0.5,
      top_p: 0.8,
      top_k: 20,
      n: 3,
      max_tokens: 10,
    });
    expect(body).to.deep.equal({
      prompt: {
        context: 'Be brief.\n\nAnswer in French.',
        examples: [{ input: { content: 'hi' }, output: { content: 'salut' } }],
        messages: [
          { author: 'user', content: 'Hello\n\nAre you there?' },
          { author: 'assistant', content: 'Oui.' },
          { author: 'user', content: 'Capital of France?' },
        ],
      },
      temperature: 0.5,
      topP: 0.8,
      topK: 20,
      candidateCount: 3,
    });
  });

  it('chat: refuses what PaLM cannot take with a 400 naming the field', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools'],
      [{ response_format: { type: 'json_object' } }, 'response_format'],
      [{ n: 9 }, 'n'],
      [{ n: 0 }, 'n'],
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'system', content: 'only context' }] }, 'messages'],
      [{ messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }] }, 'messages[0]'],
      [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }, 'messages[0].content[0]'],
    ];
    for (const [extra, param] of cases) {
      const err = thrown(() => toPalmMessage({ model: 'chat-bison-001', messages: [{ role: 'user', content: 'hi' }], ...extra }));
      expect([err.status, err.param], JSON.stringify(extra)).to.deep.equal([400, param]);
    }
  });

  it('completions: one prompt, max_tokens and stop (up to 5) renamed, safety settings passed', () => {
    const safety = [{ category: 'HARM_CATEGORY_MEDICAL', threshold: 'BLOCK_NONE' }];
    expect(toPalmText({ prompt: ['Once'], max_tokens: 30, stop: 'END', temperature: 0, safety_settings: safety })).to.deep.equal({
      prompt: { text: 'Once' },
      temperature: 0,
      maxOutputTokens: 30,
      stopSequences: ['END'],
      safetySettings: safety,
    });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ prompt: ['a', 'b'] }, 'prompt'],
      [{ prompt: [1, 2] }, 'prompt'],
      [{ stop: ['1', '2', '3', '4', '5', '6'] }, 'stop'],
      [{ logprobs: 2 }, 'logprobs'],
      [{ echo: true }, 'echo'],
    ];
    for (const [extra, param] of cases) {
      expect(thrown(() => toPalmText({ prompt: 'x', ...extra })).param, JSON.stringify(extra)).to.equal(param);
    }
  });

  it('model names: with or without models/, and nothing that could change the path', () => {
    expect(modelPath('text-bison-001')).to.equal('models/text-bison-001');
    expect(modelPath('models/text-bison-001')).to.equal('models/text-bison-001');
    for (const bad of ['../tunedModels/x', 'a/b', 'x:generateText', 'a?key=1', '', 7])
      expect(thrown(() => modelPath(bad)).param, String(bad)).to.equal('model');
  });

  it('embeddings: strings only, float or base64', () => {
    expect(embeddingTexts({ input: 'a' })).to.deep.equal(['a']);
    expect(thrown(() => embeddingTexts({ input: [[1, 2]] })).param).to.equal('input');
    expect(thrown(() => embeddingTexts({ input: [] })).param).to.equal('input');
    expect(thrown(() => embeddingTexts({ input: 'a', encoding_format: 'int8' })).param).to.equal('encoding_format');
  });
});

describe('@waygate/provider-palm: response mapping', () => {
  it('every candidate becomes a choice; a filtered answer is content_filter with the filters kept', () => {
    const two = fromPalmMessage(jsonFixture('message-two-candidates'), 'chat-bison-001', 'r1');
    expect(two.choices.map((c: any) => [c.index, c.message.content, c.finish_reason])).to.deep.equal([
      [0, 'Paris.', 'stop'],
      [1, 'The capital of France is Paris.', 'stop'],
    ]);
    expect(two).to.include({ id: 'chatcmpl-palm-r1', object: 'chat.completion', model: 'chat-bison-001' });
    const blocked = fromPalmMessage(jsonFixture('message-filtered'), 'chat-bison-001', 'r1');
    expect(blocked.choices).to.deep.equal([{ index: 0, message: { role: 'assistant', content: null }, logprobs: null, finish_reason: 'content_filter' }]);
    expect(blocked.palm_filters).to.deep.equal([{ reason: 'OTHER' }]);
    const text = fromPalmText(jsonFixture('text-answer'), 'text-bison-001', 'r2');
    expect(text).to.include({ object: 'text_completion', id: 'cmpl-palm-r2' });
    expect(text.choices[0]).to.deep.equal({
      index: 0,
      text: 'Once upon a time, there was a young girl named Lily who loved to explore.',
      logprobs: null,
      finish_reason: 'stop',
    });
    expect(fromPalmText(jsonFixture('text-filtered'), 'text-bison-001', 'r2').choices[0]).to.include({ text: '', finish_reason: 'content_filter' });
  });

  it('answers PaLM does not document are retryable 502s', () => {
    const bad = [
      () => fromPalmMessage({}, 'm', 'r'),
      () => fromPalmMessage({ candidates: [{ author: '1' }] }, 'm', 'r'),
      () => fromPalmText({ candidates: [] }, 'm', 'r'),
      () => fromPalmEmbed({ embedding: { value: ['x'] } }, 'm', 1),
      () => fromPalmEmbed(jsonFixture('embed-answer'), 'm', 2),
    ];
    for (const fn of bad) expect([thrown(fn).status, (thrown(fn) as any).retryable]).to.deep.equal([502, true]);
  });

  it('embeddings as floats, or base64 float32 little-endian when asked', () => {
    const floats = fromPalmEmbed(jsonFixture('embed-answer'), 'embedding-gecko-001', 1);
    expect(floats.data[0].embedding).to.deep.equal([0.013168523, -0.008711934, -0.046782676, 0.00069968984]);
    const b64 = fromPalmEmbed(jsonFixture('embed-answer'), 'embedding-gecko-001', 1, 'base64');
    const buf = Buffer.from(b64.data[0].embedding, 'base64');
    expect(buf.length).to.equal(16);
    expect(buf.readFloatLE(4)).to.be.closeTo(-0.008711934, 1e-7);
  });
});

interface Script {
  status?: number;
  headers?: Record<string, string>;
  body: string | object;
  /** Send these many bytes of the body and destroy the connection. */
  cutAfter?: number;
}

describe('@waygate/provider-palm in a running gateway', function () {
  this.timeout(20_000);
  let server: http.Server;
  let base = '';
  let gw: Gateway;
  let script: Script = { body: {} };
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const logged: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ url: req.url!, headers: req.headers, body });
        const text = typeof script.body === 'string' ? script.body : JSON.stringify(script.body);
        res.writeHead(script.status ?? 200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...script.headers });
        if (script.cutAfter === undefined) return void res.end(text);
        res.write(text.slice(0, script.cutAfter), () => res.destroy());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1beta2`;
    gw = await startGateway({
      // The key is the gateway's own (a caller that sent it would get its own key back unscrubbed).
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', THIS_PACKAGE], providers: { palm: { api_key: KEY, base_url: base } } },
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'trace', destination: { write: (line: string) => void logged.push(line) } }),
    });
  });
  after(async () => {
    await gw?.close(0);
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => (seen.length = 0));

  const post = (route: string, body: Record<string, unknown>) =>
    fetch(`${gw.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify({ provider: 'palm' }) },
      body: JSON.stringify(body),
    });
  const events = async (res: Response): Promise<any[]> => {
    const text = await res.text();
    const out: any[] = [];
    for await (const ev of parseSSE(
      (async function* () {
        yield text;
      })(),
    ))
      out.push(ev.data === '[DONE]' ? '[DONE]' : JSON.parse(ev.data));
    return out;
  };

  it('completions: generateText on the configured base URL (v1beta2), the key in x-goog-api-key only', async () => {
    script = { body: jsonFixture('text-answer') };
    const res = await post('/v1/completions', { model: 'text-bison-001', prompt: 'Write a story about a magic backpack.', max_tokens: 40 });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.choices[0].text).to.match(/^Once upon a time/);
    expect(seen[0]!.url).to.equal('/v1beta2/models/text-bison-001:generateText');
    expect(seen[0]!.headers['x-goog-api-key']).to.equal(KEY);
    expect(seen[0]!.headers.authorization).to.equal(undefined);
    expect(JSON.parse(seen[0]!.body)).to.deep.equal({ prompt: { text: 'Write a story about a magic backpack.' }, maxOutputTokens: 40 });
  });

  it('completions streamed: the one answer as text_completion chunks, then [DONE]', async () => {
    script = { body: jsonFixture('text-answer') };
    const res = await post('/v1/completions', { model: 'text-bison-001', prompt: 'Once', stream: true });
    expect(res.status).to.equal(200);
    const got = await events(res);
    expect(got.at(-1)).to.equal('[DONE]');
    expect(got[0]).to.include({ object: 'text_completion', model: 'text-bison-001' });
    expect(got[0].choices[0]).to.include({ index: 0, finish_reason: 'stop' });
    expect(got[0].choices[0].text).to.match(/^Once upon a time/);
  });

  it('chat streamed with n=2: each candidate at its index; a filtered answer streams content_filter', async () => {
    script = { body: jsonFixture('message-two-candidates') };
    const got = await events(
      await post('/v1/chat/completions', { model: 'chat-bison-001', messages: [{ role: 'user', content: 'Capital?' }], n: 2, stream: true }),
    );
    const text = ['', ''];
    for (const c of got.slice(0, -1)) for (const ch of c.choices) text[ch.index] += ch.delta.content ?? '';
    expect(text).to.deep.equal(['Paris.', 'The capital of France is Paris.']);
    expect(JSON.parse(seen[0]!.body).candidateCount).to.equal(2);

    script = { body: jsonFixture('message-filtered') };
    const blocked = await events(
      await post('/v1/chat/completions', { model: 'chat-bison-001', messages: [{ role: 'user', content: 'x' }], stream: true }),
    );
    expect(blocked.flatMap((c) => (c === '[DONE]' ? [] : c.choices.map((ch: any) => ch.finish_reason))).filter(Boolean)).to.deep.equal(['content_filter']);
  });

  it('embeddings: one input is embedText {text}; base64 as the openai SDK asks', async () => {
    script = { body: jsonFixture('embed-answer') };
    const res = await post('/v1/embeddings', { model: 'models/embedding-gecko-001', input: 'hello', encoding_format: 'base64' });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(Buffer.from(json.data[0].embedding, 'base64').readFloatLE(0)).to.be.closeTo(0.013168523, 1e-7);
    expect(seen[0]!.url).to.equal('/v1beta2/models/embedding-gecko-001:embedText');
    expect(JSON.parse(seen[0]!.body)).to.deep.equal({ text: 'hello' });
  });

  it('a body that is not JSON, or cut short, is a 502, streamed or not', async () => {
    for (const s of [{ body: '<html>oops</html>' }, { body: jsonFixture('message-answer'), cutAfter: 20 }] as Script[]) {
      script = s;
      for (const stream of [false, true]) {
        const res = await post('/v1/chat/completions', { model: 'chat-bison-001', messages: [{ role: 'user', content: 'hi' }], stream });
        expect(res.status, `${JSON.stringify(s)} stream ${stream}`).to.equal(502);
        expect(((await res.json()) as any).error.message).to.match(/palm/);
      }
    }
  });

  it('an error answer keeps Google’s message; the key reaches no answer and no log line', async () => {
    script = { status: 400, body: { error: { code: 400, message: `API key not valid: ${KEY}`, status: 'INVALID_ARGUMENT' } } };
    const res = await post('/v1/chat/completions', { model: 'chat-bison-001', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).to.equal(400);
    const text = await res.text();
    expect(text).to.include('API key not valid');
    expect(text).not.to.include(KEY);
    expect(logged.join('\n')).not.to.include(KEY);
  });

  it('a quota error is a 429 with its retry-after passed on', async () => {
    script = { status: 429, headers: { 'retry-after': '7' }, body: jsonFixture('error-quota') };
    const res = await post('/v1/embeddings', { model: 'embedding-gecko-001', input: ['a', 'b'] });
    expect(res.status).to.equal(429);
    expect(res.headers.get('retry-after')).to.equal('7');
    expect(((await res.json()) as any).error.message).to.equal('palm: Resource has been exhausted (e.g. check quota).');
    expect(seen[0]!.url).to.equal('/v1beta2/models/embedding-gecko-001:batchEmbedText');
  });
});
