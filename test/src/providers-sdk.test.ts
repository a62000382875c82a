// End to end for the translating providers: the official `openai` SDK → the real gateway (default
// plugins, no config file) → a fake Azure OpenAI, Cohere v2, Gemini, Bedrock or Vertex AI (Gemini and
// Claude models) upstream on loopback that speaks that provider's own wire format
// (src/fakes/provider-upstreams.ts). Every provider plays the same script, so the same assertions
// hold for all of them: answers, streams, tool calls, embeddings, usage and errors as an OpenAI
// client sees them, and the request as the provider got it.
import { expect } from 'chai';
import OpenAI, { APIError, AuthenticationError, BadRequestError, PermissionDeniedError, RateLimitError } from 'openai';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import {
  FakeUpstream,
  azureHandler,
  bedrockError,
  bedrockHandler,
  cohereHandler,
  geminiHandler,
  googleError,
  vectorFor,
  vertexHandler,
} from './fakes/index.js';
import type { Handler, Received, Reply, Script } from './fakes/index.js';

const SCRIPT: Script = {
  pieces: ['Grüße', ' from the', ' fake up', 'stream ☀.'],
  tool: { id: 'call_w8dKx2Lq', name: 'get_weather', args: ['{"ci', 'ty": "Par', 'is", "unit": "cel', 'sius"}'] },
  afterTool: 'It is 18 °C in Paris.',
};
const ANSWER = SCRIPT.pieces.join('');
const ARGS = { city: 'Paris', unit: 'celsius' };
const TOOL_RESULT = '{"temperature":18}';
const SYSTEM = 'Answer in one sentence.';
const QUESTION = 'What is the weather in Paris?';
const MAX_TOKENS = 321;
const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
    },
  },
};
const MESSAGES: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'system', content: SYSTEM },
  { role: 'user', content: QUESTION },
];
const TOOL_TURN: OpenAI.ChatCompletionMessageParam[] = [
  ...MESSAGES,
  {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: SCRIPT.tool.id, type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(ARGS) } }],
  },
  { role: 'tool', tool_call_id: SCRIPT.tool.id, content: TOOL_RESULT },
];

interface Usage {
  prompt: number;
  completion: number;
  total: number;
  cached?: number;
}

const usageOf = (u: OpenAI.CompletionUsage | null | undefined): Usage | undefined =>
  u ? { prompt: u.prompt_tokens, completion: u.completion_tokens, total: u.total_tokens, cached: u.prompt_tokens_details?.cached_tokens } : undefined;

type ErrorClass = typeof APIError<number, Headers>;

interface ProviderCase {
  name: string;
  /** The fake's handler (each plays SCRIPT and answers with the provider's native usage). */
  handler: Handler;
  /** The routing config (sent in x-waygate-config) for a fake at `url`, and the bearer the SDK sends. */
  config(url: string): Record<string, unknown>;
  clientKey: string;
  model: string;
  /** The provider's embeddings, or undefined for a model family that has none (the gateway refuses before any upstream call). */
  embeddings?: {
    model: string;
    /** What embeddings.create gets: Bedrock's Titan embeds one input per request. */
    input: string | string[];
    tokens: number;
    check(req: Received, inputs: string[]): void;
  };
  /** The provider's native usage, as OpenAI usage. */
  usage: Usage;
  /** The id an OpenAI client sees for the tool call, and whether the provider streams its arguments in pieces. */
  toolId: string;
  streamsArgs: boolean;
  /** A 429 in the provider's own error shape, and the message it carries. */
  rateLimit: { reply: Reply; message: string };
  /** A config whose credentials the provider refuses, and what the SDK then throws. */
  wrongCredentials: { config(url: string): Record<string, unknown>; clientKey: string; error: ErrorClass; status: number; message: string };
  /** The upstream request of a chat call: path, auth and the translated body. */
  checkChat(req: Received, kind: { stream: boolean; tools: boolean }): void;
  /** How the assistant's tool call and the tool result went upstream. */
  checkToolTurn(req: Received): void;
}

// ------------------------------------------------------------------------------------------ Azure

const AZURE_KEY = 'az-0123456789abcdef0123456789abcdef';
const AZURE_MSG =
  'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 2 seconds.';
