import { badRequest, ChunkWriter, ErrorCode, GatewayError, base64Embedding } from '@waygate/core';
import type { BuildInput, EndpointAdapter, ProviderAdapter, SSEEvent, StreamTransformer, UpstreamRequest, Usage } from '@waygate/core';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Cohere's JSON is built and read by path both ways, and so are the tests' assertions
type Json = Record<string, any>;

const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Statuses after which another attempt may succeed: rate limits, overload and server errors. */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Cohere finish reasons → OpenAI's. */
export const FINISH_REASONS: Record<string, string> = {
  COMPLETE: 'stop',
  STOP_SEQUENCE: 'stop',
  MAX_TOKENS: 'length',
  TOOL_CALL: 'tool_calls',
  ERROR: 'stop',
  TIMEOUT: 'stop',
};

export function mapFinishReason(reason: unknown): string {
  return (typeof reason === 'string' && FINISH_REASONS[reason]) || 'stop';
}

function headersFor(input: BuildInput): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (input.target.apiKey) headers['authorization'] = `Bearer ${input.target.apiKey}`;
  return headers;
}

function invalid(message: string, param?: string): GatewayError {
  return badRequest(ErrorCode.INVALID_REQUEST, message, param);
}

/** OpenAI message content (string or parts) → Cohere content (string or text / image_url parts). */
function toContent(content: unknown, where: string): string | Json[] | undefined {
  if (content === null || content === undefined) return undefined;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(`${where}: content must be a string or an array of parts`, where);
  return content.map((part, i) => {
    if (!isObj(part)) throw invalid(`${where}[${i}]: not a content part`, where);
    if (part.type === 'text') return { type: 'text', text: String(part.text ?? '') };
    if (part.type === 'image_url') {
      const url = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url;
      if (typeof url !== 'string') throw invalid(`${where}[${i}]: image_url needs a url`, where);
      const image_url: Json = { url };
      if (typeof part.image_url?.detail === 'string') image_url.detail = part.image_url.detail;
      return { type: 'image_url', image_url };
    }
    throw invalid(`${where}[${i}]: Cohere does not accept content parts of type ${JSON.stringify(part.type)}`, where);
  });
}

