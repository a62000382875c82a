import { expect } from 'chai';
import { mergeExpositions } from '../src/cluster.js';

describe('@waygate/metrics under --workers: merging the workers’ expositions', () => {
  const worker = (requests: number, inFlight: number, circuitOpen: number, started: number) =>
    [
      '# HELP waygate_requests_total Requests answered.',
      '# TYPE waygate_requests_total counter',
      `waygate_requests_total{endpoint="chat.completions",status="200"} ${requests}`,
      '# HELP waygate_request_duration_seconds Total latency.',
      '# TYPE waygate_request_duration_seconds histogram',
      `waygate_request_duration_seconds_bucket{le="0.1"} ${requests}`,
      `waygate_request_duration_seconds_bucket{le="+Inf"} ${requests}`,
      `waygate_request_duration_seconds_sum ${requests * 0.05}`,
      `waygate_request_duration_seconds_count ${requests}`,
      '# TYPE waygate_requests_in_flight gauge',
      `waygate_requests_in_flight{endpoint="chat.completions"} ${inFlight}`,
      '# TYPE waygate_circuit_state gauge',
      `waygate_circuit_state{target="openai",state="open"} ${circuitOpen}`,
      '# TYPE process_start_time_seconds gauge',
      `process_start_time_seconds ${started}`,
      '',
    ].join('\n');

  it('sums counters, histograms and in-flight gauges; a circuit state is the most any worker sees; the start time the earliest', () => {
    const merged = mergeExpositions([worker(3, 1, 0, 200), worker(4, 2, 1, 100)]);
    const lines = merged.trim().split('\n');
    expect(lines.filter((l) => l === '# TYPE waygate_requests_total counter')).to.have.length(1);
    expect(lines).to.include('waygate_requests_total{endpoint="chat.completions",status="200"} 7');
    expect(lines).to.include('waygate_request_duration_seconds_bucket{le="+Inf"} 7');
    expect(lines).to.include('waygate_request_duration_seconds_count 7');
    expect(lines).to.include('waygate_requests_in_flight{endpoint="chat.completions"} 3');
    expect(lines).to.include('waygate_circuit_state{target="openai",state="open"} 1');
    expect(lines).to.include('process_start_time_seconds 100');
    // The order of the first exposition is kept: each family's HELP and TYPE before its samples.
    expect(lines.indexOf('# TYPE waygate_requests_total counter')).to.be.lessThan(
      lines.indexOf('waygate_requests_total{endpoint="chat.completions",status="200"} 7'),
    );
  });

  it('a series only one worker has is kept as it is', () => {
    const merged = mergeExpositions([worker(1, 0, 0, 1), 'waygate_retries_total{target="a"} 2\n']);
    expect(merged).to.contain('waygate_retries_total{target="a"} 2\n');
    expect(merged).to.contain('waygate_requests_total{endpoint="chat.completions",status="200"} 1\n');
  });
});
