// Child-process plumbing for the benchmark: spawn on loopback, wait until ready, account CPU,
// and always kill what was started (normal end, error, SIGINT/SIGTERM).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Last few KB of stderr (and stdout when captured), for error messages. */
  tail(): string;
  /** Resolves with a description once the process has exited. */
  readonly exited: Promise<string>;
}

const live = new Set<ChildProcess>();
const TAIL_BYTES = 4096;

export interface SpawnOptions {
  /** Node flags placed before the script, e.g. `--import`. */
  nodeArgs?: string[];
  /** A program that runs node, and its arguments (valgrind for instruction counts): `wrapper… node nodeArgs… script args…`. */
  wrapper?: string[];
  /** Keep stdout (for READY lines / diagnostics); otherwise it is discarded. */
  stdout?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function spawnNode(name: string, script: string, args: string[], opts: SpawnOptions = {}): Child {
  const [command, ...prefix] = opts.wrapper ? [...opts.wrapper, process.execPath] : [process.execPath];
  const proc = spawn(command!, [...prefix, ...(opts.nodeArgs ?? []), script, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', opts.stdout ? 'pipe' : 'ignore', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${name}: failed to spawn ${script}`);
  live.add(proc);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  proc.stderr?.on('data', keep);
  proc.stdout?.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve(signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
    proc.once('error', (err) => {
      live.delete(proc);
      resolve(`failed: ${err.message}`);
    });
  });
  return { name, proc, pid: proc.pid, tail: () => tail, exited };
}

function failure(child: Child, what: string): Error {
  const tail = child.tail().trim();
  return new Error(`${child.name}: ${what}${tail ? `\n--- ${child.name} output (tail) ---\n${tail}` : ''}`);
}

/** Wait for a stdout line matching `pattern`; rejects if the child exits or the timeout passes. */
export function waitForLine(child: Child, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(failure(child, `no line matching ${pattern} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        const match = pattern.exec(line);
        if (match) {
          cleanup();
          resolve(match);
          return;
        }
      }
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.proc.stdout?.off('data', onData);
    };
    child.proc.stdout?.on('data', onData);
    void child.exited.then((how) => {
      cleanup();
      reject(failure(child, `${how} before becoming ready`));
    });
  });
}

/** Poll `url` with GET until it answers 200; rejects if the child exits or the timeout passes. */
export async function waitForHttp200(child: Child, url: string, timeoutMs = 30_000): Promise<void> {
  let exited: string | undefined;
  void child.exited.then((how) => {
    exited = how;
  });
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (exited) throw failure(child, `${exited} before ${url} answered 200`);
    try {
      const res = await request(url, { method: 'GET', headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      if (res.statusCode === 200) return;
      last = `HTTP ${res.statusCode}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw failure(child, `${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

/** A currently free TCP port on 127.0.0.1 (for children that need an explicit --port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/** Stop every child still running: SIGTERM, then SIGKILL after `graceMs`. */
export async function killAll(graceMs = 2000): Promise<void> {
  const procs = [...live];
  await Promise.all(
    procs.map(async (proc) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    }),
  );
}

/** Last-resort synchronous cleanup for `process.on('exit')`. */
export function killAllSync(): void {
  for (const proc of live) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
}

// ---- CPU accounting (Linux /proc; other platforms report null) -------------------------------

/** Clock ticks per second for /proc/<pid>/stat times; 100 on every mainstream Linux build. */
const CLK_TCK = 100;

function ownTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: state(3) ppid(4) ... utime(14) stime(15).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function childPids(pid: number): number[] {
  const pids: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
    if (text) for (const child of text.split(/\s+/)) pids.push(Number(child));
  }
  return pids;
}

/** CPU milliseconds (user + system) used so far by `pid` and its descendants, or null. */
export function treeCpuMs(pid: number): number | null {
  try {
    let ticks = 0;
    const stack = [pid];
    while (stack.length > 0) {
      const current = stack.pop()!;
      try {
        ticks += ownTicks(current);
        stack.push(...childPids(current));
      } catch (err) {
        if (current === pid) throw err;
      }
    }
    return (ticks * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Busy CPU milliseconds summed over all cores since boot (from /proc/stat), or null. */
export function systemBusyMs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}
