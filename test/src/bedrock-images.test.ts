// Image generations on Amazon Bedrock end to end with the official `openai` SDK: the bundled gateway,
// @waygate/provider-bedrock, and a loopback fake Bedrock Runtime that verifies every request's SigV4
// signature (its own implementation, test/src/fakes) and answers InvokeModel in the documented
// shapes of Titan Image Generator, Nova Canvas and the Stability models.
import { expect } from 'chai';
import OpenAI from 'openai';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream, bedrockError, verifySigV4 } from './fakes/index.js';
import type { Received, Reply } from './fakes/index.js';

const AWS = { accessKeyId: 'AKIAIMAGESEXAMPLE', secretAccessKey: 'images/secret+EXAMPLEKEY', sessionToken: 'IQoJimages//token+/=' };
const image = (text: string) => Buffer.from(`png:${text}`).toString('base64');

/** Bedrock Runtime's InvokeModel for the image models: signature first, then the family's answer. */
function bedrockImages(req: Received): Reply {
  const bad = verifySigV4(req, AWS, 'bedrock');
  if (bad) return bedrockError(bad.status, bad.type, bad.message);
  const m = /^\/model\/([^/]+)\/invoke$/.exec(req.pathname);
  const model = m ? decodeURIComponent(m[1]!) : '';
  const body = req.body ?? {};
  if (model.startsWith('amazon.titan-image-generator') || model.startsWith('amazon.nova-canvas')) {
    const text = String(body.textToImageParams?.text ?? '');
    if (body.taskType !== 'TEXT_IMAGE' || !text)
      return bedrockError(400, 'ValidationException', 'Malformed input request: required key [taskType] not found');
    if (text === 'forbidden') return { json: { images: [], error: 'This request has been blocked by our content filters.' } };
    const n = Number(body.imageGenerationConfig?.numberOfImages ?? 1);
    return { json: { images: Array.from({ length: n }, (_, i) => image(`${text}#${i}`)), error: null } };
  }
  if (model.startsWith('stability.')) {
    if (body.prompt === 'forbidden') return { json: { finish_reasons: ['Filter reason: prompt'] } };
    return { json: { seeds: [2130420379], finish_reasons: [null], images: [image(String(body.prompt))] } };
  }
  return bedrockError(404, 'ResourceNotFoundException', 'Could not resolve the foundation model from the provided model identifier.');
}

describe('image generations on Bedrock (@waygate/provider-bedrock) through the openai SDK', function () {
  this.timeout(30_000);
  let up: FakeUpstream;
  let gw: Gateway;

  before(async () => {
    up = await FakeUpstream.start(bedrockImages);
    gw = await startGateway({ port: 0, host: '127.0.0.1', logger: createLogger({ level: 'silent' }), env: {} });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });
  beforeEach(() => up.reset());

  const client = (secret = AWS.secretAccessKey) =>
    new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: 'sk-client-not-for-aws',
      maxRetries: 0,
      defaultHeaders: {
        'x-portkey-config': JSON.stringify({
          provider: 'bedrock',
          custom_host: up.url,
          aws_access_key_id: AWS.accessKeyId,
          aws_secret_access_key: secret,
          aws_session_token: AWS.sessionToken,
          aws_region: 'us-west-2',
        }),
      },
    });
  const last = () => up.requests.at(-1)!;

  it('images.generate() with Titan Image Generator: n and size mapped, every image back as b64_json', async () => {
    const res = await client().images.generate({
      model: 'amazon.titan-image-generator-v2:0',
      prompt: 'a lighthouse',
      n: 2,
      size: '1024x1792',
      quality: 'hd',
    });
    expect(res.data!.map((d) => Buffer.from(d.b64_json!, 'base64').toString())).to.deep.equal(['png:a lighthouse#0', 'png:a lighthouse#1']);
    expect(res.created).to.be.a('number');
    expect(last().pathname).to.equal('/model/amazon.titan-image-generator-v2%3A0/invoke');
    expect(last().headers.authorization).to.match(/^AWS4-HMAC-SHA256 Credential=AKIAIMAGESEXAMPLE\/\d{8}\/us-west-2\/bedrock\/aws4_request, /);
    expect(last().headers['x-amz-security-token']).to.equal(AWS.sessionToken);
    expect(last().body).to.deep.equal({
      taskType: 'TEXT_IMAGE',
      textToImageParams: { text: 'a lighthouse' },
      imageGenerationConfig: { numberOfImages: 2, width: 768, height: 1408, quality: 'premium' },
    });
    expect(JSON.stringify(last().headers)).to.not.include(AWS.secretAccessKey);
  });

  it('images.generate() with Nova Canvas and with Stable Image Core', async () => {
    const nova = await client().images.generate({ model: 'amazon.nova-canvas-v1:0', prompt: 'a fox', size: '1792x1024' });
    expect(Buffer.from(nova.data![0]!.b64_json!, 'base64').toString()).to.equal('png:a fox#0');
    expect(last().body!.imageGenerationConfig).to.deep.equal({ numberOfImages: 1, width: 1792, height: 1024 });
    const core = await client().images.generate({ model: 'stability.stable-image-core-v1:1', prompt: 'a lake', size: '1792x1024' });
    expect(Buffer.from(core.data![0]!.b64_json!, 'base64').toString()).to.equal('png:a lake');
    expect(last().pathname).to.equal('/model/stability.stable-image-core-v1%3A1/invoke');
    expect(last().body).to.deep.equal({ prompt: 'a lake', aspect_ratio: '16:9' });
  });

  it('a filtered image is a BadRequestError with code content_filter; url answers are refused before Bedrock is asked', async () => {
    for (const model of ['amazon.nova-canvas-v1:0', 'stability.sd3-5-large-v1:0']) {
      const err = await client()
        .images.generate({ model, prompt: 'forbidden' })
        .catch((e: unknown) => e);
      expect(err, model).to.be.instanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).to.equal('content_filter');
    }
    up.reset();
    const url = await client()
      .images.generate({ model: 'amazon.titan-image-generator-v1', prompt: 'x', response_format: 'url' })
      .catch((e: unknown) => e);
    expect(url).to.be.instanceOf(OpenAI.BadRequestError);
    expect((url as InstanceType<typeof OpenAI.BadRequestError>).param).to.equal('response_format');
    expect(up.requests).to.have.length(0);
  });

  it('a wrong secret is the fake’s InvalidSignatureException, a 403 PermissionDeniedError', async () => {
    const err = await client('not-the-secret')
      .images.generate({ model: 'amazon.nova-canvas-v1:0', prompt: 'a fox' })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OpenAI.PermissionDeniedError);
    expect((err as Error).message).to.match(/InvalidSignatureException/);
  });
});
