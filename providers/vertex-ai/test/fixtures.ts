// Recorded answers in Vertex AI's documented wire formats: Gemini GenerateContentResponse JSON and
// `streamGenerateContent?alt=sse` events, Claude (Anthropic on Vertex) Messages JSON and
// `streamRawPredict` SSE, text-embedding `predict` answers, and google.rpc / Anthropic error bodies.

export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

export const googleError = (code: number, status: string, message: string) => ({ error: { code, message, status } });

// ---------------------------------------------------------------- Gemini

/** One `alt=sse` event: a whole GenerateContentResponse (Vertex writes `data: …` and a blank line). */
export const geminiEvent = (obj: object): string => `data: ${JSON.stringify(obj)}\r\n\r\n`;
const usage = (p: number, c: number, extra: object = {}) => ({ promptTokenCount: p, candidatesTokenCount: c, totalTokenCount: p + c, ...extra });
const geminiText = (text: string, finishReason?: string, usageMetadata?: object) =>
  geminiEvent({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, ...(finishReason ? { finishReason } : {}) }],
    ...(usageMetadata ? { usageMetadata } : {}),
    modelVersion: 'gemini-2.0-flash-001',
    createTime: '2025-11-20T10:00:00.000000Z',
    responseId: 'vtx-resp-1',
  });

export const GEMINI_ANSWER = {
  candidates: [
    {
      content: { role: 'model', parts: [{ text: 'Hello!' }] },
      finishReason: 'STOP',
      avgLogprobs: -0.0123,
      safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE', probabilityScore: 0.02 }],
    },
  ],
  usageMetadata: {
    promptTokenCount: 19,
    candidatesTokenCount: 3,
    totalTokenCount: 27,
    cachedContentTokenCount: 4,
    thoughtsTokenCount: 5,
    trafficType: 'ON_DEMAND',
  },
  modelVersion: 'gemini-2.0-flash-001',
  createTime: '2025-11-20T10:00:00.000000Z',
  responseId: 'vtx-resp-0',
};

export const GEMINI_STREAM = [
  geminiText('Hel', undefined, usage(19, 1)),
  geminiText('lo, wörld', undefined, usage(19, 3)),
  geminiText(' 👋', undefined, usage(19, 4)),
  geminiText('!', 'STOP', usage(19, 5, { cachedContentTokenCount: 8 })),
];

export const GEMINI_TOOL_ANSWER = {
  candidates: [
    {
      content: {
        role: 'model',
        parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_weather', args: { city: 'Oslo' } } }],
      },
      finishReason: 'STOP',
    },
  ],
  usageMetadata: usage(60, 30),
  modelVersion: 'gemini-2.0-flash-001',
};

export const GEMINI_TOOL_STREAM = [
  geminiEvent({ candidates: [{ content: { role: 'model', parts: [{ text: '' }] } }], usageMetadata: usage(50, 0), modelVersion: 'gemini-2.0-flash-001' }),
  geminiEvent({
    candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] }, finishReason: 'STOP' }],
    usageMetadata: usage(50, 12),
    modelVersion: 'gemini-2.0-flash-001',
  }),
];

export const EMBED_ANSWER = {
  predictions: [
    { embeddings: { statistics: { truncated: false, token_count: 2 }, values: [0.1, 0.2, 0.3] } },
    { embeddings: { statistics: { truncated: false, token_count: 3 }, values: [0.4, 0.5, 0.6] } },
  ],
  metadata: { billableCharacterCount: 6 },
};

// ---------------------------------------------------------------- Claude on Vertex

/** One SSE frame as `streamRawPredict` writes it: a named event and its JSON data. */
export const claudeEvent = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

export const CLAUDE_ANSWER = {
  id: 'msg_vrtx_01XFDUDYJgAACzvnptvVoYEL',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text: 'Hello!' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 6 },
};

const claudeStart = (u: object) =>
  claudeEvent('message_start', {
    message: {
      model: 'claude-sonnet-4-5-20250929',
      id: 'msg_vrtx_014p7gG3wDgGV9EUtLvnow3U',
      type: 'message',
      role: 'assistant',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: u,
    },
  });

export const CLAUDE_STREAM = [
  claudeStart({ input_tokens: 19, cache_creation_input_tokens: 0, cache_read_input_tokens: 8, output_tokens: 1 }),
  claudeEvent('ping', {}),
  claudeEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  claudeEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Olá' } }),
  claudeEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ', wörld' } }),
  claudeEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: '!' } }),
  claudeEvent('content_block_stop', { index: 0 }),
  claudeEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } }),
  claudeEvent('message_stop', {}),
];

export const CLAUDE_TOOL_ANSWER = {
  id: 'msg_vrtx_01Aq9w938a90dw8q',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'text', text: 'I will check both.' },
    { type: 'tool_use', id: 'toolu_vrtx_01A09q90qw90lq917835lq9', name: 'get_weather', input: { city: 'Paris' } },
    { type: 'tool_use', id: 'toolu_vrtx_01B19q90qw90lq917835lq0', name: 'get_weather', input: { city: 'Oslo' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 100, output_tokens: 40, cache_creation_input_tokens: 20, cache_read_input_tokens: 300 },
};

export const CLAUDE_TOOL_STREAM = [
  claudeStart({ input_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 }),
  claudeEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  claudeEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Checking.' } }),
  claudeEvent('content_block_stop', { index: 0 }),
  claudeEvent('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_vrtx_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input: {} } }),
  claudeEvent('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '' } }),
  claudeEvent('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"ci' } }),
  claudeEvent('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: 'ty":"Paris"}' } }),
  claudeEvent('content_block_stop', { index: 1 }),
  claudeEvent('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 12 } }),
  claudeEvent('message_stop', {}),
];

export const anthropicError = (type: string, message: string) => ({ type: 'error', error: { type, message } });
