// The plugin's own counters, gauges and histograms, printed by prom-client's registry.
import { expect } from 'chai';
import { Registry } from 'prom-client';
import type { Gauge } from 'prom-client';
import { CounterFamily, GaugeFamily, HistogramFamily } from '../src/series.js';

describe('@waygate/metrics series', () => {
  it('prints counters, gauges and cumulative histogram buckets in the Prometheus text format', async () => {
    const registry = new Registry();
    const c = new CounterFamily('t_requests_total', 'Requests', ['endpoint', 'status']);
    const g = new GaugeFamily('t_in_flight', 'In flight', ['endpoint']);
    const h = new HistogramFamily('t_duration_seconds', 'Duration', ['endpoint'], [0.1, 1]);
    for (const m of [c, g, h]) registry.registerMetric(m as unknown as Gauge);
    c.of('chat', '200').inc();
    c.of('chat', '200').inc(2);
    c.of('chat', '500').inc();
    g.of('chat').inc();
    g.of('chat').inc();
    g.of('chat').dec();
    for (const v of [0.05, 0.1, 0.5, 3]) h.of('chat').observe(v);
    const text = await registry.metrics();
    expect(text).to.include('# TYPE t_requests_total counter');
    expect(text).to.include('t_requests_total{endpoint="chat",status="200"} 3');
    expect(text).to.include('t_requests_total{endpoint="chat",status="500"} 1');
    expect(text).to.include('# TYPE t_in_flight gauge\nt_in_flight{endpoint="chat"} 1');
    expect(text).to.include('# TYPE t_duration_seconds histogram');
    // A value on a bound falls in that bucket (le: less than or equal).
    expect(text).to.include('t_duration_seconds_bucket{endpoint="chat",le="0.1"} 2');
    expect(text).to.include('t_duration_seconds_bucket{endpoint="chat",le="1"} 3');
    expect(text).to.include('t_duration_seconds_bucket{endpoint="chat",le="+Inf"} 4');
    expect(text).to.include('t_duration_seconds_sum{endpoint="chat"} 3.65');
    expect(text).to.include('t_duration_seconds_count{endpoint="chat"} 4');
  });

  it('refuses the wrong number of label values, and a histogram label named le', () => {
    const c = new CounterFamily('t_total', 'x', ['a', 'b']);
    expect(() => c.of('only-one')).to.throw(/2 label values needed, got 1/);
    expect(() => new HistogramFamily('t_h', 'x', ['le'], [1])).to.throw(/"le" is the bucket label/);
  });

  it('escapes label values as the text format requires', async () => {
    const registry = new Registry();
    const c = new CounterFamily('t_models_total', 'x', ['model']);
    registry.registerMetric(c as unknown as Gauge);
    c.of('a "quoted"\nmodel\\').inc();
    expect(await registry.metrics()).to.include('t_models_total{model="a \\"quoted\\"\\nmodel\\\\"} 1');
  });
});