const azure: ProviderCase = {
  name: 'Azure OpenAI',
  handler: azureHandler(
    SCRIPT,
    {
      prompt_tokens: 25,
      completion_tokens: 7,
      total_tokens: 32,
      prompt_tokens_details: { audio_tokens: 0, cached_tokens: 16 },
      completion_tokens_details: { accepted_prediction_tokens: 0, audio_tokens: 0, reasoning_tokens: 0, rejected_prediction_tokens: 0 },
    },
    { key: AZURE_KEY, embedTokens: 7 },
  ),
  // No deployment_id: the model names the deployment, so chat and embeddings reach their own.
  config: (url) => ({ provider: 'azure-openai', custom_host: url, api_version: '2024-10-21' }),
  clientKey: AZURE_KEY,
  model: 'gpt-4o-prod',
  embeddings: {
    model: 'embed-small-prod',
    input: ['first input text', 'the second'],
    tokens: 7,
    check(req, inputs) {
      expect(req.pathname).to.equal('/openai/deployments/embed-small-prod/embeddings');
      expect(req.query.get('api-version')).to.equal('2024-10-21');
      expect(req.headers['api-key']).to.equal(AZURE_KEY);
      expect(req.body!.input).to.deep.equal(inputs);
    },
  },
  usage: { prompt: 25, completion: 7, total: 32, cached: 16 },
  toolId: SCRIPT.tool.id,
  streamsArgs: true,
  rateLimit: { reply: { status: 429, headers: { 'retry-after': '2' }, json: { error: { code: '429', message: AZURE_MSG } } }, message: AZURE_MSG },
  wrongCredentials: {
    config: (url) => ({ provider: 'azure-openai', custom_host: url, api_version: '2024-10-21' }),
    clientKey: 'az-wrong-key',
    error: AuthenticationError,
    status: 401,
    message: 'Access denied due to invalid subscription key or wrong API endpoint.',
  },
  checkChat(req, { stream, tools }) {
    expect(req.pathname).to.equal('/openai/deployments/gpt-4o-prod/chat/completions');
    expect(req.query.get('api-version')).to.equal('2024-10-21');
    expect(req.headers['api-key']).to.equal(AZURE_KEY);
    expect(req.headers).to.not.have.property('authorization');
    // OpenAI's format, passed through: system stays a message, max_tokens as sent.
    expect(req.body!.messages).to.deep.equal(MESSAGES);
    expect(req.body!.max_tokens).to.equal(MAX_TOKENS);
    expect(req.body!.stream).to.equal(stream ? true : undefined);
    if (tools) expect(req.body!.tools).to.deep.equal([WEATHER_TOOL]);
  },
  checkToolTurn(req) {
    expect(req.body!.messages).to.deep.equal(TOOL_TURN);
  },
};

// ------------------------------------------------------------------------------------------ Cohere

