// End to end, issue 11 item 1: regexes a caller sends cannot stall the gateway. The real gateway
// (startGateway, bundled plugins) in process, in front of a loopback upstream that holds the hostile
// request's answer until the test lets it go. Each hostile pattern below backtracks for hours in
// JavaScript's RegExp on its 41-character text (2^40 paths), so without the linear-time engine the
// hostile request never reaches the upstream, the bystander is never answered and the test times
// out; with it the order is: hostile request upstream, bystander answered, hostile request answered.
// No timing is asserted. Also: refused patterns are a 400 naming the field, and the operator's
// opt-in to JavaScript regexes works from the config file and is refused from a header.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import type { ConfigNode, Gateway } from '@waygate/core';
import { LogCapture } from './helpers/api-support.js';

/** 40 a's and a '!': `^(a+)+$` and `^(a|a)*$` fail on it only after trying every way to split the a's. */
const HOSTILE = `${'a'.repeat(40)}!`;
const HOSTILE_MARK = 'hostile request';

/**
 * An OpenAI-shaped chat upstream on loopback. A request whose last user message starts with
 * HOSTILE_MARK is held until release(); its answer's content is `hostileAnswer`. Every other request
 * is answered at once.
 */
class HeldUpstream {
  readonly events: string[];
  hostileAnswer = 'fine';
  /** Requests received, of any kind. */
  hits = 0;
  url = '';
  #held: Array<() => void> = [];
  #server!: http.Server;
  #arrived: Array<() => void> = [];

  constructor(events: string[]) {
    this.events = events;
  }

