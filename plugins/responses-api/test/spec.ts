// OpenAI's Responses shapes as zod schemas, written from OpenAI's OpenAPI spec (openai/openai-openapi,
// openapi.json: components.schemas Response, OutputItem, OutputMessage, OutputTextContent,
// RefusalContent, ReasoningItem, FunctionToolCall, FunctionTool, ResponseUsage, ResponseError(Code),
// ResponseItemList, InputMessageResource, FunctionToolCall(Output)Resource and the Response*Event
// stream events), with the required fields, types and enums as the spec gives them. Objects are strict:
// a field the spec does not define (a typo, an SDK-only `output_text`) fails, except `store`, which
// OpenAI's own examples carry. Only the item and tool kinds the bridge can emit are listed.
import { expect } from 'chai';
import { z } from 'zod';

const int = z.number().int();
const map = z.record(z.string(), z.unknown());

export const ITEM_STATUS = z.enum(['in_progress', 'completed', 'incomplete']);

const TopLogProb = z.strictObject({ token: z.string(), logprob: z.number(), bytes: z.array(int) });
const LogProb = z.strictObject({ token: z.string(), logprob: z.number(), bytes: z.array(int), top_logprobs: z.array(TopLogProb) });
/** ResponseLogProb (the stream's delta and done events). */
const ResponseLogProb = z.strictObject({
  token: z.string(),
  logprob: z.number(),
  top_logprobs: z.array(z.strictObject({ token: z.string().optional(), logprob: z.number().optional() })).optional(),
});
const Annotation = z.looseObject({ type: z.enum(['file_citation', 'url_citation', 'container_file_citation', 'file_path']) });

export const OutputText = z.strictObject({
  type: z.literal('output_text'),
  text: z.string(),
  annotations: z.array(Annotation),
  logprobs: z.array(LogProb),
});
export const Refusal = z.strictObject({ type: z.literal('refusal'), refusal: z.string() });
export const ReasoningText = z.strictObject({ type: z.literal('reasoning_text'), text: z.string() });
/** OutputContent: what content_part events carry. */
const OutputContent = z.discriminatedUnion('type', [OutputText, Refusal, ReasoningText]);

export const OutputMessage = z.strictObject({
  id: z.string(),
  type: z.literal('message'),
  role: z.literal('assistant'),
  content: z.array(z.discriminatedUnion('type', [OutputText, Refusal])),
  phase: z.enum(['commentary', 'final_answer']).nullable().optional(),
  status: ITEM_STATUS,
});
export const FunctionCall = z.strictObject({
  id: z.string().optional(),
  type: z.literal('function_call'),
  call_id: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  arguments: z.string(),
  status: ITEM_STATUS.optional(),
});
export const ReasoningItem = z.strictObject({
  type: z.literal('reasoning'),
  id: z.string(),
  encrypted_content: z.string().nullable().optional(),
  summary: z.array(z.strictObject({ type: z.literal('summary_text'), text: z.string() })),
  content: z.array(ReasoningText).optional(),
  status: ITEM_STATUS.optional(),
});
export const OutputItem = z.discriminatedUnion('type', [OutputMessage, FunctionCall, ReasoningItem]);

export const Usage = z.strictObject({
  input_tokens: int,
  input_tokens_details: z.strictObject({ cached_tokens: int, cache_write_tokens: int }),
  output_tokens: int,
  output_tokens_details: z.strictObject({ reasoning_tokens: int }),
  total_tokens: int,
});
export const ERROR_CODES = [
  'server_error',
  'rate_limit_exceeded',
  'invalid_prompt',
  'data_residency_mismatch',
  'bio_policy',
  'vector_store_timeout',
  'invalid_image',
  'invalid_image_format',
  'invalid_base64_image',
  'invalid_image_url',
  'image_too_large',
  'image_too_small',
  'image_parse_error',
  'image_content_policy_violation',
  'invalid_image_mode',
  'image_file_too_large',
  'unsupported_image_media_type',
  'empty_image_file',
  'failed_to_download_image',
  'image_file_not_found',
] as const;
const ResponseError = z.strictObject({ code: z.enum(ERROR_CODES), message: z.string() });
const FunctionTool = z.strictObject({
  type: z.literal('function'),
  name: z.string(),
  description: z.string().nullable().optional(),
  parameters: map.nullable(),
  strict: z.boolean().nullable(),
});
const ToolChoice = z.union([z.enum(['none', 'auto', 'required']), z.strictObject({ type: z.literal('function'), name: z.string() })]);
const TextFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    name: z.string(),
    description: z.string().optional(),
    schema: map,
    strict: z.boolean().nullable().optional(),
  }),
]);

