// A loopback Mistral API: POST /v1/chat/completions, /v1/fim/completions (JSON, or chunks ending
// with data: [DONE]) and /v1/ocr, as Mistral's API reference documents them, with its strictness:
// an unknown field is a 422 `extra_forbidden`, a missing one a 422 `missing`, a wrong key a 401
// `{"detail":"Unauthorized"}`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hit {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

const FIELDS: Record<string, { allowed: string[]; required: string[] }> = {
  '/v1/chat/completions': {
    allowed: [
      'model',
      'messages',
      'temperature',
      'top_p',
      'max_tokens',
      'stream',
      'stop',
      'random_seed',
      'response_format',
      'tools',
      'tool_choice',
      'presence_penalty',
      'frequency_penalty',
      'n',
      'safe_prompt',
      'parallel_tool_calls',
      'prediction',
    ],
    required: ['model', 'messages'],
  },
  '/v1/fim/completions': {
    allowed: ['model', 'prompt', 'suffix', 'temperature', 'top_p', 'max_tokens', 'min_tokens', 'stream', 'stop', 'random_seed', 'metadata'],
    required: ['model', 'prompt'],
  },
  '/v1/ocr': {
    allowed: ['model', 'document', 'pages', 'include_image_base64', 'image_limit', 'image_min_size', 'table_format', 'extract_header', 'extract_footer'],
    required: ['model', 'document'],
  },
};

export class FakeMistral {
  readonly hits: Hit[] = [];
  url = '';
  #server!: http.Server;

  constructor(readonly key: string) {}

  static async start(key: string): Promise<FakeMistral> {
    const f = new FakeMistral(key);
    f.#server = http.createServer((req, res) => f.#handle(req, res));
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.#server.address() as AddressInfo).port}`;
    return f;
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      this.hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.headers.authorization !== `Bearer ${this.key}`) return json(401, { detail: 'Unauthorized' });
      const spec = FIELDS[req.url ?? ''];
      if (!spec || req.method !== 'POST') return json(404, { detail: 'Not Found' });
      const detail = [
        ...Object.keys(body)
          .filter((k) => !spec.allowed.includes(k))
          .map((k) => ({ type: 'extra_forbidden', loc: ['body', k], msg: 'Extra inputs are not permitted', input: body[k] })),
        ...spec.required.filter((k) => body[k] === undefined).map((k) => ({ type: 'missing', loc: ['body', k], msg: 'Field required', input: null })),
      ];
      if (detail.length) return json(422, { object: 'error', message: { detail }, type: 'invalid_request_error', param: null, code: null });
      if (req.url === '/v1/ocr') return json(200, this.#ocr(body));
      const text = req.url === '/v1/fim/completions' ? `/* ${body.prompt.length} chars before, ${(body.suffix ?? '').length} after */` : 'Bonjour !';
      const usage = { prompt_tokens: 11, completion_tokens: 6, total_tokens: 17 };
      const head = { id: 'f1a2b3c4', created: 1759496862, model: body.model };
      if (body.stream !== true) {
        return json(200, {
          ...head,
          object: 'chat.completion',
          usage,
          choices: [{ index: 0, message: { role: 'assistant', content: text, tool_calls: null, prefix: false }, finish_reason: 'stop' }],
        });
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: unknown, finish: string | null, extra: object = {}) =>
        `data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }, null));
      const half = Math.ceil(text.length / 2);
      res.write(chunk({ content: text.slice(0, half) }, null));
      res.write(chunk({ content: text.slice(half) }, null));
      res.write(chunk({ content: '' }, 'stop', { usage }));
      res.end('data: [DONE]\n\n');
    });
  }

  #ocr(body: any): unknown {
    const doc = body.document ?? {};
    const source = doc.type === 'image_url' ? doc.image_url : doc.document_url;
    return {
      pages: [{ index: 0, markdown: `# OCR of ${source}`, images: [], dimensions: { dpi: 200, height: 2200, width: 1700 } }],
      model: 'mistral-ocr-2505-completion',
      document_annotation: null,
      usage_info: { pages_processed: 1, doc_size_bytes: 1024 },
    };
  }

  reset(): void {
    this.hits.length = 0;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
