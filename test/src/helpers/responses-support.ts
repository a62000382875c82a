// Loopback fakes for the /v1/responses end-to-end tests: a recording HTTP server and an Anthropic-format answerer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  path: string;
  raw: string;
  body: any;
}

/** A loopback server that records each request and answers from `reply`. */
export class Fake {
  readonly seen: Seen[] = [];
  reply: (req: Seen, res: http.ServerResponse) => void = (_q, res) => res.writeHead(500).end();
  url = '';
  readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const rec = { path: req.url!, raw, body: raw ? JSON.parse(raw) : undefined };
      this.seen.push(rec);
      this.reply(rec, res);
    });
  });
  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

export const sendJSON = (res: http.ServerResponse, status: number, text: string): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(text);
};
export const sendSSE = (res: http.ServerResponse, frames: string[]): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const f of frames) res.write(f);
  res.end();
};
export const frame = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

const anthropicUsage = { input_tokens: 11, output_tokens: 3, cache_read_input_tokens: 4 };
/** The Anthropic fake: a tool call when tools are offered and no tool result came yet, else text; JSON or stream. */
export function anthropicReply(req: Seen, res: http.ServerResponse): void {
  const last = req.body.messages.at(-1);
  const result = Array.isArray(last.content) ? last.content.find((b: any) => b.type === 'tool_result') : undefined;
  const wantsTool = req.body.tools && !result;
  const text = result ? `It is ${typeof result.content === 'string' ? result.content : result.content[0].text} in Oslo.` : 'Hello from Claude.';
  if (!req.body.stream) {
    const content = wantsTool ? [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }] : [{ type: 'text', text }];
    const stop = wantsTool ? 'tool_use' : 'end_turn';
    return sendJSON(
      res,
      200,
      JSON.stringify({
        id: 'msg_a',
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: anthropicUsage,
      }),
    );
  }
  const start = {
    message: {
      id: 'msg_a',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [],
      stop_reason: null,
      usage: { ...anthropicUsage, output_tokens: 0 },
    },
  };
  const frames = [frame('message_start', start)];
  if (wantsTool) {
    frames.push(frame('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } }));
    frames.push(frame('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"city":' } }));
    frames.push(frame('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '"Oslo"}' } }));
  } else {
    frames.push(frame('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    frames.push(frame('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello ' } }));
    frames.push(frame('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'from Claude.' } }));
  }
  frames.push(frame('content_block_stop', { index: 0 }));
  frames.push(frame('message_delta', { delta: { stop_reason: wantsTool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } }));
  frames.push(frame('message_stop', {}));
  sendSSE(res, frames);
}
