// Model routing, options (config keys and headers) and upstream URLs: pure functions, no network.
import assert from 'node:assert/strict';
import { GatewayError } from '@waygate/core';
import { createVertexProvider, parseModel, serviceAccountOf, vertexOptions, vertexURL, VERTEX_HOST_TEMPLATE } from '../src/index.js';
import { makeInput, serviceAccountJson } from './helpers.js';

const NODE = { vertex_project_id: 'my-proj', vertex_region: 'europe-west4' };

const throwsGateway = (fn: () => unknown, status: number, code: string, message?: RegExp) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof GatewayError, String(err));
    assert.equal(err.status, status, err.message);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });

describe('vertex-ai: model routing', () => {
  it('sends claude models to the anthropic publisher and everything else to google', () => {
    assert.deepEqual(parseModel('gemini-2.0-flash'), { publisher: 'google', model: 'gemini-2.0-flash' });
    assert.deepEqual(parseModel('claude-sonnet-4-5@20250929'), { publisher: 'anthropic', model: 'claude-sonnet-4-5@20250929' });
    assert.deepEqual(parseModel('Claude-3-haiku@20240307'), { publisher: 'anthropic', model: 'Claude-3-haiku@20240307' });
    assert.deepEqual(parseModel('text-embedding-005'), { publisher: 'google', model: 'text-embedding-005' });
  });

  it('accepts publisher prefixes and full publisher paths', () => {
    assert.deepEqual(parseModel('anthropic/claude-3-5-haiku@20241022'), { publisher: 'anthropic', model: 'claude-3-5-haiku@20241022' });
    assert.deepEqual(parseModel('anthropic.claude-3-5-haiku@20241022'), { publisher: 'anthropic', model: 'claude-3-5-haiku@20241022' });
    assert.deepEqual(parseModel('google/gemini-2.5-pro'), { publisher: 'google', model: 'gemini-2.5-pro' });
    assert.deepEqual(parseModel('publishers/anthropic/models/claude-opus-4@20250514'), { publisher: 'anthropic', model: 'claude-opus-4@20250514' });
    assert.deepEqual(parseModel('publishers/google/models/gemini-2.0-flash-001'), { publisher: 'google', model: 'gemini-2.0-flash-001' });
    assert.deepEqual(parseModel('models/gemini-2.0-flash'), { publisher: 'google', model: 'gemini-2.0-flash' });
  });

  it('refuses other publishers, a missing model and ids that would change the path', () => {
    throwsGateway(() => parseModel('publishers/meta/models/llama-3.3-70b'), 400, 'invalid_request', /google \(Gemini\) and anthropic \(Claude\)/);
    throwsGateway(() => parseModel(undefined), 400, 'invalid_request', /model is required/);
    throwsGateway(() => parseModel('  '), 400, 'invalid_request');
    throwsGateway(() => parseModel('gemini/../../x'), 400, 'invalid_request');
    throwsGateway(() => parseModel('gemini:streamGenerateContent'), 400, 'invalid_request');
    throwsGateway(() => parseModel('gemini?alt=sse'), 400, 'invalid_request');
  });
});