export const Response = z.strictObject({
  id: z.string(),
  object: z.literal('response'),
  created_at: z.number(),
  status: z.enum(['completed', 'failed', 'in_progress', 'cancelled', 'queued', 'incomplete']).optional(),
  completed_at: z.number().nullable().optional(),
  error: ResponseError.nullable(),
  incomplete_details: z.strictObject({ reason: z.enum(['max_output_tokens', 'content_filter']).optional() }).nullable(),
  instructions: z.union([z.string(), z.array(z.unknown())]).nullable(),
  max_output_tokens: int.nullable().optional(),
  model: z.string(),
  output: z.array(OutputItem),
  parallel_tool_calls: z.boolean(),
  previous_response_id: z.string().nullable().optional(),
  reasoning: z
    .strictObject({
      effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']).nullable().optional(),
      summary: z.enum(['auto', 'concise', 'detailed']).nullable().optional(),
    })
    .nullable()
    .optional(),
  store: z.boolean().optional(),
  temperature: z.number().min(0).max(2).nullable(),
  text: z.strictObject({ format: TextFormat.optional(), verbosity: z.enum(['low', 'medium', 'high']).nullable().optional() }).optional(),
  tool_choice: ToolChoice,
  tools: z.array(FunctionTool),
  top_p: z.number().min(0).max(1).nullable(),
  truncation: z.enum(['auto', 'disabled']).nullable().optional(),
  usage: Usage.optional(),
  user: z.string().optional(),
  metadata: z.record(z.string(), z.string()).nullable(),
});

const seq = { sequence_number: int };
const at = { item_id: z.string(), output_index: int, content_index: int };
const withResponse = <T extends string>(type: T) => z.strictObject({ type: z.literal(type), response: Response, ...seq });
export const StreamEvent = z.discriminatedUnion('type', [
  withResponse('response.created'),
  withResponse('response.in_progress'),
  withResponse('response.completed'),
  withResponse('response.incomplete'),
  withResponse('response.failed'),
  z.strictObject({ type: z.literal('response.output_item.added'), output_index: int, item: OutputItem, ...seq }),
  z.strictObject({ type: z.literal('response.output_item.done'), output_index: int, item: OutputItem, ...seq }),
  z.strictObject({ type: z.literal('response.content_part.added'), ...at, part: OutputContent, ...seq }),
  z.strictObject({ type: z.literal('response.content_part.done'), ...at, part: OutputContent, ...seq }),
  z.strictObject({ type: z.literal('response.output_text.delta'), ...at, delta: z.string(), logprobs: z.array(ResponseLogProb), ...seq }),
  z.strictObject({ type: z.literal('response.output_text.done'), ...at, text: z.string(), logprobs: z.array(ResponseLogProb), ...seq }),
  z.strictObject({ type: z.literal('response.refusal.delta'), ...at, delta: z.string(), ...seq }),
  z.strictObject({ type: z.literal('response.refusal.done'), ...at, refusal: z.string(), ...seq }),
  z.strictObject({ type: z.literal('response.reasoning_text.delta'), ...at, delta: z.string(), ...seq }),
  z.strictObject({ type: z.literal('response.reasoning_text.done'), ...at, text: z.string(), ...seq }),
  z.strictObject({ type: z.literal('response.function_call_arguments.delta'), item_id: z.string(), output_index: int, delta: z.string(), ...seq }),
  z.strictObject({
    type: z.literal('response.function_call_arguments.done'),
    item_id: z.string(),
    name: z.string(),
    output_index: int,
    arguments: z.string(),
    ...seq,
  }),
  z.strictObject({ type: z.literal('error'), code: z.string().nullable(), message: z.string(), param: z.string().nullable(), ...seq }),
]);
export type StreamEventT = z.infer<typeof StreamEvent>;

