import { expect } from 'chai';
import dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EgressPolicy, allowEntry, checkCustomHost } from '../src/egress.js';
import { GatewayError } from '../src/errors.js';
import { FileConfigSchema, configFromObject } from '../src/config.js';
import { Kernel } from '../src/kernel.js';
import { silent } from '../src/testing/index.js';

function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(GatewayError);
    return e as GatewayError;
  }
  throw new Error('expected a throw');
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** A loopback server that counts the connections it accepted. */
async function counting(host = '127.0.0.1', port = 0): Promise<{ server: http.Server; port: number; connections: () => number }> {
  let n = 0;
  const server = http.createServer((_req, res) => res.writeHead(200, { connection: 'close' }).end('served'));
  server.on('connection', () => n++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port, connections: () => n };
}

/** Two counting servers on one port, on two loopback addresses (a port free on the first may be taken on the second: try another). */
async function pair(first: string, second: string): Promise<[Awaited<ReturnType<typeof counting>>, Awaited<ReturnType<typeof counting>>]> {
  for (let attempt = 0; ; attempt++) {
    const a = await counting(first);
    try {
      return [a, await counting(second, a.port)];
    } catch (err) {
      a.server.close();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 20) throw err;
    }
  }
}

/**
 * Answers for names the test controls, through node's own dns.lookup (what the policy's lookup
 * calls); every other name resolves as usual. Only loopback addresses are ever answered.
 */
function fakeResolver(answers: (host: string) => string | undefined): () => void {
  const real = dns.lookup;
  const fake = ((host: string, options: dns.LookupOptions, cb: (...args: unknown[]) => void) => {
    const ip = answers(host);
    if (ip === undefined) return (real as (...args: unknown[]) => void)(host, options, cb);
    const family = ip.includes(':') ? 6 : 4;
    if (options.all) cb(null, [{ address: ip, family }]);
    else cb(null, ip, family);
  }) as typeof dns.lookup;
  dns.lookup = fake;
  return () => {
    dns.lookup = real;
  };
}

describe('custom host checks', () => {
  it('accepts http(s) URLs, loopback included, and drops a trailing slash', () => {
    expect(checkCustomHost('https://llm.example.com/v1/', 'x')).to.equal('https://llm.example.com/v1');
    expect(checkCustomHost('http://127.0.0.1:11434/v1', 'x')).to.equal('http://127.0.0.1:11434/v1');
    expect(checkCustomHost('http://[::1]:8000/v1', 'x')).to.equal('http://[::1]:8000/v1');
  });

  const refused: Array<[string, RegExp]> = [
    ['file:///etc/passwd', /scheme file:/],
    ['gopher://x', /scheme/],
    ['not a url', /absolute URL/],
    ['http://user:pw@example.com', /credentials/],
    ['http://169.254.169.254/latest/meta-data', /metadata/],
    ['http://2852039166/', /metadata/], // 169.254.169.254 as one decimal number
    ['http://0xA9FEA9FE/', /metadata/], // and in hex
    ['http://[::ffff:169.254.169.254]/', /metadata/],
    ['http://[fd00:ec2::254]/', /metadata/],
    ['http://[fe80::1]/', /metadata/],
    ['http://metadata.google.internal/computeMetadata/v1', /metadata service/],
    ['http://METADATA.GOOGLE.INTERNAL./', /metadata service/],
    ['http://100.100.100.200/', /metadata/],
    ['http://example.com/v1?x=1', /query/],
    // Metadata addresses inside IPv6 forms that carry an IPv4 address (NAT64, 6to4), and 0.0.0.0.
    ['http://[64:ff9b::a9fe:a9fe]/', /metadata/],
    ['http://[2002:a9fe:a9fe::1]/', /metadata/],
    ['http://0.0.0.0:8080/', /unspecified/],
  ];
  for (const [url, why] of refused) {
    it(`refuses ${url}`, () => {
      const err = thrown(() => checkCustomHost(url, 'config.custom_host'));
      expect(err.status).to.equal(400);
      expect(err.code).to.equal('forbidden_custom_host');
      expect(err.message)
        .to.match(why)
        .and.match(/^config\.custom_host: /);
    });
  }
});