const COHERE_KEY = 'co-config-key-4f9b2c7e1d';
const COHERE_MSG = 'You are using a Trial key, which is limited to 10 API calls / minute.';
const cohere: ProviderCase = {
  name: 'Cohere (v2)',
  handler: cohereHandler(
    SCRIPT,
    { billed_units: { input_tokens: 9, output_tokens: 7 }, tokens: { input_tokens: 215, output_tokens: 7 }, cached_tokens: 128 },
    { key: COHERE_KEY, embedTokens: 5 },
  ),
  // The key comes from the config: the SDK's bearer must not reach Cohere.
  config: (url) => ({ provider: 'cohere', api_key: COHERE_KEY, custom_host: `${url}/v2` }),
  clientKey: 'sk-client-bearer-not-for-cohere',
  model: 'command-a-03-2025',
  embeddings: {
    model: 'embed-v4.0',
    input: ['first input text', 'the second'],
    tokens: 5,
    check(req, inputs) {
      expect(req.pathname).to.equal('/v2/embed');
      expect(req.headers.authorization).to.equal(`Bearer ${COHERE_KEY}`);
      expect(req.body).to.deep.equal({ model: 'embed-v4.0', texts: inputs, input_type: 'search_document', embedding_types: ['float'] });
    },
  },
  usage: { prompt: 215, completion: 7, total: 222, cached: 128 },
  toolId: SCRIPT.tool.id,
  streamsArgs: true,
  rateLimit: { reply: { status: 429, json: { id: 'b1f3c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d', message: COHERE_MSG } }, message: COHERE_MSG },
  wrongCredentials: {
    config: (url) => ({ provider: 'cohere', api_key: 'co-revoked-key', custom_host: `${url}/v2` }),
    clientKey: 'sk-client-bearer-not-for-cohere',
    error: AuthenticationError,
    status: 401,
    message: 'invalid api token',
  },
  checkChat(req, { stream, tools }) {
    expect(req.pathname).to.equal('/v2/chat');
    expect(req.headers.authorization).to.equal(`Bearer ${COHERE_KEY}`);
    expect(req.headers.accept).to.equal(stream ? 'text/event-stream' : 'application/json');
    expect(req.body!.model).to.equal('command-a-03-2025');
    expect(req.body!.messages).to.deep.equal([
      { role: 'system', content: SYSTEM },
      { role: 'user', content: QUESTION },
    ]);
    expect(req.body!.max_tokens).to.equal(MAX_TOKENS);
    expect(req.body!.stream).to.equal(stream ? true : undefined);
    if (tools) expect(req.body!.tools).to.deep.equal([WEATHER_TOOL]);
  },
  checkToolTurn(req) {
    expect(req.body!.messages.slice(2)).to.deep.equal([
      { role: 'assistant', tool_calls: [{ id: SCRIPT.tool.id, type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(ARGS) } }] },
      { role: 'tool', tool_call_id: SCRIPT.tool.id, content: TOOL_RESULT },
    ]);
  },
};

// ------------------------------------------------------------------------------------------ Gemini

const GEMINI_KEY = 'AIzaSyD-fake-gemini-key-0123456789';
const GEMINI_MSG = 'Resource has been exhausted (e.g. check quota).';
const gemini: ProviderCase = {
  name: 'Google Gemini',
  handler: geminiHandler(
    SCRIPT,
    {
      promptTokenCount: 40,
      candidatesTokenCount: 6,
      thoughtsTokenCount: 3,
      totalTokenCount: 49,
      cachedContentTokenCount: 32,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 40 }],
    },
    { key: GEMINI_KEY },
  ),
  config: (url) => ({ provider: 'google', custom_host: `${url}/v1beta` }),
  clientKey: GEMINI_KEY,
  model: 'gemini-2.5-flash',
  embeddings: {
    model: 'text-embedding-004',
    input: ['first input text', 'the second'],
    tokens: 0,
    check(req, inputs) {
      expect(req.pathname).to.equal('/v1beta/models/text-embedding-004:batchEmbedContents');
      expect(req.headers['x-goog-api-key']).to.equal(GEMINI_KEY);
      expect(req.body).to.deep.equal({ requests: inputs.map((text) => ({ model: 'models/text-embedding-004', content: { parts: [{ text }] } })) });
    },
  },
  // Thoughts count as completion tokens; cached tokens are part of the prompt.
  usage: { prompt: 40, completion: 9, total: 49, cached: 32 },
  // Gemini's function calls carry no id: the adapter numbers them.
  toolId: 'call_0',
  streamsArgs: false,
  rateLimit: { reply: { status: 429, json: { error: { code: 429, message: GEMINI_MSG, status: 'RESOURCE_EXHAUSTED' } } }, message: GEMINI_MSG },
  wrongCredentials: {
    config: (url) => ({ provider: 'google', custom_host: `${url}/v1beta` }),
    clientKey: 'AIza-wrong',
    error: BadRequestError,
    status: 400,
    message: 'API key not valid. Please pass a valid API key.',
  },
  checkChat(req, { stream, tools }) {
    expect(req.pathname).to.equal(`/v1beta/models/gemini-2.5-flash:${stream ? 'streamGenerateContent' : 'generateContent'}`);
    expect(req.headers['x-goog-api-key']).to.equal(GEMINI_KEY);
    expect(req.headers).to.not.have.property('authorization');
    checkGeminiChat(req, stream, tools);
  },
  checkToolTurn: checkGeminiToolTurn,
};

