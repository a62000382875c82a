// The rest of OpenAI's surface end to end with the official SDK: images, audio (a binary answer, a
// multipart upload, a text answer), files and batches, and any other /v1 path forwarded as it came;
// to OpenAI, Azure OpenAI (its per-deployment and per-resource URLs) and Groq (transcriptions); image
// generations also to Stability AI (its own multipart API, through @waygate/provider-stability-ai).
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream } from './fakes/provider-upstreams.js';
import type { Received, Reply } from './fakes/provider-upstreams.js';
import { LogCapture } from './helpers/api-support.js';

const KEY = 'sk-media-held-0123456789';
const AUDIO = Buffer.from([0xff, 0xfb, 0x90, 0x64, 0x00, 0x00, 0x0f, 0xf0, 0x00, 0x80, 0x7f, 0x01]);
const WAV = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(64, 7)]);
const JSONL = '{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[]}}\n';

const file = (id: string) => ({
  id,
  object: 'file',
  bytes: JSONL.length,
  created_at: 1733300000,
  filename: 'batch.jsonl',
  purpose: 'batch',
  status: 'processed',
});
const batch = (id: string, status: string) => ({
  id,
  object: 'batch',
  endpoint: '/v1/chat/completions',
  input_file_id: 'file-1',
  completion_window: '24h',
  status,
  created_at: 1733300000,
  request_counts: { total: 1, completed: 0, failed: 0 },
});

/** The multipart fields the fake read: name → text (files: `filename:<name>:<bytes>`). */
function multipart(req: Received): Record<string, string> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(String(req.headers['content-type']));
  if (!m) return {};
  const out: Record<string, string> = {};
  for (const part of req.raw.toString('latin1').split(`--${m[1] ?? m[2]}`)) {
    const head = /name="([^"]+)"(?:; filename="([^"]+)")?[^]*?\r\n\r\n/.exec(part);
    if (!head) continue;
    const value = part.slice(head.index + head[0].length).replace(/\r\n$/, '');
    out[head[1]!] = head[2] ? `filename:${head[2]}:${value.length}` : value;
  }
  return out;
}

/** OpenAI's documented shapes for images, audio, files, batches; anything else echoes what it got. */
function openaiMedia(req: Received): Reply {
  if (req.headers.authorization !== `Bearer ${KEY}` && req.headers['api-key'] !== KEY) {
    return { status: 401, json: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } } };
  }
  const path = req.pathname.replace(/^\/openai(\/deployments\/[^/]+)?/, '').replace(/^\/v1/, '');
  if (req.method === 'POST' && path === '/images/generations') {
    return { json: { created: 1733300000, data: [{ b64_json: Buffer.from(`image:${(req.body as { prompt?: string }).prompt}`).toString('base64') }] } };
  }
  // Stability AI's v2beta Stable Image API (multipart in, `{ image, finish_reason, seed }` out).
  if (req.method === 'POST' && /^\/v2beta\/stable-image\/generate\/(ultra|core|sd3)$/.test(req.pathname)) {
    const fields = multipart(req);
    const filtered = fields.prompt === 'forbidden';
    return {
      json: { image: Buffer.from(`image:${fields.prompt}`).toString('base64'), finish_reason: filtered ? 'CONTENT_FILTERED' : 'SUCCESS', seed: 42 },
    };
  }
  if (req.method === 'POST' && path === '/audio/speech')
    return { headers: { 'content-type': 'audio/mpeg' }, stream: [AUDIO.subarray(0, 5), AUDIO.subarray(5)] };
  if (req.method === 'POST' && (path === '/audio/transcriptions' || path === '/audio/translations')) {
    const fields = multipart(req);
    if (!fields.file || !fields.model) return { status: 400, json: { error: { message: 'file and model are required', type: 'invalid_request_error' } } };
    const text = `heard ${fields.file} with ${fields.model}`;
    if (fields.response_format === 'text') return { headers: { 'content-type': 'text/plain; charset=utf-8' }, stream: [text] };
    return { json: { text } };
  }
  if (path === '/files' && req.method === 'POST') {
    const fields = multipart(req);
    return { json: { ...file('file-1'), purpose: fields.purpose, filename: fields.file?.split(':')[1] } };
  }
  if (path === '/files' && req.method === 'GET')
    return { json: { object: 'list', data: [file('file-1')], has_more: false, limit: req.query.get('limit') } };
  if (path === '/files/file-1' && req.method === 'GET') return { json: file('file-1') };
  if (path === '/files/file-1/content') return { headers: { 'content-type': 'application/octet-stream' }, stream: [JSONL] };
  if (path === '/files/file-1' && req.method === 'DELETE') return { json: { id: 'file-1', object: 'file', deleted: true } };
  if (path === '/batches' && req.method === 'POST') return { json: batch('batch-1', 'validating') };
  if (path === '/batches' && req.method === 'GET') return { json: { object: 'list', data: [batch('batch-1', 'in_progress')], has_more: false } };
  if (path === '/batches/batch-1') return { json: batch('batch-1', 'in_progress') };
  if (path === '/batches/batch-1/cancel' && req.method === 'POST') return { json: batch('batch-1', 'cancelling') };
  return { json: { forwarded: { method: req.method, url: req.url, body: req.body ?? null } } };
}

