import { expect } from 'chai';
import { eventually } from '@waygate/core/testing';
import { extractUrls, log, validUrls, webhook } from '../src/index.js';
import { newKernel } from '@waygate/core/testing';
import { TestServer, answer, closedPort, input, json, rejects, run } from './helpers.js';

/** Headers a client sent to the gateway: none of them may reach a webhook or a log collector. */
const incoming = {
  authorization: 'Bearer sk-client-secret',
  'x-portkey-api-key': 'pk-secret',
  'x-portkey-config': '{"provider":"openai"}',
  cookie: 'session=abc',
};

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('default checks that call out', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.start();
  });
  after(() => server.close());
  beforeEach(() => {
    server.received.length = 0;
  });

  describe('webhook', () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] };

    it('POSTs the context with only the configured headers and applies the verdict', async () => {
      server.handler = (_req, res) => json(res, 200, { verdict: true, data: { score: 0.1 } });
      const r = await run(
        webhook,
        { webhookURL: `${server.url}/hook?token=t0k`, headers: { 'X-Api-Key': 'hook-key' } },
        { json: body, headers: incoming, metadata: { user: 'u1' }, provider: 'openai' },
      );
      expect(r.verdict).to.equal(true);
      expect(r.data).to.deep.include({ webhook: server.url, responseData: { score: 0.1 } });
      expect(JSON.stringify(r.data)).to.not.include('t0k');
      const got = server.received[0]!;
      expect(got.method).to.equal('POST');
      expect(got.url).to.equal('/hook?token=t0k');
      expect(got.headers['x-api-key']).to.equal('hook-key');
      expect(got.headers['content-type']).to.equal('application/json');
      for (const name of Object.keys(incoming)) expect(got.headers, name).to.not.have.property(name);
      expect(got.body).to.not.include('sk-client-secret');
      expect(got.body).to.not.include('session=abc');
      const sent = JSON.parse(got.body);
      expect(sent).to.deep.equal({
        request: { json: body, text: 'Hello', isStreamingRequest: false },
        eventType: 'beforeRequestHook',
        requestType: 'chatComplete',
        endpoint: 'chat.completions',
        metadata: { user: 'u1' },
        provider: 'openai',
      });
    });

    it('fails when the webhook says so', async () => {
      server.handler = (_req, res) => json(res, 200, { verdict: false });
      expect((await run(webhook, { webhookURL: server.url }, { text: 'x' })).verdict).to.equal(false);
    });

    it('applies transformedData.request.json before the call', async () => {
      const rewritten = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello [checked]' }] };
      server.handler = (_req, res) =>
        json(res, 200, { verdict: true, transformedData: { request: { json: rewritten }, response: { json: { ignored: true } } } });
      const r = await run(webhook, { webhookURL: server.url }, { json: body });
      expect(r.transformedJson).to.deep.equal(rewritten);
      expect(webhook.mutates).to.equal(true);
    });

    it('after the call: sends the answer, and applies transformedData.response.json only', async () => {
      const rewritten = { id: 'c', choices: [{ index: 0, message: { role: 'assistant', content: 'redacted' } }] };
      server.handler = (_req, res) => json(res, 200, { verdict: true, transformedData: { request: { json: { no: 1 } }, response: { json: rewritten } } });
      const original = { id: 'c', choices: [{ index: 0, message: { role: 'assistant', content: 'secret' } }] };
      const r = await run(webhook, { webhookURL: server.url }, { json: body, ...answer('secret', original) });
      expect(r.transformedJson).to.deep.equal(rewritten);
      const sent = JSON.parse(server.received[0]!.body);
      expect(sent.eventType).to.equal('afterRequestHook');
      expect(sent.response).to.deep.equal({ json: original, text: 'secret', statusCode: 200 });
    });

    it('throws (so the guardrail fails closed) on a non-2xx answer, a body that is not JSON, or no boolean verdict', async () => {
      server.handler = (_req, res) => json(res, 500, { verdict: true });
      expect((await rejection(run(webhook, { webhookURL: server.url }, { text: 'x' }))).message).to.match(/answered 500/);
      server.handler = (_req, res) => res.end('ok');
      expect((await rejection(run(webhook, { webhookURL: server.url }, { text: 'x' }))).message).to.match(/not JSON/);
      server.handler = (_req, res) => json(res, 200, { verdict: 'yes' });
      expect((await rejection(run(webhook, { webhookURL: server.url }, { text: 'x' }))).message).to.match(/boolean "verdict"/);
      server.handler = (_req, res) => {
        res.writeHead(302, { location: 'http://169.254.169.254/' });
        res.end();
      };
      expect((await rejection(run(webhook, { webhookURL: server.url }, { text: 'x' }))).message).to.match(/answered 302/);
    });

    it('throws when the webhook does not answer within the timeout', async () => {
      server.handler = () => undefined; // never answers
      const err = await rejection(run(webhook, { webhookURL: server.url, timeout: 50 }, { text: 'x' }));
      expect(err.message).to.match(/did not answer within 50 ms/);
    });

    it('throws when the webhook sends its headers and then stalls: the timeout covers the body', async () => {
      server.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"verdict":');
      };
      const err = await rejection(run(webhook, { webhookURL: server.url, timeout: 50 }, { text: 'x' }));
      expect(err.message).to.match(/did not answer within 50 ms/);
    });

    it('throws on an answer over 4 MiB, reading no more of it', async () => {
      let written = 0;
      let cut = false;
      server.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.once('close', () => (cut = !res.writableEnded));
        const chunk = Buffer.alloc(64 * 1024, 'a');
        const pump = () => {
          while (written < 64 * 1024 * 1024 && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end();
        };
        res.write('{"verdict":true,"data":"');
        pump();
      };
      const err = await rejection(run(webhook, { webhookURL: server.url, timeout: 10_000 }, { text: 'x' }));
      expect(err.message).to.match(/answered more than 4194304 bytes/);
      await eventually(2000, () => cut, 'the webhook connection closed before the answer was written');
      expect(written).to.be.below(32 * 1024 * 1024);
    });

    it('throws when the webhook cannot be reached, and when the client went away', async () => {
      const port = await closedPort();
      expect((await rejection(run(webhook, { webhookURL: `http://127.0.0.1:${port}/` }, { text: 'x' }))).message).to.match(/could not be reached/);
      server.handler = () => undefined;
      const ctrl = new AbortController();
      const p = run(webhook, { webhookURL: server.url }, { text: 'x', signal: ctrl.signal });
      ctrl.abort();
      expect((await rejection(p)).message).to.match(/cancelled/);
    });

    it('accepts headers as a JSON string (as Portkey does) and defaults the timeout to 3000 ms', () => {
      const p = webhook.params.parse({ webhookURL: 'https://hooks.example/g', headers: '{"Authorization":"Bearer x"}' });
      expect(p).to.deep.equal({ webhookURL: 'https://hooks.example/g', headers: { authorization: 'Bearer x' }, timeout: 3000 });
    });

    it('rejects a missing or non-http URL, a cloud metadata address, bad headers and a bad timeout', () => {
      expect(rejects(webhook, {})).to.match(/webhookURL/);
      expect(rejects(webhook, { webhookURL: 'not a url' })).to.match(/not an absolute URL/);
      expect(rejects(webhook, { webhookURL: 'file:///etc/passwd' })).to.match(/only http and https/);
      expect(rejects(webhook, { webhookURL: 'http://169.254.169.254/latest/meta-data' })).to.match(/metadata/);
      expect(rejects(webhook, { webhookURL: 'http://metadata.google.internal/' })).to.match(/metadata/);
      expect(rejects(webhook, { webhookURL: 'http://user:pw@hooks.example/' })).to.match(/credentials/);
      expect(rejects(webhook, { webhookURL: 'https://h.example', headers: { 'bad name': 'x' } })).to.match(/not a valid header name/);
      expect(rejects(webhook, { webhookURL: 'https://h.example', headers: { a: 'x\r\ny: z' } })).to.match(/line breaks/);
      expect(rejects(webhook, { webhookURL: 'https://h.example', headers: '{nope' })).to.match(/not JSON/);
      expect(rejects(webhook, { webhookURL: 'https://h.example', timeout: 0 })).to.match(/timeout/);
    });
  });

  describe('log', () => {
    it('POSTs the context without the request headers and always passes', async () => {
      server.handler = (_req, res) => json(res, 200, {});
      const r = await run(log, { logURL: `${server.url}/collect`, headers: { 'x-log-key': 'k' } }, { text: 'hi', headers: incoming, ...answer('hello') });
      expect(r.verdict).to.equal(true);
      expect(r.data).to.deep.include({ logged: true, status: 200 });
      const got = server.received[0]!;
      expect(got.url).to.equal('/collect');
      expect(got.headers['x-log-key']).to.equal('k');
      expect(got.headers).to.not.have.property('authorization');
      expect(JSON.parse(got.body)).to.deep.include({ eventType: 'afterRequestHook' });
    });
    it('still passes when the collector fails, is down, or is too slow', async () => {
      server.handler = (_req, res) => json(res, 503, {});
      expect(await run(log, { logURL: server.url }, { text: 'x' })).to.deep.include({ verdict: true });
      expect((await run(log, { logURL: server.url }, { text: 'x' })).data).to.deep.include({ logged: false, status: 503 });
      const port = await closedPort();
      expect((await run(log, { logURL: `http://127.0.0.1:${port}` }, { text: 'x' })).data).to.deep.include({ logged: false });
      server.handler = () => undefined;
      const slow = await run(log, { logURL: server.url, timeout: 30 }, { text: 'x' });
      expect(slow.verdict).to.equal(true);
      expect(slow.data).to.deep.include({ logged: false });
    });
    it('rejects a missing or metadata URL', () => {
      expect(rejects(log, {})).to.match(/logURL/);
      expect(rejects(log, { logURL: 'http://[fd00:ec2::254]/' })).to.match(/metadata/);
    });
  });

  describe('validUrls', () => {
    before(() => {
      server.handler = (req, res) => {
        if (req.url === '/missing') res.writeHead(404);
        else if (req.url === '/nohead' && req.method === 'HEAD') res.writeHead(405);
        else if (req.url === '/moved') res.writeHead(301, { location: '/ok' });
        else res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(req.method === 'HEAD' ? undefined : 'hello');
      };
    });

    it('extracts URLs without the punctuation around them', () => {
      expect(extractUrls('See https://a.example/x. Also (http://b.example/y), and https://en.wikipedia.org/wiki/Foo_(bar)!')).to.deep.equal([
        'https://a.example/x',
        'http://b.example/y',
        'https://en.wikipedia.org/wiki/Foo_(bar)',
      ]);
      expect(extractUrls('[docs](https://c.example/z) https://c.example/z')).to.deep.equal(['https://c.example/z']);
    });

    it('passes when every URL answers (HEAD; a redirect counts; GET when HEAD is refused)', async () => {
      const text = `Try ${server.url}/ok and ${server.url}/moved or ${server.url}/nohead.`;
      const r = await run(validUrls, {}, answer(text));
      expect(r.verdict).to.equal(true);
      expect(server.received.map((x) => `${x.method} ${x.url}`)).to.have.members(['HEAD /ok', 'HEAD /moved', 'HEAD /nohead', 'GET /nohead']);
    });

    it('fails when one answers 404 or is refused, listing which', async () => {
      const port = await closedPort();
      const refused = `http://127.0.0.1:${port}/x`;
      const r = await run(validUrls, {}, answer(`${server.url}/ok ${server.url}/missing ${refused}`));
      expect(r.verdict).to.equal(false);
      expect(r.data).to.deep.include({ validUrls: [`${server.url}/ok`], invalidUrls: [`${server.url}/missing`, refused] });
    });

    it('never calls a metadata address: it counts as invalid', async () => {
      const r = await run(validUrls, {}, answer('http://169.254.169.254/latest/meta-data/'));
      expect(r.verdict).to.equal(false);
    });

    it("fails a text without URLs, with or without not (Portkey's verdict); not inverts a verdict on URLs", async () => {
      const none = await run(validUrls, {}, answer('no links here'));
      expect(none.verdict).to.equal(false);
      expect(none.data).to.deep.include({ validUrls: [], invalidUrls: [] });
      expect((await run(validUrls, { not: true }, answer('no links here'))).verdict).to.equal(false);
      expect((await run(validUrls, {}, answer(''))).verdict).to.equal(false);
      expect(server.received).to.have.length(0);
      expect((await run(validUrls, { not: true }, answer(`${server.url}/missing`))).verdict).to.equal(true);
      expect((await run(validUrls, { not: true }, answer(`${server.url}/ok`))).verdict).to.equal(false);
    });

    it('onlyDNS: resolves host names (localhost) without calling them', async () => {
      const port = await closedPort();
      const r = await run(validUrls, { onlyDNS: true }, answer(`http://localhost:${port}/anything and http://127.0.0.1:${port}/`));
      expect(r.verdict).to.equal(true);
      expect(server.received).to.have.length(0);
      const bad = await run(validUrls, { onlyDNS: true, timeout: 2000 }, answer('http://no-such-host.invalid/page'));
      expect(bad.verdict).to.equal(false);
    });

    it('fails rather than leave URLs unchecked past maxUrls', async () => {
      const text = [1, 2, 3].map((i) => `${server.url}/ok${i}`).join(' ');
      const r = await run(validUrls, { maxUrls: 2 }, answer(text));
      expect(r.verdict).to.equal(false);
      expect(server.received).to.have.length(0);
    });

    it('rejects bad parameters', () => {
      expect(rejects(validUrls, { onlyDNS: 'yes' })).to.match(/onlyDNS/);
      expect(rejects(validUrls, { maxUrls: 0 })).to.match(/maxUrls/);
      expect(rejects(validUrls, { timeout: 100000 })).to.match(/timeout/);
      expect(validUrls.params.parse({})).to.deep.equal({ onlyDNS: false, not: false, timeout: 3000, maxUrls: 20 });
    });

    it('stops when the client goes away', async () => {
      server.handler = () => undefined;
      const ctrl = new AbortController();
      const i = input(validUrls, {}, { ...answer(`${server.url}/slow`), signal: ctrl.signal });
      const p = validUrls.run(i);
      ctrl.abort();
      expect((await p).verdict).to.equal(false);
    });
  });

  describe('under an egress policy that refuses loopback ("private": "deny")', () => {
    const egress = newKernel({ egress: { private: 'deny' } }).egress;
    // `localhost` resolves to 127.0.0.1 here: a name, so only the connection's lookup can refuse it.
    const viaName = () => server.url.replace('127.0.0.1', 'localhost');
    const policyReason =
      /was not called: host localhost resolves to 127\.0\.0\.1, a loopback address, refused by the egress policy \(egress\.private is "deny"\)/;
    beforeEach(() => {
      server.connections = 0;
      server.handler = (_req, res) => json(res, 200, { verdict: true });
    });

    it('webhook: a URL whose name resolves to loopback fails the check with the reason, and nothing connects', async () => {
      const err = await rejection(run(webhook, { webhookURL: `${viaName()}/hook` }, { text: 'x', egress }));
      expect(err.message).to.match(policyReason);
      expect(server.connections).to.equal(0);
      // The same call under the test kernel's policy (loopback allowed) reaches the server.
      expect((await run(webhook, { webhookURL: `${viaName()}/hook` }, { text: 'x' })).verdict).to.equal(true);
      expect(server.connections).to.equal(1);
    });

    it('log: not logged, with the reason; the verdict still passes', async () => {
      const r = await run(log, { logURL: viaName() }, { text: 'x', egress });
      expect(r.verdict).to.equal(true);
      expect(r.data).to.deep.include({ logged: false });
      expect((r.data as { explanation: string }).explanation).to.match(policyReason);
      expect(server.connections).to.equal(0);
    });

    it('validUrls: a loopback URL, by name or literal, is invalid and never called', async () => {
      const r = await run(validUrls, {}, { ...answer(`${viaName()}/ok ${server.url}/ok`), egress });
      expect(r.verdict).to.equal(false);
      expect(r.data).to.deep.include({ validUrls: [], invalidUrls: [`${viaName()}/ok`, `${server.url}/ok`] });
      expect(server.connections).to.equal(0);
    });
  });
});