/** A chat request in Gemini's format (the Gemini API's and Vertex AI's alike). */
function checkGeminiChat(req: Received, stream: boolean, tools: boolean): void {
  expect(req.query.get('alt')).to.equal(stream ? 'sse' : null);
  expect(req.body!.systemInstruction).to.deep.equal({ parts: [{ text: SYSTEM }] });
  expect(req.body!.contents).to.deep.equal([{ role: 'user', parts: [{ text: QUESTION }] }]);
  expect(req.body!.generationConfig).to.deep.equal({ maxOutputTokens: MAX_TOKENS });
  expect(req.body).to.not.have.property('stream');
  if (tools) expect(req.body!.tools).to.deep.equal([{ functionDeclarations: [WEATHER_TOOL.function] }]);
}

function checkGeminiToolTurn(req: Received): void {
  expect(req.body!.contents.slice(1)).to.deep.equal([
    { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: ARGS } }] },
    { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: { temperature: 18 } } } }] },
  ]);
}

// ------------------------------------------------------------------------------------------ Bedrock

const AWS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//token+/=',
};
const BEDROCK_MSG = 'Too many requests, please wait before trying again.';
const bedrockConfig = (url: string, secret = AWS.secretAccessKey) => ({
  provider: 'bedrock',
  custom_host: url,
  aws_access_key_id: AWS.accessKeyId,
  aws_secret_access_key: secret,
  aws_session_token: AWS.sessionToken,
  aws_region: 'eu-west-1',
});
const bedrock: ProviderCase = {
  name: 'AWS Bedrock',
  handler: bedrockHandler(
    SCRIPT,
    { inputTokens: 12, outputTokens: 6, totalTokens: 318, cacheReadInputTokens: 280, cacheWriteInputTokens: 20 },
    { creds: AWS, embedTokens: 4 },
  ),
  config: (url) => bedrockConfig(url),
  clientKey: 'sk-client-bearer-not-for-aws',
  model: 'anthropic.claude-3-5-sonnet-20241022-v2:0',
  embeddings: {
    model: 'amazon.titan-embed-text-v2:0',
    input: 'one input text',
    tokens: 4,
    check(req, inputs) {
      expect(req.pathname).to.equal('/model/amazon.titan-embed-text-v2%3A0/invoke');
      expect(req.headers.authorization).to.match(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/bedrock\/aws4_request, /);
      expect(req.body).to.deep.equal({ inputText: inputs[0], normalize: true });
    },
  },
  // Cache reads and writes are prompt tokens; reads are the cached ones.
  usage: { prompt: 312, completion: 6, total: 318, cached: 280 },
  toolId: SCRIPT.tool.id,
  streamsArgs: true,
  rateLimit: { reply: bedrockError(429, 'ThrottlingException', BEDROCK_MSG), message: `ThrottlingException: ${BEDROCK_MSG}` },
  wrongCredentials: {
    config: (url) => bedrockConfig(url, 'not-the-secret'),
    clientKey: 'sk-client-bearer-not-for-aws',
    error: PermissionDeniedError,
    status: 403,
    message: 'InvalidSignatureException: The request signature we calculated does not match the signature you provided.',
  },
  checkChat(req, { stream, tools }) {
    // The model id's colon is percent-encoded in the path (and signed encoded twice, which the fake checks).
    expect(req.pathname).to.equal(`/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/${stream ? 'converse-stream' : 'converse'}`);
    expect(req.headers.authorization).to.match(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${AWS.accessKeyId}/\\d{8}/eu-west-1/bedrock/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$`,
      ),
    );
    expect(req.headers['x-amz-date']).to.match(/^\d{8}T\d{6}Z$/);
    expect(req.headers['x-amz-security-token']).to.equal(AWS.sessionToken);
    expect(req.body!.system).to.deep.equal([{ text: SYSTEM }]);
    expect(req.body!.messages).to.deep.equal([{ role: 'user', content: [{ text: QUESTION }] }]);
    expect(req.body!.inferenceConfig).to.deep.equal({ maxTokens: MAX_TOKENS });
    expect(req.body).to.not.have.property('stream');
    if (tools) {
      const f = WEATHER_TOOL.function;
      expect(req.body!.toolConfig).to.deep.equal({
        tools: [{ toolSpec: { name: f.name, description: f.description, inputSchema: { json: f.parameters } } }],
      });
    }
  },
  checkToolTurn(req) {
    expect(req.body!.messages.slice(1)).to.deep.equal([
      { role: 'assistant', content: [{ toolUse: { toolUseId: SCRIPT.tool.id, name: 'get_weather', input: ARGS } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: SCRIPT.tool.id, content: [{ text: TOOL_RESULT }] } }] },
    ]);
  },
};

// ------------------------------------------------------------------------------------------ Vertex AI

const VERTEX_TOKEN = 'ya29.a0AfB_fake-vertex-access-token-0123456789';
const VERTEX_PROJECT = 'waygate-e2e';
const VERTEX_REGION = 'europe-west4';
const VERTEX_GEMINI_USAGE = {
  promptTokenCount: 52,
  candidatesTokenCount: 8,
  thoughtsTokenCount: 4,
  totalTokenCount: 64,
  cachedContentTokenCount: 16,
  trafficType: 'ON_DEMAND',
  promptTokensDetails: [{ modality: 'TEXT', tokenCount: 52 }],
  candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: 8 }],
};
const VERTEX_CLAUDE_USAGE = { input_tokens: 14, cache_creation_input_tokens: 10, cache_read_input_tokens: 200, output_tokens: 9 };
const vertexConfig = (url: string) => ({
  provider: 'vertex-ai',
  custom_host: `${url}/v1`,
  vertex_project_id: VERTEX_PROJECT,
  vertex_region: VERTEX_REGION,
});
const vertexPath = (publisher: string, model: string, method: string) =>
  `/v1/projects/${VERTEX_PROJECT}/locations/${VERTEX_REGION}/publishers/${publisher}/models/${model}:${method}`;
/** One Vertex fake (both publishers), one access token. */
const vertexFake = vertexHandler(SCRIPT, { gemini: VERTEX_GEMINI_USAGE, claude: VERTEX_CLAUDE_USAGE }, { token: VERTEX_TOKEN });
const VERTEX_AUTH_MSG = 'Request had invalid authentication credentials. Expected OAuth 2 access token';

/** What Vertex AI cases share: the fake, access-token auth (the SDK's bearer), its refusal, a 429 in google.rpc's shape. */
function vertexCase(
  c: Pick<ProviderCase, 'name' | 'model' | 'embeddings' | 'usage' | 'toolId' | 'streamsArgs' | 'checkChat' | 'checkToolTurn'> & { quotaMessage: string },
): ProviderCase {
  const { quotaMessage, ...rest } = c;
  return {
    ...rest,
    handler: vertexFake,
    config: vertexConfig,
    clientKey: VERTEX_TOKEN,
    rateLimit: { reply: googleError(429, 'RESOURCE_EXHAUSTED', quotaMessage), message: quotaMessage },
    wrongCredentials: { config: vertexConfig, clientKey: 'ya29.expired-token', error: AuthenticationError, status: 401, message: VERTEX_AUTH_MSG },
  };
}

/** The access token went upstream as a bearer token, and nothing else did. */
function checkVertexAuth(req: Received): void {
  expect(req.headers.authorization).to.equal(`Bearer ${VERTEX_TOKEN}`);
  expect(req.headers).to.not.have.property('x-goog-api-key');
  expect(req.url).to.not.include(VERTEX_TOKEN);
}

const vertexGemini = vertexCase({
  name: 'Google Vertex AI (Gemini)',
  model: 'gemini-2.5-flash',
  embeddings: {
    model: 'text-embedding-005',
    input: ['first input text', 'the second'],
    tokens: 5, // the fake's per-text token counts (3 + 2), summed
    check(req, inputs) {
      expect(req.pathname).to.equal(vertexPath('google', 'text-embedding-005', 'predict'));
      checkVertexAuth(req);
      expect(req.body).to.deep.equal({ instances: inputs.map((content) => ({ content })) });
    },
  },
  // As on the Gemini API: thoughts are completion tokens, cached tokens part of the prompt.
  usage: { prompt: 52, completion: 12, total: 64, cached: 16 },
  toolId: 'call_0',
  streamsArgs: false,
  quotaMessage:
    'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.',
  checkChat(req, { stream, tools }) {
    expect(req.pathname).to.equal(vertexPath('google', 'gemini-2.5-flash', stream ? 'streamGenerateContent' : 'generateContent'));
    checkVertexAuth(req);
    checkGeminiChat(req, stream, tools);
  },
  checkToolTurn: checkGeminiToolTurn,
});

const vertexClaude = vertexCase({
  name: 'Google Vertex AI (Claude)',
  model: 'claude-sonnet-4-5@20250929',
  // Claude on Vertex has no embeddings.
  embeddings: undefined,
  // Cache reads and writes are prompt tokens; reads are the cached ones.
  usage: { prompt: 224, completion: 9, total: 233, cached: 200 },
  toolId: SCRIPT.tool.id,
  streamsArgs: true,
  quotaMessage:
    'Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base model: anthropic-claude-sonnet-4-5. Please submit a quota increase request.',
  checkChat(req, { stream, tools }) {
    expect(req.pathname).to.equal(vertexPath('anthropic', 'claude-sonnet-4-5@20250929', stream ? 'streamRawPredict' : 'rawPredict'));
    checkVertexAuth(req);
    expect(req.headers).to.not.have.property('x-api-key');
    expect(req.headers).to.not.have.property('anthropic-version');
    // Anthropic's Messages body, with the model in the URL and Vertex's anthropic_version in the body.
    expect(req.body).to.not.have.property('model');
    expect(req.body!.anthropic_version).to.equal('vertex-2023-10-16');
    expect(req.body!.system).to.equal(SYSTEM);
    expect(req.body!.messages).to.deep.equal([{ role: 'user', content: QUESTION }]);
    expect(req.body!.max_tokens).to.equal(MAX_TOKENS);
    expect(req.body!.stream).to.equal(stream ? true : undefined);
    const f = WEATHER_TOOL.function;
    if (tools) expect(req.body!.tools).to.deep.equal([{ name: f.name, description: f.description, input_schema: f.parameters }]);
  },
  checkToolTurn(req) {
    expect(req.body!.messages.slice(1)).to.deep.equal([
      { role: 'assistant', content: [{ type: 'tool_use', id: SCRIPT.tool.id, name: 'get_weather', input: ARGS }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: SCRIPT.tool.id, content: TOOL_RESULT }] },
    ]);
  },
});

// ------------------------------------------------------------------------------------------ helpers

/** The error a promise rejects with; fails the test if it resolves. */
async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  expect.fail('expected the call to fail, but it succeeded');
}

interface Assembled {
  role?: string;
  text: string;
  contentChunks: number;
  finish: string[];
  calls: Map<number, { id?: string; type?: string; name?: string; args: string; fragments: number }>;
}

/** Puts a streamed completion back together the way a client does, chunk by chunk. */
function assemble(chunks: OpenAI.ChatCompletionChunk[]): Assembled {
  const out: Assembled = { text: '', contentChunks: 0, finish: [], calls: new Map() };
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      expect(choice.index).to.equal(0);
      const d = choice.delta;
      if (d.role) out.role ??= d.role;
      if (d.content) {
        out.text += d.content;
        out.contentChunks++;
      }
      for (const tc of d.tool_calls ?? []) {
        const call = out.calls.get(tc.index) ?? { args: '', fragments: 0 };
        if (tc.id) call.id = tc.id;
        if (tc.type) call.type = tc.type;
        if (tc.function?.name) call.name = tc.function.name;
        if (tc.function?.arguments) {
          call.args += tc.function.arguments;
          call.fragments++;
        }
        out.calls.set(tc.index, call);
      }
      if (choice.finish_reason) out.finish.push(choice.finish_reason);
    }
  }
  return out;
}

/** The stream's framing: one completion id, chunk objects, and the usage alone in a last chunk with no choices. */
function expectUsageLast(chunks: OpenAI.ChatCompletionChunk[], usage: Usage): void {
  expect(chunks.length).to.be.greaterThan(2);
  expect(new Set(chunks.map((c) => c.id)).size, 'one completion id').to.equal(1);
  expect(chunks.every((c) => c.object === 'chat.completion.chunk')).to.equal(true);
  const last = chunks.at(-1)!;
  expect(last.choices).to.deep.equal([]);
  expect(usageOf(last.usage)).to.deep.equal(usage);
  expect(
    chunks.slice(0, -1).filter((c) => c.usage),
    'usage before the last chunk',
  ).to.deep.equal([]);
}

// ------------------------------------------------------------------------------------------ the suite

describe('providers end to end: OpenAI SDK → gateway → fake Azure OpenAI, Cohere, Gemini, Bedrock and Vertex AI upstreams', function () {
  this.timeout(20_000);
  let gw: Gateway;

  before(async () => {
    gw = await startGateway({ port: 0, logger: createLogger({ level: 'silent' }), env: {} });
  });
  after(async () => {
    await gw?.close(0);
  });

  for (const c of [azure, cohere, gemini, bedrock, vertexGemini, vertexClaude]) {
    describe(c.name, function () {
      let fake: FakeUpstream;

      before(async () => {
        fake = await FakeUpstream.start(c.handler);
      });
      after(async () => {
        await fake?.close();
      });
      beforeEach(() => fake.reset());

      const client = (config = c.config(fake.url), apiKey = c.clientKey) =>
        new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: { 'x-waygate-config': JSON.stringify(config) } });
      const params = { model: c.model, max_tokens: MAX_TOKENS, messages: MESSAGES };

      /** The one request the fake got. */
      function upstream(): Received {
        expect(
          fake.requests.map((r) => `${r.method} ${r.url}`),
          'requests that reached the fake',
        ).to.have.length(1);
        return fake.requests[0]!;
      }

      it("chat completion: content, finish_reason and usage; the request in the provider's format", async () => {
        const res = await client().chat.completions.create(params);
        expect(res.object).to.equal('chat.completion');
        expect(res.choices).to.have.length(1);
        expect(res.choices[0]!.message.role).to.equal('assistant');
        expect(res.choices[0]!.message.content).to.equal(ANSWER);
        expect(res.choices[0]!.message.tool_calls ?? []).to.deep.equal([]);
        expect(res.choices[0]!.finish_reason).to.equal('stop');
        expect(usageOf(res.usage)).to.deep.equal(c.usage);
        c.checkChat(upstream(), { stream: false, tools: false });
      });

      it('streamed chat completion: the text piece by piece, finish_reason stop, usage in the last chunk', async () => {
        const stream = await client().chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
        const chunks: OpenAI.ChatCompletionChunk[] = [];
        for await (const chunk of stream) chunks.push(chunk);
        const got = assemble(chunks);
        expect(got.role).to.equal('assistant');
        expect(got.text).to.equal(ANSWER);
        expect(got.contentChunks, 'one content chunk per upstream piece').to.equal(SCRIPT.pieces.length);
        expect(got.finish).to.deep.equal(['stop']);
        expect(got.calls.size).to.equal(0);
        expectUsageLast(chunks, c.usage);
        c.checkChat(upstream(), { stream: true, tools: false });
      });

      it("tool call: name, arguments and finish_reason tool_calls; the tool offered in the provider's format", async () => {
        const res = await client().chat.completions.create({ ...params, tools: [WEATHER_TOOL] });
        const choice = res.choices[0]!;
        expect(choice.finish_reason).to.equal('tool_calls');
        expect(choice.message.content).to.equal(null);
        expect(choice.message.tool_calls).to.have.length(1);
        const call = choice.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
        expect(call.id).to.equal(c.toolId);
        expect(call.type).to.equal('function');
        expect(call.function.name).to.equal('get_weather');
        expect(JSON.parse(call.function.arguments)).to.deep.equal(ARGS);
        expect(usageOf(res.usage)).to.deep.equal(c.usage);
        c.checkChat(upstream(), { stream: false, tools: true });
      });

      it("streamed tool call: arguments reassembled from their fragments, finish_reason tool_calls; the SDK's stream helper agrees", async () => {
        const stream = client().chat.completions.stream({ ...params, tools: [WEATHER_TOOL], stream_options: { include_usage: true } });
        const chunks: OpenAI.ChatCompletionChunk[] = [];
        for await (const chunk of stream) chunks.push(chunk);
        const got = assemble(chunks);
        expect(got.role).to.equal('assistant');
        expect(got.text).to.equal('');
        expect(got.finish).to.deep.equal(['tool_calls']);
        expect([...got.calls.keys()]).to.deep.equal([0]);
        const call = got.calls.get(0)!;
        expect(call).to.include({ id: c.toolId, type: 'function', name: 'get_weather' });
        expect(call.fragments).to.equal(c.streamsArgs ? SCRIPT.tool.args.length : 1);
        expect(JSON.parse(call.args)).to.deep.equal(ARGS);
        expectUsageLast(chunks, c.usage);

        // The SDK's own accumulator (which checks ids, types and indexes) builds the same message.
        const final = await stream.finalChatCompletion();
        expect(final.choices[0]!.finish_reason).to.equal('tool_calls');
        const msgCall = final.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
        expect(msgCall.id).to.equal(c.toolId);
        expect(msgCall.function.name).to.equal('get_weather');
        expect(JSON.parse(msgCall.function.arguments)).to.deep.equal(ARGS);
        c.checkChat(upstream(), { stream: true, tools: true });
      });

      it("a tool result goes back in the provider's format and the answer comes through", async () => {
        const res = await client().chat.completions.create({ ...params, messages: TOOL_TURN, tools: [WEATHER_TOOL] });
        expect(res.choices[0]!.message.content).to.equal(SCRIPT.afterTool);
        expect(res.choices[0]!.finish_reason).to.equal('stop');
        c.checkToolTurn(upstream());
      });

      const embed = c.embeddings;
      if (embed) {
        for (const encoding of ['the SDK default (base64)', 'float'] as const) {
          it(`embeddings, ${encoding}: the provider's vectors exactly, in order, with usage`, async () => {
            const inputs = typeof embed.input === 'string' ? [embed.input] : embed.input;
            const res = await client().embeddings.create({
              model: embed.model,
              input: embed.input,
              ...(encoding === 'float' ? { encoding_format: 'float' as const } : {}),
            });
            expect(res.object).to.equal('list');
            expect(res.data.map((d) => d.index)).to.deep.equal(inputs.map((_, i) => i));
            expect(res.data.map((d) => d.embedding)).to.deep.equal(inputs.map(vectorFor));
            expect(res.usage).to.deep.include({ prompt_tokens: embed.tokens, total_tokens: embed.tokens });
            embed.check(upstream(), inputs);
          });
        }
      } else {
        it('no embeddings for this model family: a 400 before any upstream call', async () => {
          const err = await rejection(client().embeddings.create({ model: c.model, input: 'some text' }));
          expect(err).to.be.instanceOf(BadRequestError);
          expect((err as BadRequestError).code).to.equal('unsupported_endpoint');
          expect(fake.requests).to.deep.equal([]);
        });
      }

      it("an upstream 429 in the provider's error shape → RateLimitError with the provider's message (JSON and streaming), not retried", async () => {
        fake.enqueue(c.rateLimit.reply);
        const err = await rejection(client().chat.completions.create(params));
        expect(err).to.be.instanceOf(RateLimitError);
        expect((err as RateLimitError).status).to.equal(429);
        expect((err as RateLimitError).message).to.include(c.rateLimit.message);
        upstream();

        fake.reset();
        fake.enqueue(c.rateLimit.reply);
        const streamErr = await rejection(client().chat.completions.create({ ...params, stream: true }));
        expect(streamErr).to.be.instanceOf(RateLimitError);
        expect((streamErr as RateLimitError).message).to.include(c.rateLimit.message);
        upstream();
      });

      it('credentials the provider refuses → its own auth error, with its message', async () => {
        const w = c.wrongCredentials;
        const err = await rejection(client(w.config(fake.url), w.clientKey).chat.completions.create(params));
        expect(err).to.be.instanceOf(w.error);
        expect((err as APIError).status).to.equal(w.status);
        expect((err as APIError).message).to.include(w.message);
        upstream();
      });
    });
  }
});
