// Small helpers shared by the plugin and life-cycle suites: where the fixtures live, temp config
// files, free ports, and reading OpenAI-style answers (JSON and SSE) off the wire.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/fixtures, from test/dist/src/helpers. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

export function fixture(...parts: string[]): string {
  return path.join(FIXTURES_DIR, ...parts);
}

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'waygate-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `config` as JSON to `dir/name` and returns the file's path. */
export async function writeConfig(dir: string, config: unknown, name = 'waygate.json'): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

/** A path to `target` relative to `fromDir`, in the `./` or `../` form a config file uses. */
export function relativeSpec(fromDir: string, target: string): string {
  const rel = path.relative(fromDir, target).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** A port that was free a moment ago (for flags that need a literal port number). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** True if this machine lets us bind `host` (e.g. 127.0.0.2, loopback on Linux but not everywhere). */
export function canBind(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(0, host, () => srv.close(() => resolve(true)));
  });
}

/** Tries a TCP connection; resolves with the error code (e.g. ECONNREFUSED) or 'connected'. */
export function tryConnect(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code ?? err.message);
    });
  });
}

/**
 * Polls until a new connection to the port is refused (ECONNREFUSED) or `withinMs` passes; returns
 * the last outcome. A stop signal and the listener closing are not one atomic step, hence the poll.
 */
export async function refusedWithin(port: number, host = '127.0.0.1', withinMs = 1000): Promise<string> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const outcome = await tryConnect(port, host, 500);
    if (outcome === 'ECONNREFUSED' || Date.now() >= deadline) return outcome;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The `data:` payloads of an SSE body, in order. */
export function sseData(text: string): string[] {
  const out: string[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r?\n/).filter((l) => l.startsWith('data:'));
    if (lines.length) out.push(lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n'));
  }
  return out;
}

/** The assistant text carried by a chat completion SSE body. */
export function sseContent(text: string): string {
  let content = '';
  for (const data of sseData(text)) {
    if (data === '[DONE]') continue;
    const chunk = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }> };
    for (const choice of chunk.choices ?? []) content += choice.delta?.content ?? '';
  }
  return content;
}

export interface JsonAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** POSTs JSON and reads a JSON answer. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`expected a JSON answer from ${url}, got ${res.status}: ${text.slice(0, 500)}`);
  }
  return { status: res.status, headers: res.headers, body: json };
}

export async function getJson(url: string): Promise<JsonAnswer> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

export const CHAT = Object.freeze({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });
