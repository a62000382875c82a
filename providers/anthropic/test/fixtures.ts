// Recorded answers in Anthropic's documented Messages API wire format (JSON answers, SSE transcripts, errors).

/** One SSE frame as Anthropic writes it: a named event and its JSON data. */
export const sse = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

export const TEXT_ANSWER = {
  id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text: 'Hello!' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 12, output_tokens: 6, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
};

export const TOOL_ANSWER = {
  id: 'msg_01Aq9w938a90dw8q',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'thinking', thinking: 'The user wants two cities.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' },
    { type: 'text', text: 'I will check both.' },
    { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { city: 'Paris' } },
    { type: 'tool_use', id: 'toolu_01B19q90qw90lq917835lq0', name: 'get_weather', input: { city: 'Oslo' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 100, output_tokens: 40, cache_creation_input_tokens: 20, cache_read_input_tokens: 300 },
};

const START = (usage: object) =>
  sse('message_start', {
    message: {
      id: 'msg_014p7gG3wDgGV9EUtLvnow3U',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  });

/** A text answer: message_start, a ping, one text block in three deltas, message_delta, message_stop. */
export const TEXT_STREAM = [
  START({ input_tokens: 19, cache_creation_input_tokens: 0, cache_read_input_tokens: 8, output_tokens: 1 }),
  sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  sse('ping', {}),
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hel' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'lo, wörld' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: '!' } }),
  sse('content_block_stop', { index: 0 }),
  sse('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } }),
  sse('message_stop', {}),
];

/** Thinking (with its signature), text and a tool_use block whose input arrives in pieces. */
export const TOOL_STREAM = [
  START({ input_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 }),
  sse('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Paris, so ' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'call the tool.' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' } }),
  sse('content_block_stop', { index: 0 }),
  sse('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
  sse('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Checking.' } }),
  sse('content_block_stop', { index: 1 }),
  sse('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input: {} } }),
  sse('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '' } }),
  sse('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"ci' } }),
  sse('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: 'ty":"Paris"}' } }),
  sse('content_block_stop', { index: 2 }),
  sse('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 12 } }),
  sse('message_stop', {}),
];

export const OVERLOADED = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
export const RATE_LIMITED = { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } };
export const INVALID = { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } };
export const UNAUTHORIZED = { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } };
export const API_ERROR = { type: 'error', error: { type: 'api_error', message: 'Internal server error' } };