/** ItemResource, the kinds a stored conversation holds: input messages, output messages, function calls and their outputs, reasoning. */
const InputContent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('input_text'), text: z.string() }),
  z.strictObject({
    type: z.literal('input_image'),
    image_url: z.string().nullable().optional(),
    file_id: z.string().nullable().optional(),
    detail: z.enum(['low', 'high', 'auto', 'original']),
  }),
]);
const InputMessageResource = z.strictObject({
  id: z.string(),
  type: z.literal('message'),
  role: z.enum(['user', 'system', 'developer']),
  status: ITEM_STATUS.optional(),
  content: z.array(InputContent),
});
const FunctionCallResource = FunctionCall.extend({ id: z.string(), status: ITEM_STATUS });
const FunctionCallOutputResource = z.strictObject({
  id: z.string(),
  type: z.literal('function_call_output'),
  call_id: z.string(),
  output: z.union([z.string(), z.array(z.unknown())]),
  status: ITEM_STATUS,
});
const ItemResource = z.union([InputMessageResource, OutputMessage, FunctionCallResource, FunctionCallOutputResource, ReasoningItem]);
/** ResponseItemList: first_id and last_id are required strings (a page with no items cannot have them: checked apart). */
export const ItemList = z.strictObject({
  object: z.literal('list'),
  data: z.array(ItemResource),
  has_more: z.boolean(),
  first_id: z.string(),
  last_id: z.string(),
});

/** Parses with a schema; a failure names the path and the value. */
export function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) expect.fail(`${what} does not match the spec: ${z.prettifyError(r.error)}\n${JSON.stringify(value).slice(0, 1500)}`);
  return r.data;
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed', 'error']);
const STATUS_OF: Record<string, string> = { 'response.completed': 'completed', 'response.incomplete': 'incomplete', 'response.failed': 'failed' };

interface Track {
  item: Record<string, any>;
  parts: Map<number, { kind: string; text: string; done?: string }>;
  args: string;
  argsDone?: string;
  done?: Record<string, any>;
}

/**
 * Checks one whole stream: every event against its schema, the `event:` name equal to the data's
 * `type`, sequence_number 0, 1, 2, …, created then in_progress first, one terminal event last, every
 * item added at the next output_index and done once with the same id, parts added before their
 * deltas, deltas concatenating to the done text (and part, and item), arguments likewise, and the
 * final response's output equal to the items done. Returns the events and the final response.
 */
