// Bedrock answers in their documented wire format: Converse JSON, ConverseStream event-stream frames, errors.
import { encodeEvent } from '../src/eventstream.js';

export const MODEL = 'us.anthropic.claude-3-5-sonnet-20241022-v2:0';
export const MODEL_PATH = '/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0';

export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

export const TEXT_ANSWER = {
  output: { message: { role: 'assistant', content: [{ text: 'Hello!' }] } },
  stopReason: 'end_turn',
  usage: { inputTokens: 12, outputTokens: 6, totalTokens: 18 },
  metrics: { latencyMs: 412 },
};

export const TOOL_ANSWER = {
  output: {
    message: {
      role: 'assistant',
      content: [
        { text: 'I will check both.' },
        { toolUse: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'get_weather', input: { city: 'Paris' } } },
        { toolUse: { toolUseId: 'tooluse_5GIl7QkZJMlvQmRJ6eAyJE', name: 'get_weather', input: { city: 'Oslo' } } },
      ],
    },
  },
  stopReason: 'tool_use',
  usage: { inputTokens: 120, outputTokens: 40, totalTokens: 460, cacheReadInputTokens: 300, cacheWriteInputTokens: 0 },
  metrics: { latencyMs: 900 },
};

/** A ConverseStream transcript, one Uint8Array per frame (the kit writes them as recorded or byte by byte). */
export const TEXT_STREAM: Uint8Array[] = [
  encodeEvent('messageStart', { p: 'abcd', role: 'assistant' }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello' }, p: 'abcdefgh' }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: ', wörld!' }, p: 'ab' }),
  encodeEvent('contentBlockStop', { contentBlockIndex: 0, p: 'abcdefghijk' }),
  encodeEvent('messageStop', { p: 'abcdefghijklmnopq', stopReason: 'end_turn' }),
  encodeEvent('metadata', {
    metrics: { latencyMs: 380 },
    p: 'abc',
    usage: { inputTokens: 19, outputTokens: 4, totalTokens: 31, cacheReadInputTokens: 8, cacheWriteInputTokens: 0 },
  }),
];

export const TOOL_STREAM: Uint8Array[] = [
  encodeEvent('messageStart', { p: 'abcd', role: 'assistant' }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Checking.' }, p: 'abc' }),
  encodeEvent('contentBlockStop', { contentBlockIndex: 0, p: 'abc' }),
  encodeEvent('contentBlockStart', { contentBlockIndex: 1, p: 'ab', start: { toolUse: { name: 'get_weather', toolUseId: 'tooluse_abc123' } } }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"ci' } }, p: 'a' }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: 'ty": "Par' } }, p: 'a' }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: 'is"}' } }, p: 'a' }),
  encodeEvent('contentBlockStop', { contentBlockIndex: 1, p: 'abc' }),
  encodeEvent('messageStop', { p: 'abcd', stopReason: 'tool_use' }),
  encodeEvent('metadata', { metrics: { latencyMs: 500 }, p: 'a', usage: { inputTokens: 50, outputTokens: 12, totalTokens: 62 } }),
];

export const STREAM_HEADERS = { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': '6c9a1d2e-0000-4b0c-9d5c-1a2b3c4d5e6f' };

const errHeaders = (type: string) => ({ 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, 'x-amzn-requestid': 'b2a5-e1' });

export const THROTTLED = { status: 429, headers: errHeaders('ThrottlingException'), body: { message: 'Too many requests, please wait before trying again.' } };
export const VALIDATION = {
  status: 400,
  headers: errHeaders('ValidationException'),
  body: { message: 'The model returned the following errors: messages: roles must alternate between "user" and "assistant"' },
};
export const ACCESS_DENIED = {
  status: 403,
  headers: errHeaders('AccessDeniedException'),
  body: { message: "You don't have access to the model with the specified model ID." },
};
export const UNAVAILABLE = { status: 503, headers: errHeaders('ServiceUnavailableException'), body: { message: 'Bedrock is unable to process your request.' } };
export const INTERNAL = { status: 500, headers: errHeaders('InternalServerException'), body: { message: 'The server encountered an internal error' } };
