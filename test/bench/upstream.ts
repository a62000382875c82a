// Child entry: the fake OpenAI upstream the benchmark drives every contender against.
// Usage: node upstream.js [--port 0] [--chunks 10]   → prints `READY <port> <baseURL>` on stdout.
import { parseArgs } from 'node:util';
import { FakeOpenAI } from '../src/fakes/index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    chunks: { type: 'string', default: '10' },
  },
});

const fake = await FakeOpenAI.start({
  port: Number(values.port),
  record: false,
  chunkCount: Number(values.chunks),
});
process.stdout.write(`READY ${fake.port} ${fake.baseURL}\n`);

let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  void Promise.resolve(fake.close()).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