export function checkStream(raw: { event?: string; data: string }[]): { events: StreamEventT[]; final?: Record<string, any>; terminal: string } {
  expect(raw.length, 'events').to.be.greaterThan(2);
  const events = raw.map((r, i) => {
    const data = JSON.parse(r.data) as Record<string, unknown>;
    expect(r.event, `event ${i}: the event: line names its type`).to.equal(data.type);
    const ev = check(StreamEvent, data, `event ${i} (${String(data.type)})`);
    expect(ev.sequence_number, `event ${i}: sequence_number`).to.equal(i);
    return ev;
  });
  expect(events[0]!.type).to.equal('response.created');
  expect(events[1]!.type).to.equal('response.in_progress');
  const last = events.at(-1)!;
  expect(TERMINAL.has(last.type), `the last event is terminal, not ${last.type}`).to.equal(true);
  events.slice(0, -1).forEach((e, i) => expect(TERMINAL.has(e.type), `event ${i} (${e.type}) is terminal before the end`).to.equal(false));
  const created = (events[0] as { response: Record<string, any> }).response;
  expect(created).to.include({ status: 'in_progress' });
  expect(created.output).to.deep.equal([]);
  expect(created.usage, 'no usage before the end').to.equal(undefined);
  expect((events[1] as { response: unknown }).response).to.deep.equal(created);

  const items: Track[] = [];
  const open = (i: number): Track => {
    const t = items[i];
    expect(t, `output_index ${i} was added`).to.not.equal(undefined);
    expect(t!.done, `output_index ${i} is still open`).to.equal(undefined);
    return t!;
  };
  for (const e of events) {
    if ('response' in e && e.type !== 'response.created') expect(e.response.id).to.equal(created.id);
    switch (e.type) {
      case 'response.output_item.added':
        expect(e.output_index, 'items are added at the next index').to.equal(items.length);
        expect(e.item.status).to.equal('in_progress');
        if (e.item.type === 'message') expect(e.item.content).to.deep.equal([]);
        if (e.item.type === 'function_call') expect(e.item.arguments).to.equal('');
        expect(items.map((t) => t.item.id)).to.not.include(e.item.id);
        items.push({ item: e.item, parts: new Map(), args: '' });
        break;
      case 'response.content_part.added': {
        const t = open(e.output_index);
        expect(e.item_id).to.equal(t.item.id);
        expect(t.parts.has(e.content_index), 'a part is added once').to.equal(false);
        expect(e.content_index, 'parts are added at the next index').to.equal(t.parts.size);
        const text = e.part.type === 'refusal' ? e.part.refusal : e.part.text;
        expect(text, 'a part starts empty').to.equal('');
        t.parts.set(e.content_index, { kind: e.part.type, text: '' });
        break;
      }
      case 'response.output_text.delta':
      case 'response.refusal.delta':
      case 'response.reasoning_text.delta': {
        const t = open(e.output_index);
        expect(e.item_id).to.equal(t.item.id);
        const p = t.parts.get(e.content_index);
        expect(p, `${e.type}: its part was added`).to.not.equal(undefined);
        expect(p!.done).to.equal(undefined);
        expect(e.type).to.equal(`response.${p!.kind}.delta`);
        p!.text += e.delta;
        break;
      }
      case 'response.output_text.done':
      case 'response.refusal.done':
      case 'response.reasoning_text.done': {
        const t = open(e.output_index);
        expect(e.item_id).to.equal(t.item.id);
        const p = t.parts.get(e.content_index)!;
        expect(e.type).to.equal(`response.${p.kind}.done`);
        const text = e.type === 'response.refusal.done' ? e.refusal : e.text;
        expect(text, 'the deltas concatenate to the done text').to.equal(p.text);
        p.done = text;
        break;
      }
      case 'response.content_part.done': {
        const t = open(e.output_index);
        expect(e.item_id).to.equal(t.item.id);
        const p = t.parts.get(e.content_index)!;
        expect(p.done, 'the text is done before its part').to.be.a('string');
        expect(e.part.type).to.equal(p.kind);
        expect(e.part.type === 'refusal' ? e.part.refusal : e.part.text).to.equal(p.text);
        break;
      }
      case 'response.function_call_arguments.delta': {
        const t = open(e.output_index);
        expect(e.item_id).to.equal(t.item.id);
        t.args += e.delta;
        break;
      }
      case 'response.function_call_arguments.done': {
        const t = open(e.output_index);
        expect(e.item_id).to.equal(t.item.id);
        expect(e.name).to.equal(t.item.name);
        expect(e.arguments, 'the argument deltas concatenate to the done arguments').to.equal(t.args);
        t.argsDone = e.arguments;
        break;
      }
      case 'response.output_item.done': {
        const t = open(e.output_index);
        expect(e.item.id).to.equal(t.item.id);
        expect(e.item.type).to.equal(t.item.type);
        expect(e.item.status).to.not.equal('in_progress');
        if (e.item.type === 'function_call') {
          expect(t.argsDone, 'arguments are done before their item').to.be.a('string');
          expect(e.item.arguments).to.equal(t.argsDone);
        }
        if (e.item.type === 'message' || e.item.type === 'reasoning') {
          const content = (e.item.content ?? []) as Record<string, any>[];
          expect(content.length, 'the item holds every part added').to.equal(t.parts.size);
          content.forEach((c, j) => {
            const p = t.parts.get(j)!;
            expect(p.done, `part ${j} is done before its item`).to.be.a('string');
            expect(c.type).to.equal(p.kind);
            expect(c.type === 'refusal' ? c.refusal : c.text).to.equal(p.text);
          });
        }
        t.done = e.item;
        break;
      }
    }
  }
  if (last.type === 'error') return { events, terminal: last.type };
  const final = (last as { response: Record<string, any> }).response;
  expect(final.status).to.equal(STATUS_OF[last.type]);
  items.forEach((t, i) => expect(t.done, `item ${i} (${t.item.type}) was done`).to.not.equal(undefined));
  expect(final.output, "the final response's output is the items done").to.deep.equal(items.map((t) => t.done));
  if (final.status === 'completed') expect(final.completed_at).to.be.a('number');
  else expect(final.completed_at).to.equal(null);
  if (final.status === 'failed') expect(final.error).to.not.equal(null);
  else expect(final.error).to.equal(null);
  if (final.status === 'incomplete') expect(final.incomplete_details).to.not.equal(null);
  // Everything the request set is echoed the same from the first event to the last.
  for (const k of [
    'instructions',
    'model',
    'tools',
    'tool_choice',
    'text',
    'metadata',
    'temperature',
    'top_p',
    'max_output_tokens',
    'parallel_tool_calls',
    'user',
  ])
    expect(final[k], k).to.deep.equal(created[k]);
  return { events, final, terminal: last.type };
}
