// OCI Generative AI end to end: the `openai` SDK → the default gateway (bundled plugins,
// @waygate/provider-oracle among them) in Portkey's header dialect (`x-portkey-provider: oracle`,
// `x-portkey-oracle-*`) → a loopback fake of OCI's inference API that verifies each request's HTTP
// Signature (rsa-sha256) with the public half of a key pair made here, and answers in OCI's format.
import { expect } from 'chai';
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { AuthenticationError, RateLimitError } from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { closeGatewayAndFake, readChatStream } from './helpers/portkey-e2e.js';

const TENANCY = 'ocid1.tenancy.oc1..aaaaaaaae2e';
const USER = 'ocid1.user.oc1..aaaaaaaae2e';
const FINGERPRINT = '12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0';
const COMPARTMENT = 'ocid1.compartment.oc1..aaaaaaaae2e';
const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEY = pair();
const PEM = KEY.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

interface Seen {
  url: string;
  json: any;
  verified: boolean;
}

/** Whether a request carries a valid OCI signature over the headers OCI requires for a POST. */
function verified(req: http.IncomingMessage, body: string): boolean {
  const auth = String(req.headers.authorization ?? '');
  const p = Object.fromEntries([...auth.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  if (!auth.startsWith('Signature ') || p.keyId !== `${TENANCY}/${USER}/${FINGERPRINT}` || p.algorithm !== 'rsa-sha256') return false;
  const names = String(p.headers).split(' ');
  if (!['date', '(request-target)', 'host', 'content-length', 'content-type', 'x-content-sha256'].every((n) => names.includes(n))) return false;
  if (req.headers['x-content-sha256'] !== createHash('sha256').update(body).digest('base64')) return false;
  const text = names.map((n) => (n === '(request-target)' ? `${n}: ${req.method!.toLowerCase()} ${req.url}` : `${n}: ${req.headers[n]}`)).join('\n');
  return verify('sha256', Buffer.from(text), KEY.publicKey, Buffer.from(String(p.signature), 'base64'));
}

const generic = (message: Record<string, unknown>, finishReason: string) => ({
  modelId: 'meta.llama-3.3-70b-instruct',
  modelVersion: '1.0.0',
  chatResponse: {
    apiFormat: 'GENERIC',
    timeCreated: '2025-06-10T18:21:55.372Z',
    choices: [{ index: 0, message: { role: 'ASSISTANT', ...message }, finishReason }],
    usage: { promptTokens: 12, completionTokens: 5, totalTokens: 17 },
  },
});

describe('OCI Generative AI end to end: OpenAI SDK → gateway (Portkey headers) → fake OCI verifying signatures', function () {
  let server: http.Server;
  let base = '';
  let gw: Gateway;
  const seen: Seen[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const json = JSON.parse(body);
        const ok = verified(req, body);
        seen.push({ url: req.url!, json, verified: ok });
        const send = (status: number, answer: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json', 'opc-request-id': 'e2e-1' });
          res.end(JSON.stringify(answer));
        };
        if (!ok)
          return send(401, {
            code: 'NotAuthenticated',
            message: 'The required information to complete authentication was not provided or was incorrect.',
          });
        const content = json.chatRequest?.messages?.at(-1)?.content?.[0]?.text;
        if (content === 'rate me') return send(429, { code: 'TooManyRequests', message: 'Too many requests for the user' });
        if (req.url === '/20231130/actions/embedText')
          return send(200, { id: 'e1', embeddings: json.inputs.map(() => [0.25, -0.5, 0.125]), usage: { promptTokens: 2, totalTokens: 2 } });
        if (json.chatRequest.isStream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          for (const text of ['Hello', ' from', ' OCI'])
            res.write(`data: ${JSON.stringify({ index: 0, message: { role: 'ASSISTANT', content: [{ type: 'TEXT', text }] } })}\n\n`);
          res.end(`data: ${JSON.stringify({ message: { role: 'ASSISTANT' }, finishReason: 'stop' })}\n\n`);
          return;
        }
        if (json.chatRequest.tools)
          return send(
            200,
            generic({ toolCalls: [{ id: 'call_k1', type: 'FUNCTION', name: 'get_weather', arguments: '{"city":"Paris"}' }] }, 'tool_calls'),
          );
        send(200, generic({ content: [{ type: 'TEXT', text: 'Hello from OCI' }] }, 'stop'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway({ config: {}, port: 0, logger: silent });
  });
  after(() => closeGatewayAndFake(gw, server));
  beforeEach(() => (seen.length = 0));

  /** Portkey's headers for an oracle target (the key on one line, with \\n escapes, as a header carries it). */
  const oracleHeaders = (pem = PEM): Record<string, string> => ({
    'x-portkey-provider': 'oracle',
    'x-portkey-custom-host': base,
    'x-portkey-oracle-region': 'us-chicago-1',
    'x-portkey-oracle-compartment-id': COMPARTMENT,
    'x-portkey-oracle-tenancy': TENANCY,
    'x-portkey-oracle-user': USER,
    'x-portkey-oracle-fingerprint': FINGERPRINT,
    'x-portkey-oracle-private-key': pem.trim().replace(/\n/g, '\\n'),
  });
  const client = (pem = PEM) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused-by-oracle', maxRetries: 0, defaultHeaders: oracleHeaders(pem) });

  it('answers a chat completion from a signed request', async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: 'meta.llama-3.3-70b-instruct', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(response.headers.get('x-portkey-provider')).to.equal('oracle');
    expect(data.choices[0]!.message.content).to.equal('Hello from OCI');
    expect(data.usage).to.include({ prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 });
    expect(seen).to.have.length(1);
    expect(seen[0]).to.deep.include({ url: '/20231130/actions/chat', verified: true });
    expect(seen[0]!.json.servingMode).to.deep.equal({ servingType: 'ON_DEMAND', modelId: 'meta.llama-3.3-70b-instruct' });
  });

  it('streams through the SDK', async () => {
    const stream = await client().chat.completions.create({
      model: 'meta.llama-3.3-70b-instruct',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const { text, finish } = await readChatStream(stream);
    expect(text).to.equal('Hello from OCI');
    expect(finish).to.equal('stop');
    expect(seen[0]!.verified).to.equal(true);
    expect(seen[0]!.json.chatRequest.isStream).to.equal(true);
  });

  it('tool calls and embeddings', async () => {
    const tools = [
      { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const r = await client().chat.completions.create({ model: 'meta.llama-3.3-70b-instruct', messages: [{ role: 'user', content: 'weather?' }], tools });
    expect(r.choices[0]!.finish_reason).to.equal('tool_calls');
    const call = r.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && [call.id, call.function.name, JSON.parse(call.function.arguments).city]).to.deep.equal([
      'call_k1',
      'get_weather',
      'Paris',
    ]);
    const e = await client().embeddings.create({ model: 'cohere.embed-english-v3.0', input: ['a', 'b'] });
    expect(e.data.map((d) => d.embedding)).to.deep.equal([
      [0.25, -0.5, 0.125],
      [0.25, -0.5, 0.125],
    ]);
    expect(seen.map((s) => [s.url, s.verified])).to.deep.equal([
      ['/20231130/actions/chat', true],
      ['/20231130/actions/embedText', true],
    ]);
  });

  it("serves Anthropic's /v1/messages through the chat bridge", async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { ...oracleHeaders(), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'meta.llama-3.3-70b-instruct', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.content[0]).to.deep.include({ type: 'text', text: 'Hello from OCI' });
    expect(seen[0]!.verified).to.equal(true);
  });

  it("OCI's errors reach the SDK as its error classes: a wrong key is a 401, throttling a 429", async () => {
    const other = pair().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const err = await client(other)
      .chat.completions.create({ model: 'meta.llama-3.3-70b-instruct', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AuthenticationError);
    expect((err as Error).message).to.include('NotAuthenticated');
    expect(seen[0]!.verified).to.equal(false);
    const limited = await client()
      .chat.completions.create({ model: 'meta.llama-3.3-70b-instruct', messages: [{ role: 'user', content: 'rate me' }] })
      .catch((e: unknown) => e);
    expect(limited).to.be.instanceOf(RateLimitError);
    expect((limited as Error).message).to.include('TooManyRequests');
  });
});
