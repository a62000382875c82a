// Recorded in Cohere's documented v2 wire format (POST /v2/chat, its SSE stream, POST /v2/embed, errors).

export const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

/** One SSE frame as Cohere writes it: an `event:` line naming the type, and the JSON data. */
export const frame = (data: Record<string, unknown>) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;

export const USAGE = { billed_units: { input_tokens: 9, output_tokens: 4 }, tokens: { input_tokens: 215, output_tokens: 4 } };

export const TEXT_ANSWER = {
  id: 'c14c80c3-18eb-4519-9460-6c92edd8cfb4',
  finish_reason: 'COMPLETE',
  message: { role: 'assistant', content: [{ type: 'text', text: 'Hello!' }] },
  usage: { billed_units: { input_tokens: 9, output_tokens: 3 }, tokens: { input_tokens: 215, output_tokens: 3 } },
};

export const TOOL_ANSWER = {
  id: '0a2d5f6e-7b4e-4a6c-9c3a-5e8f1d2b3c4d',
  finish_reason: 'TOOL_CALL',
  message: {
    role: 'assistant',
    tool_plan: 'I will look up the weather in Paris and Oslo.',
    tool_calls: [
      { id: 'get_weather_1byjy32y4hvq', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'get_weather_8bh2pv9xrs2c', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
    ],
  },
  usage: { billed_units: { input_tokens: 37, output_tokens: 28 }, tokens: { input_tokens: 912, output_tokens: 80 } },
};

export const TEXT_STREAM = [
  frame({ id: '29f14a5a-11de-4cae-9800-25e4747408ea', type: 'message-start', delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } }),
  frame({ type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } }),
  frame({ type: 'content-delta', index: 0, delta: { message: { content: { text: 'Hel' } } } }),
  frame({ type: 'content-delta', index: 0, delta: { message: { content: { text: 'lo, wörld' } } } }),
  frame({ type: 'content-delta', index: 0, delta: { message: { content: { text: '!' } } } }),
  frame({ type: 'content-end', index: 0 }),
  frame({ type: 'message-end', delta: { finish_reason: 'COMPLETE', usage: USAGE } }),
];

export const TOOL_STREAM = [
  frame({ id: '5b2d4a1e-0c9f-4e1b-8f7a-3c2d1e0f9a8b', type: 'message-start', delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } }),
  frame({ type: 'tool-plan-delta', delta: { message: { tool_plan: 'I will check' } } }),
  frame({ type: 'tool-plan-delta', delta: { message: { tool_plan: ' the weather.' } } }),
  frame({ type: 'tool-call-start', index: 0, delta: { message: { tool_calls: { id: 'get_weather_nsz5zm3w56q3', type: 'function', function: { name: 'get_weather', arguments: '' } } } } }),
  frame({ type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: '{"ci' } } } } }),
  frame({ type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: 'ty":"Paris"}' } } } } }),
  frame({ type: 'tool-call-end', index: 0 }),
  frame({ type: 'message-end', delta: { finish_reason: 'TOOL_CALL', usage: { billed_units: { input_tokens: 37, output_tokens: 21 }, tokens: { input_tokens: 900, output_tokens: 50 } } } }),
];

export const EMBED_ANSWER = {
  id: 'da6e531f-83c4-4a6f-9c29-1a1d1a2e1f3b',
  embeddings: { float: [[0.016296387, -0.008354187, -0.04699707], [0.02178955, 0.01171875, -0.02319336]] },
  texts: ['hello', 'goodbye'],
  meta: { api_version: { version: '2' }, billed_units: { input_tokens: 2 } },
  response_type: 'embeddings_by_type',
};

export const RATE_LIMITED = { id: 'b1f3c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d', message: "You are using a Trial key, which is limited to 10 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at 'https://dashboard.cohere.com/api-keys'." };
export const INVALID = { id: 'f2e3d4c5-b6a7-4890-1234-56789abcdef0', message: "invalid request: model 'command-x' not found, make sure the correct model ID was used and that you have access to the model." };
export const UNAUTHORIZED = { id: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', message: 'invalid api token' };
export const SERVER_ERROR = { id: '9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4', message: 'internal server error, this has been reported to our developers' };
export const UNAVAILABLE = { message: 'service unavailable' };
