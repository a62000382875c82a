import cluster from 'node:cluster';

/**
 * `/metrics` under `waygate --workers N`: the worker that gets the scrape asks the primary to gather
 * every worker's exposition (the primary sends each a `collect` and hands the answers back), then
 * merges them, so one scrape sees the whole process group. The messages, on node:cluster's IPC
 * channel:
 *
 *   worker → primary   { waygate: 'gather', topic: 'metrics', id }
 *   primary → worker   { waygate: 'collect', topic: 'metrics', id }     (to every worker)
 *   worker → primary   { waygate: 'collected', id, value }
 *   primary → worker   { waygate: 'gathered', id, values }
 */
export interface ClusterMessage {
  waygate: 'gather' | 'collect' | 'collected' | 'gathered';
  topic?: string;
  id: string;
  value?: unknown;
  values?: unknown[];
}

const isMessage = (m: unknown): m is ClusterMessage => typeof m === 'object' && m !== null && typeof (m as ClusterMessage).waygate === 'string';

/** Whether this process is a worker of `--workers` (with an IPC channel to its primary). */
export const inCluster = (): boolean => cluster.isWorker && typeof process.send === 'function';

/**
 * Answers the primary's `collect` with this worker's exposition, and gathers everyone's for a scrape.
 * `close()` stops answering (a reload's new instance takes over).
 */
export class ClusterMetrics {
  #next = 0;
  readonly #waiting = new Map<string, (values: unknown[]) => void>();
  readonly #listener = (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.waygate === 'collect' && m.topic === 'metrics') {
      void this.render().then(
        (value) => process.send!({ waygate: 'collected', id: m.id, value } satisfies ClusterMessage),
        () => process.send!({ waygate: 'collected', id: m.id, value: '' } satisfies ClusterMessage),
      );
    } else if (m.waygate === 'gathered') this.#waiting.get(m.id)?.(m.values ?? []);
  };

  constructor(
    readonly render: () => Promise<string>,
    readonly timeoutMs = 2000,
  ) {
    process.on('message', this.#listener);
  }

  /** Every worker's exposition merged; this worker's own alone if the primary does not answer in time. */
  async gather(): Promise<string> {
    const id = `${process.pid}-${this.#next++}`;
    const values = await new Promise<unknown[] | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve(undefined);
      }, this.timeoutMs);
      this.#waiting.set(id, (v) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(v);
      });
      process.send!({ waygate: 'gather', topic: 'metrics', id } satisfies ClusterMessage);
    });
    if (!values) return `# waygate: the other workers did not answer in time; this is worker ${process.pid} alone\n${await this.render()}`;
    return mergeExpositions(values.filter((v): v is string => typeof v === 'string'));
  }

  close(): void {
    process.off('message', this.#listener);
    for (const resolve of this.#waiting.values()) resolve([]);
  }
}

/**
 * Prometheus text expositions of several processes as one: samples with the same name and labels
 * are summed (counters, histograms' buckets, sums and counts, in-flight gauges); a circuit's state
 * is the most any worker sees (1 if one does), a process's start time the earliest. `# HELP` and
 * `# TYPE` lines are kept once, in the order first seen.
 */
export function mergeExpositions(texts: readonly string[]): string {
  const order: string[] = [];
  const values = new Map<string, number>();
  const combine = new Map<string, (a: number, b: number) => number>();
  let family = '';
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+)/.exec(line);
        if (m) family = m[2]!;
        if (!values.has(line)) {
          values.set(line, NaN);
          order.push(line);
        }
        continue;
      }
      const space = line.lastIndexOf(' ');
      const key = line.slice(0, space);
      const v = Number(line.slice(space + 1));
      if (!values.has(key)) {
        order.push(key);
        values.set(key, v);
        combine.set(key, family === 'waygate_circuit_state' ? Math.max : family.endsWith('_start_time_seconds') ? Math.min : (a, b) => a + b);
      } else values.set(key, combine.get(key)!(values.get(key)!, v));
    }
  }
  return order.map((k) => (k.startsWith('#') ? k : `${k} ${values.get(k)}`)).join('\n') + '\n';
}