/** Text of an OpenAI content value, for roles where Cohere takes only text. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isObj(p) && p.type === 'text' ? String(p.text ?? '') : '')).join('');
  return '';
}

function toMessage(m: unknown, i: number): Json {
  const where = `messages[${i}]`;
  if (!isObj(m)) throw invalid(`${where}: not a message`, where);
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: textOf(m.content) };
    case 'user':
      return { role: 'user', content: toContent(m.content, `${where}.content`) ?? '' };
    case 'assistant': {
      const out: Json = { role: 'assistant' };
      const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
      if (calls.length) {
        out.tool_calls = calls.map((c: Json) => ({
          id: c.id,
          type: 'function',
          function: { name: c.function?.name, arguments: typeof c.function?.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function?.arguments ?? {}) },
        }));
        const plan = textOf(m.content);
        if (plan) out.tool_plan = plan;
      } else {
        const content = toContent(m.content, `${where}.content`);
        out.content = content ?? '';
      }
      return out;
    }
    case 'tool': {
      if (typeof m.tool_call_id !== 'string') throw invalid(`${where}: a tool message needs tool_call_id`, `${where}.tool_call_id`);
      return { role: 'tool', tool_call_id: m.tool_call_id, content: typeof m.content === 'string' ? m.content : textOf(m.content) };
    }
    default:
      throw invalid(`${where}: Cohere does not accept the role ${JSON.stringify(m.role)}`, `${where}.role`);
  }
}

/** An OpenAI chat completion request → Cohere's v2 `/chat` body. */
export function toCohereChat(body: Json): Json {
  if (!Array.isArray(body.messages)) throw invalid('messages must be an array', 'messages');
  if (typeof body.n === 'number' && body.n > 1) throw invalid('Cohere returns one choice: n must be 1', 'n');
  const out: Json = { model: body.model, messages: body.messages.map(toMessage) };
  if (body.stream === true) out.stream = true;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') out.max_tokens = maxTokens;
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.p = body.top_p;
  if (typeof body.top_k === 'number') out.k = body.top_k;
  if (typeof body.seed === 'number') out.seed = body.seed;
  if (typeof body.frequency_penalty === 'number') out.frequency_penalty = body.frequency_penalty;
  if (typeof body.presence_penalty === 'number') out.presence_penalty = body.presence_penalty;
  if (typeof body.stop === 'string') out.stop_sequences = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length) out.stop_sequences = body.stop;
  if (body.logprobs === true) out.logprobs = true;

  let tools: Json[] | undefined = Array.isArray(body.tools)
    ? body.tools.map((t: Json, i: number) => {
        if (!isObj(t) || t.type !== 'function' || !isObj(t.function)) throw invalid(`tools[${i}]: only function tools are supported`, `tools[${i}]`);
        const fn: Json = { name: t.function.name };
        if (t.function.description !== undefined) fn.description = t.function.description;
        fn.parameters = t.function.parameters ?? { type: 'object', properties: {} };
        return { type: 'function', function: fn };
      })
    : undefined;
  const choice = body.tool_choice;
  if (choice === 'required') out.tool_choice = 'REQUIRED';
  else if (choice === 'none') out.tool_choice = 'NONE';
  else if (isObj(choice) && choice.type === 'function') {
    // Cohere cannot name one tool: offer only that tool and require a call.
    const name = choice.function?.name;
    tools = tools?.filter((t) => t.function.name === name);
    if (!tools?.length) throw invalid(`tool_choice names ${JSON.stringify(name)}, which is not in tools`, 'tool_choice');
    out.tool_choice = 'REQUIRED';
  }
  if (tools?.length) out.tools = tools;

  const rf = body.response_format;
  if (isObj(rf)) {
    if (rf.type === 'json_object') out.response_format = { type: 'json_object' };
    else if (rf.type === 'json_schema') {
      const schema = rf.json_schema?.schema;
      out.response_format = isObj(schema) ? { type: 'json_object', json_schema: schema } : { type: 'json_object' };
    }
  }
  return out;
}

function usageOf(u: unknown): Usage | undefined {
  if (!isObj(u)) return undefined;
  const src = isObj(u.tokens) && typeof u.tokens.input_tokens === 'number' ? u.tokens : isObj(u.billed_units) ? u.billed_units : undefined;
  if (!src) return undefined;
  const prompt = Number(src.input_tokens ?? 0);
  const completion = Number(src.output_tokens ?? 0);
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (typeof u.cached_tokens === 'number') usage.prompt_tokens_details = { cached_tokens: u.cached_tokens };
  return usage;
}

function toolCallsOf(calls: unknown): Json[] | undefined {
  if (!Array.isArray(calls) || calls.length === 0) return undefined;
  return calls.map((c: Json, i: number) => ({
    id: typeof c.id === 'string' && c.id ? c.id : `call_${i}`,
    type: 'function',
    function: {
      name: c.function?.name ?? '',
      arguments: typeof c.function?.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function?.arguments ?? {}),
    },
  }));
}