describe('images, audio, files, batches and passthrough (@waygate/openai-api) through the openai SDK', () => {
  let up: FakeUpstream;
  let gw: Gateway;

  before(async () => {
    up = await FakeUpstream.start(openaiMedia);
    gw = await startGateway({
      config: {
        providers: {
          openai: { api_key: KEY, base_url: `${up.url}/v1` },
          groq: { api_key: KEY, base_url: `${up.url}/openai/v1` },
          'recraft-ai': { api_key: KEY, base_url: `${up.url}/v1` },
          'lemonfox-ai': { api_key: KEY, base_url: `${up.url}/v1` },
          'azure-openai': { api_key: KEY, base_url: up.url },
          'stability-ai': { base_url: up.url },
        },
      },
      port: 0,
      host: '127.0.0.1',
      logger: new LogCapture('warn').logger,
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });
  beforeEach(() => up.reset());

  // The caller sends its own provider key, as a Portkey caller does.
  const client = (provider = 'openai', headers: Record<string, string> = {}) =>
    new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0, defaultHeaders: { 'x-portkey-provider': provider, ...headers } });
  const last = () => up.requests.at(-1)!;

  it('images.generate(): the JSON request and answer, with the key', async () => {
    const res = await client().images.generate({ model: 'gpt-image-1', prompt: 'a lighthouse' });
    expect(Buffer.from(res.data![0]!.b64_json!, 'base64').toString()).to.equal('image:a lighthouse');
    expect(last().pathname).to.equal('/v1/images/generations');
    expect(last().headers.authorization).to.equal(`Bearer ${KEY}`);
  });

  it('audio.speech.create(): the binary answer’s bytes and type reach the client unchanged', async () => {
    const res = await client().audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'hello' });
    expect(res.headers.get('content-type')).to.equal('audio/mpeg');
    expect(Buffer.from(await res.arrayBuffer()).equals(AUDIO)).to.equal(true);
  });

  it('audio.transcriptions.create(): the multipart upload reaches the provider whole; JSON and text answers', async () => {
    const upload = () => toFile(WAV, 'clip.wav', { type: 'audio/wav' });
    const json = await client().audio.transcriptions.create({ file: await upload(), model: 'whisper-1' });
    expect(json.text).to.equal(`heard filename:clip.wav:${WAV.length} with whisper-1`);
    expect(String(last().headers['content-type'])).to.match(/^multipart\/form-data; boundary=/);
    const text = await client().audio.transcriptions.create({ file: await upload(), model: 'whisper-1', response_format: 'text' });
    expect(text).to.equal(`heard filename:clip.wav:${WAV.length} with whisper-1`);
    const translated = await client().audio.translations.create({ file: await upload(), model: 'whisper-1' });
    expect(translated.text).to.contain('clip.wav');
    expect(last().pathname).to.equal('/v1/audio/translations');
  });

  it('Groq serves transcriptions at its own base URL', async () => {
    const res = await client('groq').audio.transcriptions.create({ file: await toFile(WAV, 'clip.wav'), model: 'whisper-large-v3' });
    expect(res.text).to.contain('whisper-large-v3');
    expect(last().pathname).to.equal('/openai/v1/audio/transcriptions');
  });

  it('Recraft serves image generations and Lemonfox speech, at their OpenAI-compatible paths', async () => {
    const img = await client('recraft-ai').images.generate({ model: 'recraftv3', prompt: 'a fox' });
    expect(Buffer.from(img.data![0]!.b64_json!, 'base64').toString()).to.equal('image:a fox');
    const speech = await client('lemonfox-ai').audio.speech.create({ model: 'tts-1', voice: 'sarah' as 'alloy', input: 'hi' });
    expect(Buffer.from(await speech.arrayBuffer()).equals(AUDIO)).to.equal(true);
    expect(last().pathname).to.equal('/v1/audio/speech');
  });

  it('Stability AI serves image generations: multipart to Stable Image Ultra, b64_json back; a filtered image is a 400', async () => {
    const img = await client('stability-ai').images.generate({ model: 'stable-image-ultra', prompt: 'a lighthouse', size: '1536x1024' });
    expect(img.data).to.deep.equal([{ b64_json: Buffer.from('image:a lighthouse').toString('base64') }]);
    expect(last().pathname).to.equal('/v2beta/stable-image/generate/ultra');
    expect([last().headers.authorization, last().headers.accept]).to.deep.equal([`Bearer ${KEY}`, 'application/json']);
    expect(multipart(last())).to.deep.equal({ prompt: 'a lighthouse', aspect_ratio: '3:2' });
    const err = await client('stability-ai')
      .images.generate({ model: 'sd3.5-large', prompt: 'forbidden' })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).to.equal('content_filter');
    expect(multipart(last())).to.deep.equal({ prompt: 'forbidden', model: 'sd3.5-large' });
  });

  it('files: create (multipart), list with its query, retrieve, content (bytes), delete', async () => {
    const c = client();
    const created = await c.files.create({ file: await toFile(Buffer.from(JSONL), 'batch.jsonl'), purpose: 'batch' });
    expect(created).to.include({ id: 'file-1', purpose: 'batch', filename: 'batch.jsonl' });
    const page = await c.files.list({ limit: 2 });
    expect(page.data.map((f) => f.id)).to.deep.equal(['file-1']);
    expect(last().url).to.equal('/v1/files?limit=2');
    expect((await c.files.retrieve('file-1')).filename).to.equal('batch.jsonl');
    const content = await c.files.content('file-1');
    expect(await content.text()).to.equal(JSONL);
    expect((await c.files.delete('file-1')).deleted).to.equal(true);
    expect(last().method).to.equal('DELETE');
  });

  it('batches: create, retrieve, list, cancel', async () => {
    const c = client();
    const b = await c.batches.create({ input_file_id: 'file-1', endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(b.status).to.equal('validating');
    expect(last().body).to.deep.include({ input_file_id: 'file-1', completion_window: '24h' });
    expect((await c.batches.retrieve('batch-1')).status).to.equal('in_progress');
    expect((await c.batches.list()).data).to.have.length(1);
    expect((await c.batches.cancel('batch-1')).status).to.equal('cancelling');
    expect(last().pathname).to.equal('/v1/batches/batch-1/cancel');
  });

  it('any other /v1 path is forwarded with its method, query and body (a new upstream endpoint needs no code)', async () => {
    const post = await client().post('/vector_stores', { body: { name: 'docs' } });
    expect(post).to.deep.equal({ forwarded: { method: 'POST', url: '/v1/vector_stores', body: { name: 'docs' } } });
    const get = await client().get('/vector_stores/vs_1/files?limit=3');
    expect(get).to.deep.equal({ forwarded: { method: 'GET', url: '/v1/vector_stores/vs_1/files?limit=3', body: null } });
    expect(last().headers.authorization).to.equal(`Bearer ${KEY}`);
  });

  it('Azure OpenAI: audio at the deployment’s URL, files at the resource’s, both with api-version', async () => {
    const azure = client('azure-openai', { 'x-portkey-azure-deployment-id': 'whisper-dep' });
    await azure.audio.transcriptions.create({ file: await toFile(WAV, 'clip.wav'), model: 'whisper-1' });
    expect(last().url).to.match(/^\/openai\/deployments\/whisper-dep\/audio\/transcriptions\?api-version=\d{4}-\d{2}-\d{2}$/);
    expect(last().headers['api-key']).to.equal(KEY);
    await azure.files.list({ limit: 1 });
    expect(last().url).to.match(/^\/openai\/files\?limit=1&api-version=\d{4}-\d{2}-\d{2}$/);
  });

  it('a provider that does not serve an endpoint answers a clear 4xx, and nothing is sent', async () => {
    const err = await client('anthropic')
      .images.generate({ model: 'x', prompt: 'y' })
      .then(
        () => undefined,
        (e: unknown) => e as { status: number; message: string },
      );
    expect(err?.status).to.be.within(400, 499);
    expect(err?.message).to.match(/images\.generations/);
    expect(up.requests).to.have.length(0);
  });

  it('an upload over the body limit is a 413 in OpenAI’s shape', async () => {
    const res = await fetch(`${gw.url}/v1/files`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=x', 'x-portkey-provider': 'openai' },
      body: Buffer.alloc(12 * 1024 * 1024, 1),
    });
    expect(res.status).to.equal(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).to.be.a('string');
    expect(up.requests).to.have.length(0);
  });
});

