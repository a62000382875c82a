// The egress policy end to end (issue 11, item 3): a caller's custom host, a guardrail webhook and a
// service account's token endpoint whose names resolve to loopback, under "private": "deny". Nothing
// here connects anywhere but loopback: names are `localhost` or names this test answers itself
// (through node's dns.lookup, which the policy's lookup calls) with loopback addresses only; cloud
// metadata addresses are tested as literals in the core's unit tests, where no socket is made.
import { expect } from 'chai';
import dns from 'node:dns';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { LogCapture, expectGatewayError, postRaw } from './helpers/api-support.js';

const CHAT = '/v1/chat/completions';
const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
const KEY = 'sk-caller-own-key';
const REFUSED_LOCALHOST = 'custom host localhost resolves to 127.0.0.1, a loopback address, refused by the egress policy (egress.private is "deny")';

/** An OpenAI-shaped upstream (or webhook, or token endpoint) on loopback that counts the TCP connections it accepted. */
class Loopback {
  connections = 0;
  requests: string[] = [];
  port = 0;
  #server: http.Server;

  private constructor(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
    this.#server = http.createServer((req, res) => {
      this.requests.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => answer(req, res));
    });
    this.#server.on('connection', () => this.connections++);
  }

  static async start(host = '127.0.0.1', port = 0, answer = chatAnswer): Promise<Loopback> {
    const s = new Loopback(answer);
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(port, host, () => resolve());
    });
    s.port = (s.#server.address() as AddressInfo).port;
    return s;
  }

  /** The base URL under a host name (the server listens on an address; the name is the test's). */
  base(host: string): string {
    return `http://${host}:${this.port}/v1`;
  }

  reset(): void {
    this.connections = 0;
    this.requests.length = 0;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function chatAnswer(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: 'chatcmpl-egress',
      object: 'chat.completion',
      created: 0,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'served' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    }),
  );
}

/** Answers the given names with loopback addresses through dns.lookup; every other name resolves as usual. */
function answerNames(answer: (host: string) => string | undefined): () => void {
  const real = dns.lookup;
  dns.lookup = ((host: string, options: dns.LookupOptions, cb: (...args: unknown[]) => void) => {
    const ip = answer(host);
    if (ip === undefined) return (real as (...args: unknown[]) => void)(host, options, cb);
    expect(ip, 'the test answers loopback addresses only').to.match(/^127\./);
    if (options.all) cb(null, [{ address: ip, family: 4 }]);
    else cb(null, ip, 4);
  }) as typeof dns.lookup;
  return () => {
    dns.lookup = real;
  };
}

async function gateway(egress: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): Promise<{ gw: Gateway; logs: LogCapture }> {
  const logs = new LogCapture('info');
  const gw = await startGateway({ config: { ...(egress ? { egress } : {}), ...extra }, port: 0, host: '127.0.0.1', logger: logs.logger, env: {} });
  return { gw, logs };
}

