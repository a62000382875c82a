// Result types, statistics and formatting (console tables + Markdown for BENCHMARKS.md).

export const CONTENDERS = [
  'direct',
  'passthrough',
  'waygate',
  'waygate-fallback',
  'waygate-guardrail',
  'waygate-cache',
  'waygate-governed',
  'waygate-keys',
  'waygate-bare',
  'waygate-workers',
  'waygate-responses',
  'waygate-traced',
  'portkey',
] as const;
export type ContenderName = (typeof CONTENDERS)[number];

export const CASES = ['chat', 'chat-c1', 'stream'] as const;
export type CaseName = (typeof CASES)[number];

export const DESCRIPTIONS: Record<ContenderName, string> = {
  direct: 'fake upstream hit directly (ceiling of load generator + upstream)',
  passthrough: 'bare node:http + undici Pool proxy (the floor any Node proxy pays)',
  waygate: 'Waygate (core/dist/bin/waygate.js, default plugins, log level warn)',
  'waygate-fallback': 'Waygate as above, each request carrying an x-waygate-config fallback over two targets (the first answers)',
  'waygate-guardrail': 'Waygate as above, each request carrying a config with one input guardrail (default.regexMatch, passing)',
  'waygate-cache': 'Waygate as above with @waygate/cache-memory, each request carrying a cache config: every answer is an in-memory cache hit',
  'waygate-governed':
    'Waygate as above with @waygate/auth on: a virtual key from the SQLite store, a per-minute request and token limit, and cost and spend on every request',
  'waygate-keys':
    'Waygate-governed without the request log: what the governance issue measures (a virtual key, a rate limit, cost and spend on every request)',
  'waygate-bare': 'Waygate as `waygate` with @waygate/metrics turned off: what the metrics cost',
  'waygate-workers': 'Waygate as `waygate` with --workers 2 (node:cluster; the load generator and the upstream share the same cores)',
  'waygate-responses':
    'Waygate on POST /v1/responses, bridged to an Anthropic-format fake (/v1/messages): the Responses translation both ways, JSON and the typed event stream',
  'waygate-traced': 'Waygate as `waygate` with @waygate/tracing on (sampling 1.0, OTLP/HTTP batches to a loopback collector in the upstream process)',
  portkey: "Portkey's gateway @portkey-ai/gateway (build/start-server.js --headless)",
};

export interface CpuShare {
  /** Percent of one core used by the runner process (autocannon) during the run. */
  loadgen: number | null;
  upstream: number | null;
  /** The contender's process tree; null for `direct` or where /proc is unavailable. */
  contender: number | null;
  /**
   * Everything else busy on the machine: other processes plus kernel time not charged to a
   * process (e.g. loopback softirq). High values mean the run was disturbed.
   */
  other: number | null;
}

export interface RunStats {
  /** 2xx responses per second of wall time. */
  rps: number;
  /** Latencies in milliseconds over 2xx responses (full response, i.e. last byte for SSE). */
  p50: number;
  p99: number;
  mean: number;
  ok: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  durationS: number;
  cpu: CpuShare;
  /** Contender CPU time per 2xx response in microseconds (null for `direct`): cost, independent of load. */
  cpuUsPerReq: number | null;
}

export interface Summary {
  rounds: number;
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  ok: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  cpu: CpuShare;
  cpuUsPerReq: number | null;
}

export interface Check {
  label: string;
  value: number | null;
  unit: '×' | 'ms' | 'µs';
  /** e.g. `>= 0.6`; null for informational lines. */
  target: { op: '>=' | '<='; value: number } | null;
  result: 'PASS' | 'MISS' | 'SKIP' | 'INFO';
}

export interface Machine {
  date: string;
  node: string;
  platform: string;
  cpuModel: string;
  cores: number;
  memGiB: number;
  autocannon: string;
  portkey: string | null;
}

export interface Settings {
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
  workers: number;
  streamChunks: number;
  contenders: ContenderName[];
  cases: CaseName[];
  skipped: Partial<Record<ContenderName, string>>;
}

export interface Report {
  machine: Machine;
  settings: Settings;
  runs: Partial<Record<CaseName, Partial<Record<ContenderName, RunStats[]>>>>;
  summary: Partial<Record<CaseName, Partial<Record<ContenderName, Summary>>>>;
  checks: Check[];
  notes: string[];
}

// ---- statistics ---------------------------------------------------------------------------------

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianOrNull(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === values.length && present.length > 0 ? median(present) : null;
}

