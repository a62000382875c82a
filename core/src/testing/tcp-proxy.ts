/**
 * A TCP proxy on loopback in front of a service (a Redis, say) that a test cuts and restores to play
 * an outage, or freezes to play a service that stops answering.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { REDIS_URL } from './redis.js';

export class TcpProxy {
  readonly #sockets = new Set<net.Socket>();
  readonly #clients = new Set<net.Socket>();
  #server: net.Server | undefined;
  #closed = false;
  /** The port the proxy listens on (127.0.0.1); the same after a cut and resume. */
  port = 0;

  private constructor(
    readonly host: string,
    readonly targetPort: number,
  ) {}

  /** A proxy to host:port, listening on a free loopback port. */
  static async start(host: string, port: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(host, port);
    await proxy.resume();
    return proxy;
  }

  /** A proxy to the Redis of a URL (default REDIS_URL); `urlFor` gives the URL to connect through it. */
  static forRedis(redisUrl: string = REDIS_URL): Promise<TcpProxy> {
    const u = new URL(redisUrl);
    return TcpProxy.start(u.hostname.replace(/^\[|\]$/g, ''), Number(u.port || 6379));
  }

  /** `url` pointed at this proxy, its credentials, database and options kept. */
  urlFor(url: string = REDIS_URL): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.href;
  }

  /** Accepts connections again, on the same port as before the cut. */
  async resume(): Promise<void> {
    if (this.#closed) throw new Error('TcpProxy: resume() after close()');
    if (this.#server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      this.#clients.add(client);
      client.on('close', () => this.#clients.delete(client));
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Keeps the connections open but stops passing on what clients send: a service that no longer answers. */
  freeze(): void {
    for (const s of this.#clients) s.pause();
  }

  /** Passes on what clients send again, including what was held while frozen. */
  thaw(): void {
    for (const s of this.#clients) s.resume();
  }

  /** The outage: every open connection cut and the port closed (new connections are refused) until `resume()`. */
  async cut(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Cuts for good, at the end of a test (safe to call more than once). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.cut();
  }
}