const routed = (customHost: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${KEY}`,
  'x-waygate-provider': 'openai',
  'x-waygate-custom-host': customHost,
  ...extra,
});

describe('faults: the egress policy resolves names and refuses before connecting', function () {
  let up: Loopback;
  before(async () => {
    up = await Loopback.start();
  });
  after(() => up.close());
  beforeEach(() => up.reset());

  describe('"private": "deny"', () => {
    let gw: Gateway;
    let logs: LogCapture;
    before(async () => {
      ({ gw, logs } = await gateway({ private: 'deny' }));
    });
    after(() => gw.close(0));

    it('logs the effective policy at start-up', async () => {
      const line = await logs.waitFor((r) => r.msg === 'egress policy for caller-steered requests', 'the egress policy');
      expect(line).to.deep.include({ private: 'deny', allow: [] });
    });

    it('a custom host by name that resolves to loopback → 400 naming the reason; the upstream saw no connection', async () => {
      const res = await postRaw(gw.url + CHAT, BODY, routed(up.base('localhost')));
      await expectGatewayError(res, 400, 'forbidden_custom_host', new RegExp(`^${REFUSED_LOCALHOST.replace(/[().]/g, '\\$&')}$`));
      expect(up.connections).to.equal(0);
    });

    it('the same in a config header (custom_host) and in Portkey headers; Anthropic-shaped on /v1/messages', async () => {
      let res = await postRaw(gw.url + CHAT, BODY, {
        authorization: `Bearer ${KEY}`,
        'x-portkey-config': JSON.stringify({ strategy: { mode: 'fallback' }, targets: [{ provider: 'openai', custom_host: up.base('localhost') }] }),
      });
      await expectGatewayError(res, 400, 'forbidden_custom_host', /custom host localhost resolves to 127\.0\.0\.1, a loopback address/);
      res = await postRaw(gw.url + CHAT, BODY, {
        authorization: `Bearer ${KEY}`,
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': up.base('localhost'),
      });
      await expectGatewayError(res, 400, 'forbidden_custom_host', /refused by the egress policy/);
      res = await postRaw(
        gw.url + '/v1/messages',
        JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'Hello' }] }),
        { 'x-api-key': KEY, 'x-waygate-provider': 'anthropic', 'x-waygate-custom-host': up.base('localhost') },
      );
      expect(res.status).to.equal(400);
      expect(await res.json()).to.deep.equal({ type: 'error', error: { type: 'invalid_request_error', message: REFUSED_LOCALHOST } });
      expect(up.connections).to.equal(0);
    });

    it('a literal loopback address → 400 naming the field, before any connection', async () => {
      const res = await postRaw(gw.url + CHAT, BODY, routed(up.base('127.0.0.1')));
      await expectGatewayError(
        res,
        400,
        'forbidden_custom_host',
        /127\.0\.0\.1 is a loopback address, refused by the egress policy \(egress\.private is "deny"\)/,
        'config.custom_host',
      );
      expect(up.connections).to.equal(0);
    });

    it('a name checked at connect time: one that rebinds from an allowed to a refused address is refused on its next connection', async () => {
      // Two loopback servers on one port: 127.0.0.2 (listed in allow) and 127.0.0.1 (not).
      const allowed = await Loopback.start('127.0.0.2', 0, (req, res) => {
        res.setHeader('connection', 'close'); // the next request needs a new connection, and a new lookup
        chatAnswer(req, res);
      });
      const other = await Loopback.start('127.0.0.1', allowed.port);
      let answers = 0;
      const restore = answerNames((h) => (h === 'rebind.test' ? (++answers === 1 ? '127.0.0.2' : '127.0.0.1') : undefined));
      const g = await gateway({ private: 'deny', allow: ['127.0.0.2/32'] });
      try {
        const first = await postRaw(g.gw.url + CHAT, BODY, routed(allowed.base('rebind.test')));
        expect(first.status, await first.clone().text()).to.equal(200);
        const second = await postRaw(g.gw.url + CHAT, BODY, routed(allowed.base('rebind.test')));
        await expectGatewayError(second, 400, 'forbidden_custom_host', /^custom host rebind\.test resolves to 127\.0\.0\.1, a loopback address, refused/);
        expect(answers).to.equal(2);
        expect(allowed.connections).to.equal(1);
        expect(other.connections).to.equal(0);
      } finally {
        restore();
        await g.gw.close(0);
        await allowed.close();
        await other.close();
      }
    });

    it('a default.webhook on a loopback name fails its check with the reason (446 under deny); nothing connects', async () => {
      const hook = await Loopback.start('127.0.0.1', 0, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"verdict":true}');
      });
      try {
        const config = {
          provider: 'openai',
          custom_host: up.base('localhost'), // the guardrail denies first (and the policy would refuse it)
          input_guardrails: [{ 'default.webhook': { webhookURL: `http://localhost:${hook.port}/hook` }, deny: true }],
        };
        const res = await postRaw(gw.url + CHAT, BODY, { authorization: `Bearer ${KEY}`, 'x-waygate-config': JSON.stringify(config) });
        const body = (await res.json()) as {
          hook_results: { before_request_hooks: Array<{ checks: Array<{ verdict: boolean; error?: { message: string } }> }> };
        };
        expect(res.status).to.equal(446);
        const check = body.hook_results.before_request_hooks[0]!.checks[0]!;
        expect(check.verdict).to.equal(false);
        expect(check.error?.message).to.equal(
          `http://localhost:${hook.port} was not called: host localhost resolves to 127.0.0.1, a loopback address, refused by the egress policy (egress.private is "deny")`,
        );
        expect(hook.connections).to.equal(0);
        expect(up.connections).to.equal(0);
      } finally {
        await hook.close();
      }
    });

    it("a caller's service account whose token_uri resolves to loopback → 400 with the reason; the token endpoint saw nothing", async () => {
      const token = await Loopback.start();
      const g = await gateway({ private: 'deny' }, { plugins: ['@waygate/provider-vertex-ai'] });
      try {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const account = {
          type: 'service_account',
          project_id: 'p',
          client_email: 'caller@p.iam.gserviceaccount.com',
          private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
          token_uri: `http://localhost:${token.port}/token`,
        };
        const res = await postRaw(g.gw.url + CHAT, JSON.stringify({ model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'Hello' }] }), {
          'x-waygate-provider': 'vertex-ai',
          'x-waygate-vertex-service-account-json': JSON.stringify(account),
        });
        await expectGatewayError(
          res,
          400,
          'forbidden_custom_host',
          /token_uri of the service account caller@p\.iam\.gserviceaccount\.com: host localhost resolves to 127\.0\.0\.1/,
        );
        expect(token.connections).to.equal(0);
      } finally {
        await g.gw.close(0);
        await token.close();
      }
    });

    it("the config file's own custom host is trusted: routed there without a check", async () => {
      const g = await gateway({ private: 'deny' }, { routing: { provider: 'openai', custom_host: up.base('127.0.0.1'), api_key: 'sk-file' } });
      try {
        const res = await postRaw(g.gw.url + CHAT, BODY, {});
        expect(res.status, await res.clone().text()).to.equal(200);
        expect(up.requests).to.deep.equal(['POST /v1/chat/completions']);
      } finally {
        await g.gw.close(0);
      }
    });
  });

  describe('"allow" lists what "deny" lets through', () => {
    let restore: () => void;
    before(() => {
      restore = answerNames((h) => (h.endsWith('.corp.example') ? '127.0.0.1' : undefined));
    });
    after(() => restore());

    const cases: Array<[string, string[], string]> = [
      ['a host name', ['localhost'], 'localhost'],
      ['a *.domain wildcard', ['*.corp.example'], 'llm.corp.example'],
      ['a CIDR (a name resolving into it)', ['127.0.0.0/8'], 'localhost'],
      ['a CIDR (a literal address in it)', ['127.0.0.0/8'], '127.0.0.1'],
    ];
    for (const [what, allow, host] of cases) {
      it(`${what}: ${allow.join(', ')} → ${host} is served`, async () => {
        const { gw } = await gateway({ private: 'deny', allow });
        try {
          const res = await postRaw(gw.url + CHAT, BODY, routed(up.base(host)));
          expect(res.status, await res.clone().text()).to.equal(200);
          expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).to.equal('served');
          expect(up.connections).to.equal(1);
        } finally {
          await gw.close(0);
        }
      });
    }

    it('an entry does not cover what it does not name: *.corp.example is not localhost', async () => {
      const { gw } = await gateway({ private: 'deny', allow: ['*.corp.example'] });
      try {
        const res = await postRaw(gw.url + CHAT, BODY, routed(up.base('localhost')));
        await expectGatewayError(res, 400, 'forbidden_custom_host', /refused by the egress policy/);
        expect(up.connections).to.equal(0);
      } finally {
        await gw.close(0);
      }
    });
  });

  describe('the default follows where the gateway listens', () => {
    it('on 127.0.0.1 with no egress config: "allow", so a custom host on localhost (a local Ollama) keeps working', async () => {
      const { gw, logs } = await gateway(undefined, { server: { host: '0.0.0.0' } }); // the listen host given at start wins
      try {
        expect(gw.host).to.equal('127.0.0.1');
        const line = await logs.waitFor((r) => r.msg === 'egress policy for caller-steered requests', 'the egress policy');
        expect(line).to.deep.include({ private: 'allow' });
        const res = await postRaw(gw.url + CHAT, BODY, routed(up.base('localhost')));
        expect(res.status, await res.clone().text()).to.equal(200);
        expect(up.connections).to.equal(1);
      } finally {
        await gw.close(0);
      }
    });

    it('an invalid egress config stops start-up with the path named', async () => {
      let err: Error | undefined;
      try {
        await gateway({ private: 'maybe', allow: ['https://x.example/'] });
      } catch (e) {
        err = e as Error;
      }
      expect(err?.name).to.equal('ConfigError');
      expect(err?.message)
        .to.match(/egress\.private/)
        .and.match(/egress\.allow\[0\]: not a host name, "\*\.domain", IP address or CIDR/);
    });
  });
});
