// SageMaker with a Hugging Face TGI container end to end: the default gateway (the bundled plugins,
// @waygate/provider-sagemaker among them) driven by the `openai` SDK in Portkey's header dialect
// (`x-portkey-provider: sagemaker`, `x-portkey-sagemaker-format: tgi`, the AWS keys as headers), in
// front of a loopback SageMaker Runtime that checks each SigV4 signature and answers as a TGI
// container does: `[{generated_text, details}]`, or its generate_stream events in PayloadPart frames.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { eventStreamMessage, verifySigV4 } from './fakes/index.js';
import type { Received } from './fakes/index.js';
import { closeGatewayAndFake, readChatStream } from './helpers/portkey-e2e.js';

const CREDS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//token+/=',
};

const part = (bytes: string) =>
  eventStreamMessage({ ':event-type': 'PayloadPart', ':content-type': 'application/octet-stream', ':message-type': 'event' }, bytes);
const tgiEvent = (o: unknown) => `data:${JSON.stringify(o)}\n\n`;
const token = (index: number, text: string) =>
  tgiEvent({ index, token: { id: index, text, logprob: -0.1, special: false }, generated_text: null, details: null });

describe('SageMaker (TGI container) end to end: OpenAI SDK → gateway (Portkey headers) → fake SageMaker Runtime', function () {
  let server: http.Server;
  let base = '';
  let gw: Gateway;
  const seen: Array<{ url: string; body: any; signature?: string }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const url = new URL(req.url ?? '/', 'http://x');
        const received: Received = {
          method: req.method!,
          url: req.url!,
          pathname: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          raw,
          body: JSON.parse(raw.toString('utf8')),
        };
        const bad = verifySigV4(received, CREDS, 'sagemaker');
        seen.push({ url: req.url ?? '', body: received.body, signature: bad?.type });
        if (bad) {
          res.writeHead(bad.status, { 'content-type': 'application/json', 'x-amzn-errortype': bad.type });
          res.end(JSON.stringify({ message: bad.message }));
          return;
        }
        if (req.url === '/endpoints/hf-llm/invocations-response-stream') {
          res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-sagemaker-content-type': 'text/event-stream' });
          const sse =
            token(1, 'Hi') +
            token(2, ' there') +
            tgiEvent({
              index: 3,
              token: { id: 2, text: '</s>', logprob: -0.1, special: true },
              generated_text: 'Hi there',
              details: { finish_reason: 'eos_token', generated_tokens: 3, seed: null, input_length: 4 },
            });
          res.write(part(sse.slice(0, 37)));
          res.end(part(sse.slice(37)));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify([
            {
              generated_text: 'Hello from TGI',
              details: { finish_reason: 'length', generated_tokens: 3, seed: null, prefill: [{ id: 1, text: 'hi', logprob: null }] },
            },
          ]),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway({ config: {}, port: 0, logger: silent });
  });
  after(() => closeGatewayAndFake(gw, server));
  beforeEach(() => (seen.length = 0));

  const client = () =>
    new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: 'not-for-aws',
      maxRetries: 0,
      defaultHeaders: {
        'x-portkey-provider': 'sagemaker',
        'x-portkey-custom-host': base,
        'x-portkey-aws-access-key-id': CREDS.accessKeyId,
        'x-portkey-aws-secret-access-key': CREDS.secretAccessKey,
        'x-portkey-aws-session-token': CREDS.sessionToken,
        'x-portkey-aws-region': 'eu-west-1',
        'x-portkey-amzn-sagemaker-endpoint-name': 'hf-llm',
        'x-portkey-sagemaker-format': 'tgi',
      },
    });

  it("sends TGI's {inputs, parameters}, signed, and answers a chat completion from generated_text", async () => {
    const data = await client().chat.completions.create({ model: 'hf-llm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    expect(data.choices[0]!.message.content).to.equal('Hello from TGI');
    expect(data.choices[0]!.finish_reason).to.equal('length');
    expect(data.usage).to.include({ prompt_tokens: 1, completion_tokens: 3 });
    expect(seen).to.deep.equal([
      { url: '/endpoints/hf-llm/invocations', body: { inputs: 'hi', parameters: { max_new_tokens: 3, details: true } }, signature: undefined },
    ]);
  });

  it('streams the TGI token events as OpenAI chunks, with usage', async () => {
    const stream = await client().chat.completions.create({
      model: 'hf-llm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, finish, usage } = await readChatStream(stream);
    expect(text).to.equal('Hi there');
    expect(finish).to.equal('stop');
    expect(usage).to.deep.equal({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
    expect(seen).to.deep.equal([
      { url: '/endpoints/hf-llm/invocations-response-stream', body: { inputs: 'hi', parameters: { details: true }, stream: true }, signature: undefined },
    ]);
  });
});
