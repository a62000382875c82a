// Runs the real CLI (core/dist/bin/waygate.js) as a child process and watches its output: the human
// banner on stderr, JSON log lines on stdout. Every child is tracked so a suite can kill whatever
// is still running in `after`, by pid.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import os from 'node:os';

const require = createRequire(import.meta.url);
/** The CLI script, found through @waygate/core's package (the same file the `waygate` bin runs). */
export const CLI = path.join(path.dirname(require.resolve('@waygate/core/package.json')), 'dist', 'bin', 'waygate.js');

/** Variables the CLI reads; cleared from the inherited environment so the host's settings do not leak in. */
const CLI_ENV = [
  'PORT',
  'HOST',
  'WAYGATE_CONFIG',
  'WAYGATE_LOG_LEVEL',
  'WAYGATE_ADMIN_KEY',
  'WAYGATE_DATA_DIR',
  'WAYGATE_URL',
  'DATABASE_URL',
  ...Object.keys(process.env).filter((k) => k.startsWith('OTEL_')),
];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Banner {
  version: string;
  url: string;
  host: string;
  port: number;
  plugins: string[];
}

const live = new Set<CliProcess>();

export class CliProcess {
  readonly proc: ChildProcess;
  readonly exited: Promise<Exit>;
  #stdout = '';
  #stderr = '';
  #exit: Exit | undefined;
  readonly #listeners = new Set<() => void>();

  constructor(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of CLI_ENV) delete env[name];
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    this.proc = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? os.tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this);
    this.proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.#stdout += s;
      this.#notify();
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.#stderr += s;
      this.#notify();
    });
    this.exited = new Promise<Exit>((resolve) => {
      // 'close' (not 'exit'): by then stdout and stderr have been read to the end.
      this.proc.once('close', (code, signal) => {
        this.#exit = { code, signal };
        live.delete(this);
        this.#notify();
        resolve(this.#exit);
      });
      this.proc.once('error', (err) => {
        this.#stderr += `\n[spawn error] ${err.message}`;
        this.#exit = { code: null, signal: null };
        live.delete(this);
        this.#notify();
        resolve(this.#exit);
      });
    });
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get exitInfo(): Exit | undefined {
    return this.#exit;
  }

  /** Complete stdout lines so far. */
  stdoutLines(): string[] {
    const text = this.#stdout;
    const end = text.lastIndexOf('\n');
    return end === -1
      ? []
      : text
          .slice(0, end)
          .split('\n')
          .filter((l) => l.trim() !== '');
  }

  /** stdout lines parsed as JSON; throws naming the first line that is not JSON. */
  logLines(): Array<Record<string, any>> {
    return this.stdoutLines().map((line) => {
      try {
        return JSON.parse(line) as Record<string, any>;
      } catch {
        throw new Error(`stdout line is not JSON: ${line}`);
      }
    });
  }

  #notify(): void {
    for (const fn of [...this.#listeners]) fn();
  }

  describe(): string {
    return `--- stderr ---\n${this.#stderr.slice(-3000)}\n--- stdout ---\n${this.#stdout.slice(-3000)}`;
  }

  /** Resolves when `check` returns a value other than undefined; rejects on exit (unless allowed) or timeout. */
  waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 20_000, opts: { evenAfterExit?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#listeners.delete(poll);
      };
      const poll = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (err) {
          done();
          return reject(err);
        }
        if (value !== undefined) {
          done();
          return resolve(value);
        }
        if (this.#exit && !opts.evenAfterExit) {
          done();
          reject(new Error(`the CLI exited (${JSON.stringify(this.#exit)}) before ${what}\n${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(poll);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.describe()}`));
      }, timeoutMs);
      this.#listeners.add(poll);
      poll();
    });
  }

  waitForStderr(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return this.waitFor(`stderr matching ${pattern}`, () => pattern.exec(this.#stderr) ?? undefined, timeoutMs);
  }

  /** Waits for the start-up banner and parses it. */
  async ready(timeoutMs = 20_000): Promise<Banner> {
    const m = await this.waitFor(
      'the start-up banner',
      () =>
        /Waygate (\S+) listening on (http:\/\/(\[[^\]]+\]|[^:/\s]+):(\d+)) \(config: [^\n]*\)\nPlugins loaded:\n((?: {2}\S+\n)*)/.exec(this.#stderr) ??
        undefined,
      timeoutMs,
    );
    return {
      version: m[1]!,
      url: m[2]!,
      host: m[3]!.replace(/^\[|\]$/g, ''),
      port: Number(m[4]),
      plugins: m[5]!
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    };
  }

  /** Waits for the process to end; rejects (after killing it) if it is still running after `timeoutMs`. */
  async waitExit(timeoutMs = 20_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL');
        reject(new Error(`the CLI did not exit within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.#exit === undefined && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, signal);
      } catch {
        /* already gone */
      }
    }
  }
}

export function spawnCli(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): CliProcess {
  return new CliProcess(args, opts);
}

/** Kills every CLI child this process started that is still running, and waits for them to end. */
export async function killAllClis(): Promise<void> {
  const running = [...live];
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(running.map((c) => c.exited));
}
