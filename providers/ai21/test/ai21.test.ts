// The AI21 adapter's mapping (pure functions) and the package in a running gateway in front of a
// loopback fake that answers in AI21 Studio's documented format: Jamba chat (what it refuses, n),
// Jurassic-2 completions, embeddings, streams cut short or malformed, and error bodies.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLogger, parseSSE, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import { JambaStreamTransformer, fromAI21Embed, fromJ2Complete, fromJambaChat, toAI21Embed, toJ2Complete, toJambaChat } from '../src/index.js';
import { jsonFixture, sseFixture } from './fixtures.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const KEY = 'ai21-test-key-0123456789abcdef';
const USER = [{ role: 'user', content: 'hi' }];

describe('@waygate/provider-ai21: request mapping', () => {
  it('Jamba chat: n, documents, JSON mode and tool_choice none (no tools sent)', () => {
    expect(
      toJambaChat({
        model: 'jamba-large',
        messages: [{ role: 'developer', content: 'Be brief.' }, ...USER],
        n: 3,
        temperature: 0.7,
        documents: [{ content: 'Paris is in France.', metadata: [{ key: 'source', value: 'atlas' }] }],
        response_format: { type: 'json_object' },
        tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
        tool_choice: 'none',
        frequency_penalty: 0.5,
        logit_bias: { 1: 2 },
        stream_options: { include_usage: true },
      }),
    ).to.deep.equal({
      model: 'jamba-large',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      documents: [{ content: 'Paris is in France.', metadata: [{ key: 'source', value: 'atlas' }] }],
      response_format: { type: 'json_object' },
      temperature: 0.7,
      n: 3,
    });
  });

  it('Jamba chat: what it refuses is a 400 naming the field, before any upstream call', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ n: 2, stream: true }, 'n'],
      [{ n: 2, temperature: 0 }, 'n'],
      [{ n: 17 }, 'n'],
      [{ tool_choice: 'required' }, 'tool_choice'],
      [{ tool_choice: { type: 'function', function: { name: 'f' } } }, 'tool_choice'],
      [{ tools: [{ type: 'code_interpreter' }] }, 'tools[0]'],
      [{ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }, 'response_format'],
      [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }, 'messages[0].content[0]'],
      [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0]'],
      [{ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0]'],
      [{ messages: [] }, 'messages'],
    ];
    for (const [extra, param] of cases) {
      const err = thrown(() => toJambaChat({ model: 'jamba-mini', messages: USER, ...extra }));
      expect([err.status, err.param], JSON.stringify(extra)).to.deep.equal([400, param]);
    }
  });

  it('Jurassic-2 complete: camelCase options, penalties as {scale}; streams and logprobs refused', () => {
    expect(
      toJ2Complete({
        model: 'j2-ultra',
        prompt: ['Life is like'],
        n: 2,
        max_tokens: 8,
        temperature: 0,
        top_p: 0.9,
        stop: '.',
        frequency_penalty: 1,
        presence_penalty: 0.5,
      }),
    ).to.deep.equal({
      prompt: 'Life is like',
      numResults: 2,
      maxTokens: 8,
      temperature: 0,
      topP: 0.9,
      stopSequences: ['.'],
      frequencyPenalty: { scale: 1 },
      presencePenalty: { scale: 0.5 },
    });
    for (const [extra, param] of [
      [{ stream: true }, 'stream'],
      [{ logprobs: 3 }, 'logprobs'],
      [{ prompt: ['a', 'b'] }, 'prompt'],
    ] as Array<[Record<string, unknown>, string]>) {
      expect(thrown(() => toJ2Complete({ prompt: 'x', ...extra })).param).to.equal(param);
    }
  });

  it('embed: texts and type (segment by default, or query)', () => {
    expect(toAI21Embed({ input: 'q', type: 'query' })).to.deep.equal({ texts: ['q'], type: 'query' });
    expect(thrown(() => toAI21Embed({ input: 'q', type: 'doc' })).param).to.equal('type');
    expect(thrown(() => toAI21Embed({ input: [[1, 2]] })).param).to.equal('input');
  });
});

describe('@waygate/provider-ai21: answers', () => {
  it('Jamba chat: the answer’s model and id kept, usage mapped, tool call arguments as text', () => {
    const out = fromJambaChat(jsonFixture('chat-answer'), 'jamba-1.5-mini');
    expect(out).to.include({ id: 'chat-3b2d47fc-1a6b-4e4e-9f2b-5c0d3e2f9a11', object: 'chat.completion', model: 'jamba-mini' });
    expect(out.usage).to.deep.equal({ prompt_tokens: 17, completion_tokens: 10, total_tokens: 27 });
    const objArgs = fromJambaChat(
      { choices: [{ message: { role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'f', arguments: { a: 1 } } }] } }] },
      'm',
    );
    expect(objArgs.choices[0].message.tool_calls[0].function.arguments).to.equal('{"a":1}');
    expect(fromJambaChat({ choices: [{ message: { content: 'x' }, finish_reason: 'length' }] }, 'm').choices[0].finish_reason).to.equal('length');
    expect(thrown(() => fromJambaChat({ detail: 'x' }, 'm')).status).to.equal(502);
  });

  it('Jurassic-2 complete: completions as choices, usage counted from the listed tokens, finish reasons mapped', () => {
    const out = fromJ2Complete(jsonFixture('complete-answer'), 'j2-ultra');
    expect(out).to.include({ object: 'text_completion', id: '7921a78e-d905-c9df-27e3-88e4831e3c3b', model: 'j2-ultra' });
    expect(out.choices).to.deep.equal([{ index: 0, text: ' complete this', logprobs: null, finish_reason: 'length' }]);
    expect(out.usage).to.deep.equal({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
    expect(fromJ2Complete({ completions: [{ data: { text: 'a' }, finishReason: { reason: 'endoftext' } }] }, 'm').choices[0].finish_reason).to.equal(
      'stop',
    );
    expect(thrown(() => fromJ2Complete({ completions: [{ data: {} }] }, 'm')).status).to.equal(502);
  });

  it('embed: a count other than the inputs’ is a 502; base64 when asked', () => {
    expect(thrown(() => fromAI21Embed(jsonFixture('embed-answer'), 'm', 3)).status).to.equal(502);
    const b64 = fromAI21Embed(jsonFixture('embed-answer'), 'm', 2, 'base64');
    expect(Buffer.from(b64.data[1].embedding, 'base64').readFloatLE(0)).to.be.closeTo(-0.0264, 1e-6);
  });

  it('the stream transformer: usage only when asked for, nothing after [DONE], a stream without [DONE] fails', () => {
    const run = (includeUsage: boolean, events: string[]) => {
      const t = new JambaStreamTransformer('jamba-mini', includeUsage);
      const out = events.flatMap((data) => t.transform({ data }) ?? []);
      return { out, t };
    };
    const events = sseFixture('chat-stream').map((e) => e.replace(/^data: /, '').trim());
    const withUsage = run(true, events).out.map((e) => e.data);
    expect(withUsage.at(-1)).to.equal('[DONE]');
    expect(JSON.parse(withUsage.at(-2)!).usage).to.deep.equal({ prompt_tokens: 15, completion_tokens: 4, total_tokens: 19 });
    const without = run(false, events).out.map((e) => e.data);
    expect(without.filter((d) => d.includes('"usage"'))).to.have.length(0);
    const cut = run(false, events.slice(0, 3));
    expect(() => cut.t.flush()).to.throw(/before data: \[DONE\]/);
    expect(() => run(false, ['{"id": "x", "choices": [']).t).to.throw(/not JSON/);
  });
});

describe('@waygate/provider-ai21 in a running gateway', function () {
  this.timeout(20_000);
  let server: http.Server;
  let base = '';
  let gw: Gateway;
  let answer: { status?: number; type?: string; body: string | object; headers?: Record<string, string> } = { body: {} };
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const logged: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ url: req.url!, headers: req.headers, body });
        res.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'application/json', ...answer.headers });
        res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/studio/v1`;
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', THIS_PACKAGE], providers: { ai21: { api_key: KEY, base_url: base } } },
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
      headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify({ provider: 'ai21' }) },
      body: JSON.stringify(body),
    });

  it('completions go to /{model}/complete (Jurassic-2) and come back as a text completion with usage', async () => {
    answer = { body: jsonFixture('complete-answer') };
    const res = await post('/v1/completions', { model: 'j2-ultra', prompt: 'I will', max_tokens: 2 });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.choices[0].text).to.equal(' complete this');
    expect(json.usage.total_tokens).to.equal(3);
    expect(seen[0]!.url).to.equal('/studio/v1/j2-ultra/complete');
    expect(seen[0]!.headers.authorization).to.equal(`Bearer ${KEY}`);
    expect(JSON.parse(seen[0]!.body)).to.deep.equal({ prompt: 'I will', maxTokens: 2 });
  });

  it('a chat AI21 cannot serve is a 400 before any upstream call', async () => {
    const res = await post('/v1/chat/completions', { model: 'jamba-mini', messages: USER, n: 2, stream: true });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as any).error.param).to.equal('n');
    expect(seen).to.have.length(0);
  });

  it('a stream that ends before [DONE] ends with a terminal error event; one that is not JSON fails before it starts', async () => {
    answer = { type: 'text/event-stream', body: sseFixture('chat-stream').slice(0, 3).join('') };
    const res = await post('/v1/chat/completions', { model: 'jamba-mini', messages: USER, stream: true });
    expect(res.status).to.equal(200);
    const datas: string[] = [];
    const text = await res.text();
    for await (const ev of parseSSE(
      (async function* () {
        yield text;
      })(),
    ))
      datas.push(ev.data);
    expect(datas).not.to.include('[DONE]');
    expect(JSON.parse(datas.at(-1)!).error.message).to.match(/failed after it started: ai21 ended the stream before data: \[DONE\]/);

    answer = { type: 'text/event-stream', body: 'data: <html>\n\n' };
    const bad = await post('/v1/chat/completions', { model: 'jamba-mini', messages: USER, stream: true });
    expect(bad.status).to.equal(502);
  });

  it('error answers keep the status, message and retry-after; the key is in no answer and no log line', async () => {
    answer = { status: 429, headers: { 'retry-after': '2' }, body: { detail: `Too many requests for key ${KEY}` } };
    const res = await post('/v1/embeddings', { model: 'ai21-embed', input: 'x' });
    expect(res.status).to.equal(429);
    expect(res.headers.get('retry-after')).to.equal('2');
    const text = await res.text();
    expect(text).to.include('Too many requests');
    expect(text).not.to.include(KEY);
    expect(logged.join('\n')).not.to.include(KEY);
  });
});