  static async start(events: string[]): Promise<HeldUpstream> {
    const up = new HeldUpstream(events);
    up.#server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c));
      req.on('end', () => {
        up.hits++;
        const body = JSON.parse(raw || '{}');
        const last = String(body.messages?.at(-1)?.content ?? '');
        const hostile = last.startsWith(HOSTILE_MARK);
        const answer = () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id: 'c1',
              object: 'chat.completion',
              model: body.model,
              choices: [{ index: 0, message: { role: 'assistant', content: hostile ? up.hostileAnswer : 'fine' }, finish_reason: 'stop' }],
            }),
          );
        };
        if (!hostile) return answer();
        up.events.push('hostile request upstream');
        up.#held.push(answer);
        for (const w of up.#arrived.splice(0)) w();
      });
    });
    await new Promise<void>((resolve) => up.#server.listen(0, '127.0.0.1', resolve));
    up.url = `http://127.0.0.1:${(up.#server.address() as AddressInfo).port}/v1`;
    return up;
  }

  /** Resolves once a hostile request has reached the upstream. */
  arrival(): Promise<void> {
    if (this.#held.length) return Promise.resolve();
    return new Promise((resolve) => this.#arrived.push(resolve));
  }

  release(): void {
    for (const answer of this.#held.splice(0)) answer();
  }

  close(): Promise<void> {
    this.release();
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

interface Reply {
  status: number;
  json: any;
}

async function send(gw: Gateway, content: string, headers: Record<string, string> = {}, config?: unknown): Promise<Reply> {
  const h: Record<string, string> = { 'content-type': 'application/json', authorization: 'Bearer sk-caller', ...headers };
  if (config !== undefined) h['x-waygate-config'] = JSON.stringify(config);
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
  });
  return { status: res.status, json: await res.json() };
}

describe('regex denial of service (end to end): hostile patterns from headers run in linear time', function () {
  this.timeout(20_000);
  const events: string[] = [];
  let up: HeldUpstream;
  let gw: Gateway;
  /** A leaf on the held upstream, as a request's config would name it. */
  let leaf: (extra?: ConfigNode) => ConfigNode;

  before(async () => {
    up = await HeldUpstream.start(events);
    gw = await startGateway({ config: {}, port: 0, host: '127.0.0.1', logger: new LogCapture('info').logger });
    leaf = (extra = {}) => ({ provider: 'openai', custom_host: up.url, ...extra });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });
  beforeEach(() => {
    events.length = 0;
    up.hostileAnswer = 'fine';
  });

  /**
   * Sends the hostile request; once it is at the upstream (its input-side patterns have run), a
   * bystander; once that is answered, lets the hostile answer go (its output-side patterns run) and
   * sends a second bystander alongside. Returns the hostile reply.
   */
  async function hostileWithBystanders(content: string, headers: Record<string, string>, config?: unknown): Promise<Reply> {
    const hostile = send(gw, content, headers, config).then((r) => {
      events.push('hostile request answered');
      return r;
    });
    await up.arrival();
    const plain = { 'x-waygate-provider': 'openai', 'x-waygate-custom-host': up.url };
    const bystander = await send(gw, 'a bystander', plain);
    expect(bystander.status).to.equal(200);
    events.push('bystander answered');
    up.release();
    const [reply, second] = await Promise.all([hostile, send(gw, 'a second bystander', plain)]);
    expect(second.status).to.equal(200);
    expect(events).to.deep.equal(['hostile request upstream', 'bystander answered', 'hostile request answered']);
    return reply;
  }

  it('a conditional $regex ^(a+)+$ in x-portkey-config, against a metadata value', async () => {
    const config = {
      strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.user': { $regex: '^(a+)+$' } }, then: 'never' }], default: 'held' },
      targets: [leaf({ name: 'never', custom_host: 'http://127.0.0.1:9/v1' }), leaf({ name: 'held' })],
    };
    const reply = await hostileWithBystanders(HOSTILE_MARK, {
      'x-portkey-config': JSON.stringify(config),
      'x-portkey-metadata': JSON.stringify({ user: HOSTILE }),
    });
    expect(reply.status).to.equal(200);
    expect(reply.json.choices[0].message.content).to.equal('fine');
  });

  it('an input_guardrails default.regexMatch ^(a|a)*$ in x-waygate-config, against the prompt', async () => {
    const config = leaf({ input_guardrails: [{ 'default.regexMatch': { rule: '^(a|a)*$', not: true }, deny: true }] });
    const reply = await hostileWithBystanders(`${HOSTILE_MARK} ${HOSTILE}`, {}, config);
    // The rule runs on the whole text, which does not match: `not` passes, the hook passes.
    expect(reply.status).to.equal(200);
    expect(reply.json.hook_results.before_request_hooks[0].checks[0]).to.include({ id: 'default.regexMatch', verdict: true });
  });

  it('a default.regexMatch in the x-waygate-default-input-guardrails header', async () => {
    const guardrails = [{ 'default.regexMatch': { rule: '(a+)+$', not: true }, deny: true }];
    const reply = await hostileWithBystanders(`${HOSTILE_MARK} ${HOSTILE}`, { 'x-waygate-default-input-guardrails': JSON.stringify(guardrails) }, leaf());
    // "(a+)+$" needs the a's to end the text; "!" does: no match, so `not` passes.
    expect(reply.status).to.equal(200);
    expect(reply.json.hook_results.before_request_hooks[0].checks[0]).to.include({ id: 'default.regexMatch', verdict: true });
  });

  it('a JSON Schema pattern in an output guardrail, against the answer', async () => {
    up.hostileAnswer = JSON.stringify({ id: HOSTILE });
    const schema = { type: 'object', properties: { id: { type: 'string', pattern: '^(a+)+$' } }, required: ['id'] };
    const reply = await hostileWithBystanders(HOSTILE_MARK, {}, leaf({ output_guardrails: [{ 'default.jsonSchema': { schema } }] }));
    // The answer's id does not match the pattern: the check fails, the hook does not deny: 246.
    expect(reply.status).to.equal(246);
    expect(reply.json.hook_results.after_request_hooks[0].checks[0]).to.include({ id: 'default.jsonSchema', verdict: false });
  });

  it("a long text against a large pattern of the request's own is stopped by the regex work limit (the check fails closed)", async () => {
    // Linear, but costly: ~500 instructions per character when RE2's DFA gives up on [ab]{500}. On a
    // 300 KB prompt that is seconds of CPU; the request's budget (10,000,000 units) refuses it unrun.
    const config = leaf({ input_guardrails: [{ 'default.regexMatch': { rule: '(?:a|b)*a[ab]{500}[0-9]', not: true }, deny: true }] });
    const hits = up.hits;
    const reply = await send(gw, 'ab'.repeat(150_000), {}, config);
    expect(reply.status).to.equal(446);
    const check = reply.json.hook_results.before_request_hooks[0].checks[0];
    expect(check).to.include({ id: 'default.regexMatch', verdict: false });
    expect(check.error.message).to.match(/^over the regex work limit of this request \(10000000 units/);
    expect(up.hits, 'denied before the upstream').to.equal(hits);
  });

  describe('a pattern the engine refuses is a 400 naming the field, before any upstream call', () => {
    let hitsBefore = 0;
    beforeEach(() => {
      hitsBefore = up.hits;
    });
    afterEach(function () {
      if (this.currentTest?.state === 'passed') expect(up.hits, 'upstream calls').to.equal(hitsBefore);
    });

    it('a backreference in a conditional $regex', async () => {
      const config = {
        strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.user': { $regex: '^(a)\\1$' } }, then: 'x' }], default: 'x' },
        targets: [leaf({ name: 'x' })],
      };
      const reply = await send(gw, 'hi', { 'x-waygate-metadata': '{"user":"aa"}' }, config);
      expect(reply.status).to.equal(400);
      expect(reply.json.error).to.include({ code: 'invalid_config', param: 'config.strategy.conditions[0]' });
      expect(reply.json.error.message).to.include(
        'config.strategy.conditions[0].query["metadata.user"].$regex: the pattern is not supported by the linear-time regex engine (RE2 syntax): backreferences',
      );
    });

    it('a regexMatch rule longer than 1000 characters, and a lookahead in a default-guardrails header', async () => {
      let reply = await send(gw, 'hi', {}, leaf({ input_guardrails: [{ 'default.regexMatch': { rule: 'x'.repeat(1001) } }] }));
      expect(reply.status).to.equal(400);
      expect(reply.json.error.param).to.equal('config.input_guardrails[0]["default.regexMatch"]');
      expect(reply.json.error.message).to.include('rule: rule is longer than 1000 characters (it has 1001)');
      reply = await send(gw, 'hi', { 'x-portkey-default-input-guardrails': JSON.stringify([{ 'default.regexMatch': { rule: 'pass(?!word)' } }]) }, leaf());
      expect(reply.status).to.equal(400);
      expect(reply.json.error.param).to.equal('x-portkey-default-input-guardrails[0]["default.regexMatch"]');
      expect(reply.json.error.message).to.match(/rule: rule is not supported by the linear-time regex engine \(RE2 syntax\): lookahead and lookbehind/);
    });

    it('a backreference in a JSON Schema pattern', async () => {
      const schema = { type: 'object', patternProperties: { '^(\\w)\\1$': { type: 'string' } } };
      const reply = await send(gw, 'hi', {}, leaf({ output_guardrails: [{ 'default.jsonSchema': { schema } }] }));
      expect(reply.status).to.equal(400);
      expect(reply.json.error.param).to.equal('config.output_guardrails[0]["default.jsonSchema"]');
      expect(reply.json.error.message).to.include('schema cannot be used: the pattern "^(\\\\w)\\\\1$" is not supported by the linear-time regex engine');
    });
  });
});

describe("regexes (end to end): the operator's opt-in to JavaScript regexes, from the config file only", function () {
  this.timeout(20_000);
  let up: HeldUpstream;
  let gw: Gateway;
  /** Lookaheads, which only JavaScript's engine has: route gpt-4 but not gpt-4o; refuse a prompt that mentions a password but no vault. */
  let routing: ConfigNode;

  before(async () => {
    up = await HeldUpstream.start([]);
    const target = (name: string, model: string): ConfigNode => ({
      name,
      provider: 'openai',
      api_key: 'sk-file',
      custom_host: up.url,
      override_params: { model },
    });
    routing = {
      strategy: { mode: 'conditional', conditions: [{ query: { 'params.model': { $regex: '^gpt-4(?!o)' } }, then: 'four' }], default: 'other' },
      input_guardrails: [{ 'default.regexMatch': { rule: '^(?=.*password)(?!.*vault)', not: true, regexEngine: 'javascript' }, deny: true }],
      targets: [target('four', 'model-four'), target('other', 'model-other')],
    };
    gw = await startGateway({
      config: { plugins: [{ module: '@waygate/strategy-conditional', options: { regexEngine: 'javascript' } }], routing },
      port: 0,
      host: '127.0.0.1',
      logger: new LogCapture('info').logger,
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });

  async function ask(model: string, content: string, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
    });
    return { status: res.status, json: await res.json() };
  }

  it('the config file may use lookahead: the gateway starts and applies it', async () => {
    expect((await ask('gpt-4', 'hello')).json.model).to.equal('model-four');
    expect((await ask('gpt-4o', 'hello')).json.model).to.equal('model-other');
    expect((await ask('gpt-4', 'my password is hunter2')).status).to.equal(446);
    expect((await ask('gpt-4', 'my password is in the vault')).status).to.equal(200);
  });

  it('the same config sent in a header is a 400: RE2 for its $regex, and regexEngine refused', async () => {
    const sent = JSON.parse(JSON.stringify(routing)) as ConfigNode;
    let reply = await ask('gpt-4', 'hello', { 'x-waygate-config': JSON.stringify(sent), authorization: 'Bearer sk-caller' });
    expect(reply.status).to.equal(400);
    expect(reply.json.error.param).to.equal('config.input_guardrails[0]["default.regexMatch"].regexEngine');
    expect(reply.json.error.message).to.match(/regexEngine may only be set in the gateway's config file, not in a config sent with a request/);
    delete (sent.input_guardrails as any)[0]['default.regexMatch'].regexEngine;
    reply = await ask('gpt-4', 'hello', { 'x-waygate-config': JSON.stringify(sent), authorization: 'Bearer sk-caller' });
    expect(reply.status).to.equal(400);
    expect(reply.json.error.message).to.match(/not supported by the linear-time regex engine \(RE2 syntax\): lookahead and lookbehind/);
  });
});
