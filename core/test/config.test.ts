import { expect } from 'chai';
import fs from 'node:fs';
import { ConfigError, ConfigNodeSchema, FileConfigSchema, formatIssues, parseFileConfig, parseSize } from '../src/config.js';

describe('config', () => {
  it('fills defaults for an empty file config', () => {
    const c = parseFileConfig({}, 'test');
    expect(c.server).to.include({ host: '127.0.0.1', port: 8787, bodyLimit: '10mb' });
    expect(c.log.level).to.equal('info');
    expect(c.defaultPlugins).to.equal(true);
    expect(c.plugins).to.deep.equal([]);
  });

  it('has time and size limits by default: a gateway in front of hostile callers and upstreams', () => {
    const c = parseFileConfig({}, 'test');
    expect(c.server).to.include({ headersTimeoutMs: 30_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 65_000, maxJsonDepth: 64 });
    expect(c.upstream).to.include({
      connectionsPerOrigin: 4096,
      connectTimeoutMs: 10_000,
      headersTimeoutMs: 120_000,
      bodyTimeoutMs: 60_000,
      maxResponseBytes: 32 * 1024 * 1024,
      maxEventBytes: 4 * 1024 * 1024,
      maxStreamBytes: 256 * 1024 * 1024,
    });
    expect(parseFileConfig({ upstream: { maxResponseBytes: '1mb', maxEventBytes: 2048 } }, 'test').upstream).to.include({
      maxResponseBytes: 1024 * 1024,
      maxEventBytes: 2048,
    });
  });

  it('refuses limits that cannot work, naming the field', () => {
    expect(() => parseFileConfig({ server: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } }, 'f'))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/server\.headersTimeoutMs: must not be larger than server\.requestTimeoutMs/);
    expect(() => parseFileConfig({ server: { maxJsonDepth: 0 } }, 'f')).to.throw(ConfigError, /server\.maxJsonDepth/);
    expect(() => parseFileConfig({ server: { requestTimeoutMs: 0 } }, 'f')).to.throw(ConfigError, /server\.requestTimeoutMs/);
    expect(() => parseFileConfig({ upstream: { maxStreamBytes: 'lots' } }, 'f')).to.throw(ConfigError, /upstream\.maxStreamBytes/);
  });

  it('names the path of every invalid field', () => {
    expect(() => parseFileConfig({ server: { port: 'x' }, plugins: [{ module: '' }] }, 'f.json'))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/server\.port/)
      .and.matches(/plugins\[0\]/);
  });

  it('rejects unknown top-level and server keys (typos are errors, not silence)', () => {
    expect(() => parseFileConfig({ sever: {} }, 'f')).to.throw(/sever/);
    expect(() => parseFileConfig({ server: { prot: 1 } }, 'f')).to.throw(/prot/);
  });

  it('resolves env: references in provider keys and routing keys, and names a missing variable', () => {
    const c = parseFileConfig(
      {
        providers: { openai: { api_key: 'env:OAI' } },
        routing: { strategy: { mode: 'fallback' }, targets: [{ provider: 'openai', api_key: 'env:OAI' }] },
      },
      'f',
      { OAI: 'sk-1' },
    );
    expect(c.providers.openai!.api_key).to.equal('sk-1');
    expect(c.routing!.targets![0]!.api_key).to.equal('sk-1');
    expect(() => parseFileConfig({ providers: { groq: { api_key: 'env:NOPE' } } }, 'f', {})).to.throw(/providers\.groq\.api_key.*NOPE/);
  });

  it('validates routing nodes recursively, with Portkey field names', () => {
    const ok = ConfigNodeSchema.safeParse({
      strategy: { mode: 'fallback', on_status_codes: [429] },
      targets: [
        { provider: 'openai', override_params: { model: 'x' }, resource_name: 'kept' },
        { provider: 'groq', weight: 2 },
      ],
    });
    expect(ok.success).to.equal(true);
    expect((ok.data as { targets: Array<Record<string, unknown>> }).targets[0]!.resource_name).to.equal('kept');
    const bad = ConfigNodeSchema.safeParse({ strategy: { mode: 'fallback' }, targets: [{ provider: 'openai', weight: -1 }] });
    expect(bad.success).to.equal(false);
    expect(formatIssues(bad.error!, 'config')).to.match(/^config\.targets\[0\]\.weight: /);
  });

  it('requires a leaf or targets, and a strategy with targets; refuses legacy v1 "options"', () => {
    expect(ConfigNodeSchema.safeParse({}).success).to.equal(false);
    expect(ConfigNodeSchema.safeParse({ targets: [{ provider: 'a' }] }).success).to.equal(false);
    expect(ConfigNodeSchema.safeParse({ provider: 'a', targets: [{ provider: 'b' }], strategy: { mode: 'x' } }).success).to.equal(false);
    const legacy = ConfigNodeSchema.safeParse({ provider: 'a', options: [{}] });
    expect(legacy.success).to.equal(false);
    expect(formatIssues(legacy.error!, 'config')).to.match(/version 1 configs/);
  });

  it('parses body limits', () => {
    expect(parseSize('10mb')).to.equal(10 * 1024 * 1024);
    expect(parseSize('512 KB')).to.equal(512 * 1024);
    expect(parseSize(100)).to.equal(100);
    expect(FileConfigSchema.safeParse({ server: { bodyLimit: 'lots' } }).success).to.equal(false);
  });
});

describe('the root README’s config file example', () => {
  it('is a config file the schema accepts, with the defaults it shows', () => {
    const readme = fs.readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## The config file'));
    const block = /```json\n([\s\S]*?)\n```/.exec(section);
    expect(block, 'a JSON block under "## The config file"').to.not.equal(null);
    const cfg = parseFileConfig(JSON.parse(block![1]!), 'README.md', { OPENAI_API_KEY: 'sk-test' });
    const defaults = FileConfigSchema.parse({});
    // The example spells out the defaults of the limits (all but egress, whose default depends on the listen host).
    for (const key of [
      'connectionsPerOrigin',
      'connectTimeoutMs',
      'headersTimeoutMs',
      'bodyTimeoutMs',
      'maxResponseBytes',
      'maxEventBytes',
      'maxStreamBytes',
    ] as const) {
      expect(cfg.upstream[key], `upstream.${key}`).to.equal(defaults.upstream[key]);
    }
    for (const key of ['headersTimeoutMs', 'requestTimeoutMs', 'keepAliveTimeoutMs', 'maxJsonDepth'] as const) {
      expect(cfg.server[key], `server.${key}`).to.equal(defaults.server[key]);
    }
  });
});