describe('the egress policy', () => {
  const deny = (allow: string[] = []) => new EgressPolicy({ private: 'deny', allow }, '127.0.0.1');

  it('defaults to "allow" while the gateway listens on loopback only, "deny" on any other address', () => {
    for (const host of ['127.0.0.1', '127.0.0.53', '::1', 'localhost', '::ffff:127.0.0.1']) {
      expect(new EgressPolicy({ allow: [] }, host).private, host).to.equal('allow');
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.7', '192.168.1.2', 'gateway.internal', '203.0.113.9']) {
      expect(new EgressPolicy({ allow: [] }, host).private, host).to.equal('deny');
    }
    expect(new EgressPolicy({ private: 'deny', allow: [] }, '127.0.0.1').private).to.equal('deny');
    expect(new EgressPolicy({ private: 'allow', allow: [] }, '0.0.0.0').private).to.equal('allow');
  });

  it("the kernel takes the listen host it is given (the CLI's --host, startGateway's host), else the config's server.host", () => {
    const loaded = (host: string) => configFromObject({ defaultPlugins: false, server: { host } }, process.cwd(), {});
    expect(new Kernel(loaded('127.0.0.1'), silent).egress.private).to.equal('allow');
    expect(new Kernel(loaded('0.0.0.0'), silent).egress.private).to.equal('deny');
    expect(new Kernel(loaded('0.0.0.0'), silent, '127.0.0.1').egress.private).to.equal('allow');
    expect(new Kernel(loaded('127.0.0.1'), silent, '::').egress.private).to.equal('deny');
  });

  it('under "deny", refuses literal loopback, private, ULA, shared and IPv4-mapped addresses, naming the reason', () => {
    const policy = deny();
    const cases: Array<[string, RegExp]> = [
      ['http://127.0.0.1:8080', /127\.0\.0\.1 is a loopback address, refused by the egress policy \(egress\.private is "deny"\)/],
      ['http://[::1]:8080', /::1 is a loopback address/],
      ['http://10.1.2.3', /a private address/],
      ['http://172.16.0.1', /a private address/],
      ['http://192.168.0.10', /a private address/],
      ['http://[fd12:3456::1]', /a unique local address/],
      ['http://100.64.0.1', /a shared \(100\.64\.0\.0\/10\) address/],
      ['http://[::ffff:10.0.0.1]', /a private address/],
      ['http://[::ffff:127.0.0.1]', /a loopback address/],
    ];
    for (const [url, why] of cases) expect(thrown(() => policy.check(url, 'config.custom_host')).message, url).to.match(why);
    // Public addresses and names pass the text check (names are checked when they are resolved).
    expect(policy.check('https://8.8.8.8/v1', 'x')).to.equal('https://8.8.8.8/v1');
    expect(policy.check('http://localhost:11434/v1', 'x')).to.equal('http://localhost:11434/v1');
  });

  it('under "allow", passes private addresses and still refuses metadata and link-local ones', () => {
    const policy = new EgressPolicy({ private: 'allow', allow: [] }, '0.0.0.0');
    expect(policy.check('http://10.0.0.5:8000/v1', 'x')).to.equal('http://10.0.0.5:8000/v1');
    expect(thrown(() => policy.check('http://169.254.169.254/', 'x')).message).to.match(/link-local \(metadata\) address, always refused/);
    expect(thrown(() => policy.check('http://[fd00:ec2::254]/', 'x')).message).to.match(/a cloud metadata address, always refused/);
  });

  it('lets "allow" list host names, *.domain wildcards, addresses and CIDRs under "deny", never metadata', () => {
    const policy = deny(['10.0.0.0/8', '192.168.1.7', 'FD00::/8', '*.corp.example', 'vllm.lan', '169.254.0.0/16']);
    expect(policy.check('http://10.9.8.7/v1', 'x')).to.equal('http://10.9.8.7/v1');
    expect(policy.check('http://192.168.1.7/v1', 'x')).to.equal('http://192.168.1.7/v1');
    expect(policy.check('http://[fd00::5]/v1', 'x')).to.equal('http://[fd00::5]/v1');
    expect(thrown(() => policy.check('http://192.168.1.8/', 'x')).message).to.match(/private address/);
    expect(thrown(() => policy.check('http://169.254.169.254/', 'x')).message).to.match(/always refused/);
  });

  it('validates "egress" in the config file: a bad allow entry or policy value is an error naming the path', () => {
    expect(allowEntry.safeParse('*.corp.example').success).to.equal(true);
    expect(allowEntry.safeParse('10.0.0.0/8').success).to.equal(true);
    const bad = FileConfigSchema.safeParse({ egress: { private: 'deny', allow: ['http://x/', '10.0.0.0/40'] } });
    expect(bad.success).to.equal(false);
    expect(bad.error!.issues.map((i) => i.path.join('.'))).to.deep.equal(['egress.allow.0', 'egress.allow.1']);
    expect(FileConfigSchema.safeParse({ egress: { private: 'sometimes' } }).success).to.equal(false);
    expect(FileConfigSchema.parse({}).egress).to.deep.equal({ allow: [] });
  });

  describe('at connect time', () => {
    let up: Awaited<ReturnType<typeof counting>>;
    let restore: () => void = () => undefined;
    before(async () => {
      up = await counting();
    });
    after(() => up.server.close());
    afterEach(() => restore());

    it('refuses a name that resolves to a forbidden address before any connection', async () => {
      const policy = deny();
      const err = await rejection(policy.fetch(`http://localhost:${up.port}/`));
      const cause = (err as { cause?: GatewayError }).cause!;
      expect(cause).to.be.instanceOf(GatewayError);
      expect(cause.message).to.equal('host localhost resolves to 127.0.0.1, a loopback address, refused by the egress policy (egress.private is "deny")');
      expect(up.connections()).to.equal(0);
      await policy.dispatcher.close();
    });

    it('refuses a literal address through the dispatcher too (no lookup happens for one)', async () => {
      const policy = deny();
      const err = await rejection(policy.fetch(`http://127.0.0.1:${up.port}/`));
      expect((err as { cause?: Error }).cause?.message).to.equal(
        'host 127.0.0.1 is a loopback address, refused by the egress policy (egress.private is "deny")',
      );
      expect(up.connections()).to.equal(0);
      await policy.dispatcher.close();
    });

    it('connects to names the allow list covers (a host, a wildcard, a CIDR)', async () => {
      restore = fakeResolver((h) => (h.endsWith('.corp.example') ? '127.0.0.1' : undefined));
      for (const allow of [['localhost'], ['*.corp.example'], ['127.0.0.0/8']]) {
        const policy = deny(allow);
        const host = allow[0] === '*.corp.example' ? 'llm.corp.example' : 'localhost';
        const res = await policy.fetch(`http://${host}:${up.port}/`);
        expect(await res.text(), allow[0]).to.equal('served');
        await policy.dispatcher.close();
      }
      expect(up.connections()).to.equal(3);
    });

    it('checks the address connected to, not an earlier answer: a name that rebinds to a refused address is refused', async () => {
      // One name, two loopback servers on the same port: 127.0.0.2 (allowed) and 127.0.0.1 (not).
      const [allowed, other] = await pair('127.0.0.2', '127.0.0.1');
      let answers = 0;
      restore = fakeResolver((h) => (h === 'rebind.test' ? (++answers === 1 ? '127.0.0.2' : '127.0.0.1') : undefined));
      const policy = deny(['127.0.0.2/32']);
      try {
        const url = policy.check(`http://rebind.test:${allowed.port}`, 'x');
        expect(await (await policy.fetch(url)).text()).to.equal('served');
        // The server closed that connection: the next request resolves the name again.
        const err = await rejection(policy.fetch(url));
        expect((err as { cause?: Error }).cause?.message).to.match(/^host rebind\.test resolves to 127\.0\.0\.1, a loopback address, refused/);
        expect(answers).to.equal(2);
        expect(allowed.connections()).to.equal(1);
        expect(other.connections()).to.equal(0);
      } finally {
        await policy.dispatcher.close();
        allowed.server.close();
        other.server.close();
      }
    });
  });
});