/** Cohere's `/chat` answer → an OpenAI chat completion. */
export function fromCohereChat(json: unknown, model: string): Json {
  const r = isObj(json) ? json : {};
  const msg = isObj(r.message) ? r.message : {};
  const parts = Array.isArray(msg.content) ? msg.content : [];
  const text = parts.filter((p: Json) => isObj(p) && p.type === 'text').map((p: Json) => String(p.text ?? '')).join('');
  const toolCalls = toolCallsOf(msg.tool_calls);
  const message: Json = { role: 'assistant', content: text || (toolCalls ? null : text) };
  if (toolCalls) message.tool_calls = toolCalls;
  const out: Json = {
    id: typeof r.id === 'string' ? r.id : `cohere-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: mapFinishReason(r.finish_reason) }],
  };
  const usage = usageOf(r.usage);
  if (usage) out.usage = usage;
  return out;
}

/** Maps a Cohere error answer (`{message}` or `{id, message}`) to a GatewayError with its status and message. */
export function mapCohereError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const message = isObj(body) && typeof body.message === 'string'
    ? body.message
    : isObj(body) && isObj(body.error) && typeof body.error.message === 'string'
      ? body.error.message
      : typeof body === 'string' && body
        ? body.slice(0, 1000)
        : `cohere answered status ${status}`;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, message, {
    retryable: RETRYABLE_STATUS.has(status) || status >= 500,
    upstream: { status, body, headers },
  });
}

/** Cohere's v2 chat event stream → OpenAI chat.completion.chunk events, ending with `data: [DONE]`. */
export class CohereStreamTransformer implements StreamTransformer {
  /** Named after Cohere's message id once message-start gives it. */
  readonly #out: ChunkWriter;
  readonly #includeUsage: boolean;
  /** Cohere tool-call index → OpenAI tool call index. */
  readonly #tools = new Map<number, number>();
  #started = false;
  #done = false;

  constructor(model: string, includeUsage: boolean) {
    this.#out = new ChunkWriter({ id: 'cohere-stream', model });
    this.#includeUsage = includeUsage;
  }

  #delta(delta: Json, finish: string | null = null): SSEEvent {
    return this.#out.delta(delta, finish);
  }

  /** The role chunk, if the stream has not sent it yet (a stream without message-start still names the role). */
  #start(out: SSEEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push(this.#delta({ role: 'assistant', content: '' }));
  }

  transform(ev: SSEEvent): SSEEvent | SSEEvent[] | undefined {
    if (this.#done) return undefined;
    let data: Json;
    try {
      data = JSON.parse(ev.data);
    } catch {
      if (ev.data === '[DONE]') return undefined;
      throw new Error(`cohere sent a stream event that is not JSON: ${ev.data.slice(0, 200)}`);
    }
    if (!isObj(data)) return undefined;
    const type = ev.event ?? data.type;
    const out: SSEEvent[] = [];
    const msg = isObj(data.delta) && isObj(data.delta.message) ? data.delta.message : {};
    switch (type) {
      case 'message-start':
        if (typeof data.id === 'string' && data.id) this.#out.id = data.id;
        this.#start(out);
        break;
      case 'content-start':
      case 'content-delta': {
        this.#start(out);
        const text = isObj(msg.content) ? msg.content.text : undefined;
        if (typeof text === 'string' && text) out.push(this.#delta({ content: text }));
        break;
      }
      case 'tool-call-start': {
        this.#start(out);
        const call = isObj(msg.tool_calls) ? msg.tool_calls : Array.isArray(msg.tool_calls) ? msg.tool_calls[0] : undefined;
        const cIndex = typeof data.index === 'number' ? data.index : this.#tools.size;
        const index = this.#tools.size;
        this.#tools.set(cIndex, index);
        const args = call?.function?.arguments;
        out.push(
          this.#delta({
            tool_calls: [
              {
                index,
                id: typeof call?.id === 'string' ? call.id : `call_${index}`,
                type: 'function',
                function: { name: call?.function?.name ?? '', arguments: typeof args === 'string' ? args : '' },
              },
            ],
          }),
        );
        break;
      }
      case 'tool-call-delta': {
        const call = isObj(msg.tool_calls) ? msg.tool_calls : Array.isArray(msg.tool_calls) ? msg.tool_calls[0] : undefined;
        const args = call?.function?.arguments;
        if (typeof args !== 'string' || !args) break;
        const cIndex = typeof data.index === 'number' ? data.index : this.#tools.size - 1;
        const index = this.#tools.get(cIndex) ?? Math.max(0, this.#tools.size - 1);
        out.push(this.#delta({ tool_calls: [{ index, function: { arguments: args } }] }));
        break;
      }
      case 'message-end': {
        this.#start(out);
        const d = isObj(data.delta) ? data.delta : {};
        out.push(this.#delta({}, mapFinishReason(d.finish_reason)));
        if (this.#includeUsage) {
          const usage = usageOf(d.usage);
          if (usage) out.push(this.#out.usage(usage));
        }
        out.push(this.#out.done());
        this.#done = true;
        break;
      }
      default:
        // content-end, tool-plan-delta, tool-call-end, citation-start/end, debug: nothing for an OpenAI client.
        break;
    }
    return out.length ? out : undefined;
  }

  flush(): SSEEvent | SSEEvent[] | undefined {
    if (this.#done) return undefined;
    throw new Error('the cohere stream ended before message-end');
  }
}

const modelOf = (input: BuildInput): string => (typeof input.body?.model === 'string' ? input.body.model : 'cohere');

const chat: EndpointAdapter = {
  build(input: BuildInput): UpstreamRequest {
    const body = toCohereChat(input.body ?? {});
    const headers = headersFor(input);
    if (body.stream) headers['accept'] = 'text/event-stream';
    return { url: `${input.target.baseURL}/chat`, method: 'POST', headers, body: JSON.stringify(body) };
  },
  mapResponse: (json, input) => fromCohereChat(json, modelOf(input)),
  createStreamTransformer(input) {
    const so = input.body?.stream_options;
    return new CohereStreamTransformer(modelOf(input), isObj(so) && so.include_usage === true);
  },
  mapError: mapCohereError,
};

const INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering', 'image']);

/** An OpenAI embeddings request → Cohere's v2 `/embed` body. */
export function toCohereEmbed(body: Json, inputType?: string): Json {
  const input = body.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((x) => typeof x === 'string') ? input : undefined;
  if (!texts) throw invalid('Cohere embeds text: input must be a string or an array of strings', 'input');
  // Floats are asked for either way: a base64 answer (the `openai` SDK's default) is encoded from them.
  if (body.encoding_format !== undefined && body.encoding_format !== 'float' && body.encoding_format !== 'base64') {
    throw invalid('encoding_format must be "float" or "base64"', 'encoding_format');
  }
  const type = typeof body.input_type === 'string' ? body.input_type : (inputType ?? 'search_document');
  if (!INPUT_TYPES.has(type)) throw invalid(`input_type ${JSON.stringify(type)} is not one of Cohere's`, 'input_type');
  const out: Json = { model: body.model, texts, input_type: type, embedding_types: ['float'] };
  if (typeof body.dimensions === 'number') out.output_dimension = body.dimensions;
  if (typeof body.truncate === 'string') out.truncate = body.truncate;
  return out;
}

/** Cohere's `/embed` answer → OpenAI's embeddings list (vectors base64-encoded when the request asked for `base64`). */
export function fromCohereEmbed(json: unknown, model: string, encodingFormat?: unknown): Json {
  const r = isObj(json) ? json : {};
  const vectors: unknown[] = isObj(r.embeddings) && Array.isArray(r.embeddings.float) ? r.embeddings.float : Array.isArray(r.embeddings) ? r.embeddings : [];
  const tokens = isObj(r.meta) && isObj(r.meta.billed_units) && typeof r.meta.billed_units.input_tokens === 'number' ? r.meta.billed_units.input_tokens : 0;
  return {
    object: 'list',
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding: encodingFormat === 'base64' ? base64Embedding(embedding) : embedding })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

const embeddings: EndpointAdapter = {
  build(input: BuildInput): UpstreamRequest {
    const opt = input.target.node.cohere_input_type ?? input.ctx.headers['x-waygate-cohere-input-type'];
    const body = toCohereEmbed(input.body ?? {}, typeof opt === 'string' ? opt : undefined);
    return { url: `${input.target.baseURL}/embed`, method: 'POST', headers: headersFor(input), body: JSON.stringify(body) };
  },
  mapResponse: (json, input) => fromCohereEmbed(json, typeof input.body?.model === 'string' ? input.body.model : 'cohere', input.body?.encoding_format),
  mapError: mapCohereError,
};

/** The Cohere v2 adapter: chat (JSON and streaming, tools) and embed, translated both ways. */
export const cohere: ProviderAdapter = {
  id: 'cohere',
  displayName: 'Cohere',
  baseURL: 'https://api.cohere.com/v2',
  endpoints: { 'chat.completions': chat, embeddings },
};