describe('a gateway key’s model rules apply to multipart uploads (@waygate/openai-api reads the form’s fields)', () => {
  const GATEWAY_KEY = 'wg-media-uploads-only-whisper-0123456789';
  let up: FakeUpstream;
  let gw: Gateway;

  before(async () => {
    up = await FakeUpstream.start(openaiMedia);
    const sha256 = createHash('sha256').update(GATEWAY_KEY).digest('hex');
    gw = await startGateway({
      config: {
        providers: { openai: { api_key: KEY, base_url: `${up.url}/v1` } },
        routing: { provider: 'openai' },
        plugins: [{ module: '@waygate/auth', options: { keys: [{ id: 'whisper', name: 'whisper only', sha256, models: ['whisper-*'] }] } }],
      },
      port: 0,
      host: '127.0.0.1',
      logger: new LogCapture('warn').logger,
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });
  beforeEach(() => up.reset());

  const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: GATEWAY_KEY, maxRetries: 0 });
  const upload = () => toFile(WAV, 'clip.wav', { type: 'audio/wav' });

  it('an allowed model is served with the operator’s provider key; another is a 403 that never reaches the provider', async () => {
    const ok = await client().audio.transcriptions.create({ file: await upload(), model: 'whisper-1' });
    expect(ok.text).to.equal(`heard filename:clip.wav:${WAV.length} with whisper-1`);
    expect(up.requests.at(-1)!.headers.authorization).to.equal(`Bearer ${KEY}`);
    up.reset();
    const refused = await client()
      .audio.transcriptions.create({ file: await upload(), model: 'gpt-4o-transcribe' })
      .then(
        () => undefined,
        (e: unknown) => e as { status: number; code?: string; message: string },
      );
    expect(refused?.status).to.equal(403);
    expect(refused?.code).to.equal('model_not_allowed');
    expect(refused?.message).to.contain('gpt-4o-transcribe');
    expect(up.requests).to.have.length(0);
  });

  it('a malformed form is a 400 naming the problem, and nothing is sent', async () => {
    const res = await fetch(`${gw.url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'multipart/form-data; boundary=abc' },
      body: '--abc\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--abc\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF',
    });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).to.match(/multipart\/form-data body cannot be read/);
    expect(up.requests).to.have.length(0);
  });
});