/** Nearest-rank percentile of an ascending-sorted sample. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(runs: RunStats[]): Summary {
  const sum = (pick: (r: RunStats) => number): number => runs.reduce((acc, r) => acc + pick(r), 0);
  return {
    rounds: runs.length,
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    mean: median(runs.map((r) => r.mean)),
    ok: sum((r) => r.ok),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    non2xx: sum((r) => r.non2xx),
    cpu: {
      loadgen: medianOrNull(runs.map((r) => r.cpu.loadgen)),
      upstream: medianOrNull(runs.map((r) => r.cpu.upstream)),
      contender: medianOrNull(runs.map((r) => r.cpu.contender)),
      other: medianOrNull(runs.map((r) => r.cpu.other)),
    },
    cpuUsPerReq: medianOrNull(runs.map((r) => r.cpuUsPerReq)),
  };
}

// ---- formatting ---------------------------------------------------------------------------------

const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
export const fmtRps = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a');
export const fmtMs = (v: number): string => fixed(v, v < 10 ? 2 : 1);
const fmtPct = (v: number | null): string => (v === null ? '–' : `${Math.round(v)}%`);
export const fmtCpu = (c: CpuShare): string => `${fmtPct(c.loadgen)} / ${fmtPct(c.upstream)} / ${fmtPct(c.contender)} / ${fmtPct(c.other)}`;
export const fmtErrors = (s: { errors: number; timeouts: number; non2xx: number }): string =>
  s.errors + s.timeouts + s.non2xx === 0 ? '0' : `${s.errors} err / ${s.timeouts} t/o / ${s.non2xx} non-2xx`;

export const fmtUs = (v: number | null): string => (v === null ? '–' : Math.round(v).toLocaleString('en-US'));

export function fmtCheckValue(c: Check): string {
  if (c.value === null) return 'n/a';
  if (c.unit === '×') return `${c.value.toFixed(2)}×`;
  const sign = c.value >= 0 ? '+' : '';
  return c.unit === 'ms' ? `${sign}${c.value.toFixed(3)} ms` : `${sign}${Math.round(c.value)} µs`;
}

export function fmtTarget(c: Check): string {
  if (!c.target) return '—';
  const op = c.target.op === '>=' ? '≥' : '≤';
  return c.unit === '×' ? `${op} ${c.target.value}×` : `${op} ${c.target.value} ${c.unit}`;
}

/** Plain-text table with right-aligned numeric columns (all but the first `leftCols`). */
export function textTable(header: string[], rows: string[][], leftCols = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i < leftCols ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(header: string[], align: ('l' | 'r')[], rows: string[][]): string {
  const sep = align.map((a) => (a === 'r' ? '--:' : ':--'));
  return [header, sep, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function machineLine(m: Machine): string {
  return `Node ${m.node} · ${m.cpuModel} × ${m.cores} cores · ${m.memGiB} GiB · ${m.platform}`;
}

export function settingsLine(s: Settings): string {
  const gen = s.workers > 0 ? `${s.workers} worker threads` : 'in-process, no workers';
  return (
    `autocannon (${gen}) in the runner process · ${s.durationS} s × ${s.rounds} round(s) per contender and case, ` +
    `interleaved, ${s.warmupS} s warm-up before each round · ${s.connections} connections (chat-c1: 1) · ` +
    `fake upstream without added latency, ${s.streamChunks} SSE chunks per stream`
  );
}

export function resultRows(report: Report): string[][] {
  const rows: string[][] = [];
  for (const caseName of report.settings.cases) {
    for (const name of report.settings.contenders) {
      const s = report.summary[caseName]?.[name];
      if (!s) continue;
      rows.push([caseName, name, fmtRps(s.rps), fmtMs(s.p50), fmtMs(s.p99), fmtErrors(s), fmtUs(s.cpuUsPerReq), fmtCpu(s.cpu)]);
    }
  }
  return rows;
}

export const RESULT_HEADER = ['case', 'contender', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'proxy µs/req', 'CPU gen/up/proxy/other'];

export function markdown(report: Report): string {
  const { machine, settings } = report;
  const out: string[] = [];
  out.push(`### Benchmark run ${machine.date}`);
  out.push('');
  out.push(`${machineLine(machine)}  `);
  out.push(`${settingsLine(settings)}  `);
  out.push(`autocannon ${machine.autocannon}` + (machine.portkey ? ` · @portkey-ai/gateway ${machine.portkey}` : ''));
  out.push('');
  out.push(
    'Medians over rounds. Latency is to the last byte (whole SSE stream for `stream`). ' +
      'CPU is % of one core used during the measured runs by the load generator / upstream / contender / ' +
      'everything else on the machine (other processes, unattributed kernel time); ' +
      '"proxy CPU µs/req" is the contender\'s CPU time per response, a cost that does not depend on how loaded the machine was.',
  );
  out.push('');
  out.push(
    markdownTable(
      ['case', 'contender', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'proxy CPU µs/req', 'CPU gen / up / proxy / other'],
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
      resultRows(report),
    ),
  );
  out.push('');
  out.push(
    markdownTable(
      ['check', 'value', 'target', 'result'],
      ['l', 'r', 'r', 'l'],
      report.checks.map((c) => [c.label, fmtCheckValue(c), fmtTarget(c), c.result === 'INFO' ? '' : `**${c.result}**`]),
    ),
  );
  const skipped = Object.entries(settings.skipped);
  if (skipped.length > 0 || report.notes.length > 0) {
    out.push('');
    for (const [name, why] of skipped) out.push(`- skipped ${name}: ${why}`);
    for (const note of report.notes) out.push(`- ${note}`);
  }
  return out.join('\n');
}
