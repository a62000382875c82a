// What the gateway writes of a long stream to a client that stops reading for a while, end to end
// (startGateway with the default plugins) in front of a loopback upstream that writes as fast as its
// socket takes the bytes.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { sleep } from '@waygate/core/testing';

/** About 33 MB of events: more than the socket buffers between the upstream and the client hold (some 8-10 MB here). */
const EVENTS = 8000;
const PAD = 'x'.repeat(4000);
const chunk = (delta: Record<string, unknown>) =>
  JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta, finish_reason: null }] });

/** The upstream's one stream, written ten events at a time whenever its socket takes more. */
class FloodUpstream {
  server!: http.Server;
  url = '';
  written = 0;
  done = false;
  /** The last write was refused and no 'drain' came since. */
  blocked = false;

  static async start(): Promise<FloodUpstream> {
    const up = new FloodUpstream();
    up.server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const events = [chunk({ role: 'assistant', content: '' })];
        for (let i = 0; i < EVENTS; i++) events.push(chunk({ content: `${i}:${PAD}` }));
        events.push('[DONE]');
        let next = 0;
        const more = (): void => {
          up.blocked = false;
          while (next < events.length) {
            const group = events
              .slice(next, next + 10)
              .map((d) => `data: ${d}\n\n`)
              .join('');
            next += 10;
            up.written += group.length;
            if (!res.write(group)) {
              up.blocked = true;
              res.once('drain', more);
              return;
            }
          }
          up.done = true;
          res.end();
        };
        more();
      });
    });
    await new Promise<void>((resolve) => up.server.listen(0, '127.0.0.1', resolve));
    up.url = `http://127.0.0.1:${(up.server.address() as AddressInfo).port}/v1`;
    return up;
  }

  /** Resolves once everything is written, or once the upstream has made no progress, blocked, for 20 looks in a row. */
  async heldOrDone(): Promise<void> {
    let last = -1;
    for (let still = 0; !this.done && still < 20;) {
      await sleep(10);
      still = this.blocked && this.written === last ? still + 1 : 0;
      last = this.written;
    }
  }
}

describe('a long stream to a client that stops reading (end to end)', function () {
  // Megabytes through loopback until the socket buffers fill: slow on a loaded machine, never a timing check.
  this.timeout(60_000);
  let gw: Gateway;
  let up: FloodUpstream;

  before(async () => {
    up = await FloodUpstream.start();
    gw = await startGateway({ config: { log: { level: 'error' } }, port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await gw?.close();
    up?.server.close();
  });

  it('holds the upstream back while the client does not read, then delivers every event once, in order', async () => {
    let doneWhilePaused: boolean | undefined;
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test', 'x-waygate-provider': 'openai', 'x-waygate-custom-host': up.url },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        expect(res.statusCode).to.equal(200);
        res.setEncoding('utf8');
        let body = '';
        res.once('data', () => {
          res.pause();
          void up.heldOrDone().then(() => {
            doneWhilePaused = up.done;
            res.resume();
          });
        });
        res.on('data', (s: string) => (body += s));
        res.on('end', () => resolve(body));
        res.on('error', reject);
      });
      req.end(JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    });
    // A gateway that kept reading would have taken the whole stream into memory by now.
    expect(doneWhilePaused, 'the upstream wrote its whole stream while the client read nothing').to.equal(false);
    const data = text
      .split('\n\n')
      .filter((block) => block.startsWith('data: '))
      .map((block) => block.slice(6));
    expect(data.length).to.equal(EVENTS + 2);
    expect(data[data.length - 1]).to.equal('[DONE]');
    const numbers = data
      .slice(1, -1)
      .map((d) => (JSON.parse(d) as { choices: Array<{ delta: { content: string } }> }).choices[0]!.delta.content.split(':')[0]);
    expect(numbers).to.deep.equal(Array.from({ length: EVENTS }, (_, i) => String(i)));
  });
});
