// Recorded-shape wire fixtures: Anthropic's Messages API and OpenAI's chat completions, as each
// documents them (ids and signatures shortened).
import type { SSEEvent } from '@waygate/core';

/** One SSE frame as Anthropic writes it: `event: <type>` and the data line. */
export const frame = (type: string, data: string): string => `event: ${type}\ndata: ${data}\n\n`;

/** A streamed answer with a thinking block (and its signature), text, and a tool call whose input arrives in pieces. */
export const THINKING_TOOL_STREAM: string[] = [
  frame(
    'message_start',
    '{"type":"message_start","message":{"id":"msg_01XyZ","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":100,"output_tokens":1}}}',
  ),
  frame('ping', '{"type": "ping"}'),
  frame('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}'),
  frame('content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants the weather."}}'),
  frame('content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3h"}}'),
  frame('content_block_stop', '{"type":"content_block_stop","index":0}'),
  frame('content_block_start', '{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}'),
  frame('content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Let me check, wörld."}}'),
  frame('content_block_stop', '{"type":"content_block_stop","index":1}'),
  frame(
    'content_block_start',
    '{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{}}}',
  ),
  frame('content_block_delta', '{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}'),
  frame('content_block_delta', '{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": \\"Par"}}'),
  frame('content_block_delta', '{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"is\\"}"}}'),
  frame('content_block_stop', '{"type":"content_block_stop","index":2}'),
  frame('message_delta', '{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}'),
  frame('message_stop', '{"type":"message_stop"}'),
];

/** The Message the stream above adds up to. */
export const THINKING_TOOL_MESSAGE = {
  id: 'msg_01XyZ',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5',
  content: [
    { type: 'thinking', thinking: 'The user wants the weather.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' },
    { type: 'text', text: 'Let me check, wörld.' },
    { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 25, cache_creation_input_tokens: 0, cache_read_input_tokens: 100, output_tokens: 89 },
};

/** Parses SSE frames (as written above) into events, the way the kernel's parser does. */
export function events(frames: readonly string[]): SSEEvent[] {
  return frames.map((f) => {
    const ev: SSEEvent = { data: '' };
    for (const line of f.split('\n')) {
      if (line.startsWith('event: ')) ev.event = line.slice(7);
      else if (line.startsWith('data: ')) ev.data = line.slice(6);
    }
    return ev;
  });
}

export const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** OpenAI chat chunks (as `data:` payloads) for text followed by a tool call with streamed arguments, then usage. */
export function openAIToolChunks(id = 'chatcmpl-9', model = 'gpt-4o-mini'): string[] {
  const head = `"id":"${id}","object":"chat.completion.chunk","created":1730000000,"model":"${model}"`;
  return [
    `{${head},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`,
    `{${head},"choices":[{"index":0,"delta":{"content":"Checking"},"logprobs":null,"finish_reason":null}]}`,
    `{${head},"choices":[{"index":0,"delta":{"content":" now."},"logprobs":null,"finish_reason":null}]}`,
    `{${head},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]}`,
    `{${head},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":"}}]},"logprobs":null,"finish_reason":null}]}`,
    `{${head},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\"Paris\\"}"}}]},"logprobs":null,"finish_reason":null}]}`,
    `{${head},"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_def","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"logprobs":null,"finish_reason":null}]}`,
    `{${head},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}`,
    `{${head},"choices":[],"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":20}}}`,
    '[DONE]',
  ];
}
