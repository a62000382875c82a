/**
 * Counters, gauges and histograms whose series are plain numbers, read by prom-client's registry at
 * scrape time through the contract its own metrics implement (`name`, `help`, `type`, `aggregator`,
 * and `get()` answering the samples). Why not prom-client's own classes: each of their `inc()` and
 * `observe()` validates the labels and hashes them into a key, so on the request path a dozen of them
 * cost more than the rest of a request's bookkeeping; here a request's series is looked up once by
 * its label values and updated with an addition.
 */

/** One sample as prom-client's registry prints it. */
export interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/** What prom-client's `Registry.registerMetric()` and `metrics()` need of a metric. */
export interface RegistryMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Sample[] }>;
  reset(): void;
}

/** A counter's or gauge's series: one number. */
export class Value {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
  set(n: number): void {
    this.value = n;
  }
}

/** A histogram's series: a count per bucket (not cumulative until scraped), the sum and the count. */
export class Distribution {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

abstract class Family<S extends { labels: Record<string, string> }> implements RegistryMetric {
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator = 'sum' as const;
  protected readonly series = new Map<string, S>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /** The series of these label values (in `labelNames` order), made on first use. */
  of(...values: string[]): S {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      if (values.length !== this.labelNames.length) throw new Error(`${this.name}: ${this.labelNames.length} label values needed, got ${values.length}`);
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
      this.series.set(key, (s = this.make(labels)));
    }
    return s;
  }

  reset(): void {
    this.series.clear();
  }

  protected abstract make(labels: Record<string, string>): S;
  protected abstract samples(): Sample[];

  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.samples() };
  }
}

export class CounterFamily extends Family<Value> {
  readonly type: 'counter' | 'gauge' = 'counter';
  protected make(labels: Record<string, string>): Value {
    return new Value(labels);
  }
  protected samples(): Sample[] {
    return [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value }));
  }
}

export class GaugeFamily extends CounterFamily {
  override readonly type = 'gauge' as const;
}

export class HistogramFamily extends Family<Distribution> {
  readonly type = 'histogram' as const;
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    if (labelNames.includes('le')) throw new Error(`${name}: "le" is the bucket label`);
  }
  protected make(labels: Record<string, string>): Distribution {
    return new Distribution(labels, this.buckets);
  }
  protected samples(): Sample[] {
    const out: Sample[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.counts[i]!;
        out.push({
          metricName: `${this.name}_bucket`,
          labels: { ...s.labels, le: i < this.buckets.length ? this.buckets[i]! : '+Inf' },
          value: cumulative,
        });
      }
      out.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      out.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return out;
  }
}