describe('vertex-ai: options and URLs', () => {
  const gemini = parseModel('gemini-2.0-flash');
  const claude = parseModel('claude-sonnet-4-5@20250929');

  it('builds the regional host from vertex_region', () => {
    const input = makeInput({}, { node: NODE });
    assert.equal(
      vertexURL(input, vertexOptions(input), gemini, 'generateContent'),
      'https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent',
    );
    assert.equal(
      vertexURL(input, vertexOptions(input), claude, 'streamRawPredict'),
      'https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict',
    );
  });

  it('defaults the region to us-central1', () => {
    const input = makeInput({}, { node: { vertex_project_id: 'p1' } });
    assert.equal(
      vertexURL(input, vertexOptions(input), gemini, 'streamGenerateContent?alt=sse'),
      'https://us-central1-aiplatform.googleapis.com/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse',
    );
  });

  it('uses aiplatform.googleapis.com for the global location', () => {
    const input = makeInput({}, { node: { vertex_project_id: 'p1', vertex_region: 'global' } });
    assert.equal(
      vertexURL(input, vertexOptions(input), claude, 'rawPredict'),
      'https://aiplatform.googleapis.com/v1/projects/p1/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict',
    );
  });

  it('lets a custom host replace the https://{host}/v1 prefix', () => {
    const input = makeInput({}, { node: NODE, baseURL: 'http://127.0.0.1:9999/v1/' });
    assert.equal(
      vertexURL(input, vertexOptions(input), gemini, 'predict'),
      'http://127.0.0.1:9999/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.0-flash:predict',
    );
    // The adapter's default is a template, never an address.
    const tpl = makeInput({}, { node: NODE, baseURL: VERTEX_HOST_TEMPLATE });
    assert.match(vertexURL(tpl, vertexOptions(tpl), gemini, 'predict'), /^https:\/\/europe-west4-aiplatform\.googleapis\.com\/v1\//);
  });

  it("reads the project and region from Waygate's or Portkey's headers; the config wins", () => {
    const portkey = makeInput({}, { headers: { 'x-portkey-vertex-project-id': 'pk-proj', 'x-portkey-vertex-region': 'asia-northeast1' } });
    assert.deepEqual(vertexOptions(portkey), { project: 'pk-proj', region: 'asia-northeast1', serviceAccount: undefined });
    const own = makeInput(
      {},
      { headers: { 'x-waygate-vertex-project-id': 'wg-proj', 'x-portkey-vertex-project-id': 'pk-proj', 'x-waygate-vertex-region': 'us-east5' } },
    );
    assert.deepEqual(vertexOptions(own), { project: 'wg-proj', region: 'us-east5', serviceAccount: undefined });
    const both = makeInput({}, { node: NODE, headers: { 'x-portkey-vertex-project-id': 'pk-proj' } });
    assert.equal(vertexOptions(both).project, 'my-proj');
  });

  it('takes the project from the service account when none is given', () => {
    const input = makeInput({}, { node: { vertex_service_account_json: serviceAccountJson('https://oauth2.googleapis.com/token') } });
    const o = vertexOptions(input);
    assert.equal(o.project, 'sa-project');
    assert.equal(o.serviceAccount?.clientEmail, 'gateway@sa-project.iam.gserviceaccount.com');
  });

  it('says what is missing or malformed', () => {
    throwsGateway(
      () => vertexOptions(makeInput({}, { path: 'config.targets[1]' })),
      400,
      'invalid_config',
      /config\.targets\[1\]: vertex-ai needs vertex_project_id/,
    );
    throwsGateway(
      () => vertexOptions(makeInput({}, { node: { vertex_project_id: 'p', vertex_region: 'evil.com/x' } })),
      400,
      'invalid_config',
      /vertex_region/,
    );
    throwsGateway(() => vertexOptions(makeInput({}, { node: { vertex_project_id: 'p/../q' } })), 400, 'invalid_config', /vertex_project_id/);
  });

  it('reads a service account from the config (object or JSON text) or from either header', () => {
    const sa = serviceAccountJson('https://oauth2.googleapis.com/token');
    const a = serviceAccountOf(makeInput({}, { node: { vertex_service_account_json: sa } }));
    const b = serviceAccountOf(makeInput({}, { node: { vertex_service_account_json: JSON.stringify(sa) } }));
    const c = serviceAccountOf(makeInput({}, { headers: { 'x-portkey-vertex-service-account-json': JSON.stringify(sa) } }));
    const d = serviceAccountOf(makeInput({}, { headers: { 'x-waygate-vertex-service-account-json': JSON.stringify(sa) } }));
    assert.ok(a && b && c && d);
    assert.equal(new Set([a.id, b.id, c.id, d.id]).size, 1, 'the same account has one cache identity');
    assert.equal(serviceAccountOf(makeInput({})), undefined);
  });

  it("never sends the gateway's own service account to a host the request chose", () => {
    const sa = serviceAccountJson('https://oauth2.googleapis.com/token');
    // The file's routing (no config header) plus a request custom host: refused.
    const input = makeInput({}, { node: { vertex_service_account_json: sa }, headers: { 'x-waygate-custom-host': 'http://127.0.0.1:1/v1' } });
    throwsGateway(() => serviceAccountOf(input), 400, 'missing_credentials', /request-supplied custom host/);
    // The request's own config with its own account and host: fine.
    const own = makeInput(
      {},
      {
        node: { vertex_service_account_json: sa },
        headers: { 'x-waygate-custom-host': 'http://127.0.0.1:1/v1', 'x-waygate-config': '{}' },
      },
    );
    assert.ok(serviceAccountOf(own));
  });
});

describe('vertex-ai: access-token auth', () => {
  const provider = createVertexProvider();
  const chat = provider.endpoints['chat.completions']!;

  it("sends the target's key as the bearer token and never in the URL", () => {
    const req = chat.build(makeInput({ model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'Hi' }] }, { apiKey: 'ya29.abc', node: NODE }));
    assert.equal(req.headers.authorization, 'Bearer ya29.abc');
    assert.ok(!req.url.includes('ya29'));
    assert.equal(req.headers['x-goog-api-key'], undefined);
  });

  it('is a 401 without any credentials', () => {
    throwsGateway(() => chat.build(makeInput({ model: 'gemini-2.0-flash', messages: [] }, { node: NODE })), 401, 'missing_credentials', /access token/);
  });
});
