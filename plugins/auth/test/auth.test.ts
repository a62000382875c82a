// The plugin's options, and the plugin end to end: a gateway with the OpenAI API and provider and this
// package (loaded by its path), in front of a loopback OpenAI fake.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { PluginLoadError, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { OpenAIFake, chat, silent } from '@waygate/core/testing';
import plugin, { OptionsSchema } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const PACKAGE = '@waygate/auth';
/** The client-facing OpenAI API and the OpenAI provider: what a routed chat completion needs. */
const ROUTES = ['@waygate/openai-api', '@waygate/provider-openai'];

/** Starts a gateway with this plugin and its options. */
const gateway = (options: unknown) =>
  startGateway({ config: { defaultPlugins: false, plugins: [...ROUTES, { module: THIS_PACKAGE, options }] }, port: 0, host: '127.0.0.1', logger: silent });

describe(PACKAGE, () => {
  it('has a manifest with its package name, version and core range', () => {
    expect(plugin.manifest).to.include({ name: PACKAGE, kind: 'policy', core: '^1.0.0' });
    expect(plugin.manifest.version).to.match(/^\d+\.\d+\.\d+/);
  });

  describe('options', () => {
    it('default to the header x-auth: 1', () => {
      expect(OptionsSchema.parse({})).to.deep.equal({ header: 'x-auth', value: '1' });
    });

    it('refuse a header that is not a lower-case name, one the gateway writes, a value with a line break, and unknown keys', () => {
      const bad = [
        { header: 'X-Upper' },
        { header: 'two words' },
        { header: 'x-waygate-provider' },
        { header: 'content-type' },
        { value: 'a\r\nb' },
        { other: 1 },
      ];
      for (const options of bad) expect(OptionsSchema.safeParse(options).success, JSON.stringify(options)).to.equal(false);
    });
  });

  describe('in a running gateway', () => {
    let up: OpenAIFake;
    let gw: Gateway;

    before(async () => {
      up = await OpenAIFake.start();
      gw = await gateway({ header: 'x-scaffolded', value: 'yes' });
    });
    after(async () => {
      await gw?.close(0);
      await up?.close();
    });

    it('adds the header from its options to a routed answer', async () => {
      up.reply = 'routed';
      const res = await chat(gw.url, up.leaf());
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      expect(res.json.choices[0].message.content).to.equal('routed');
      expect(res.headers.get('x-waygate-provider')).to.equal('openai');
      expect(res.headers.get('x-scaffolded')).to.equal('yes');
    });

    it('stops start-up when its options are invalid, naming the plugin and the option', async () => {
      let err: unknown;
      try {
        await (await gateway({ header: 'Bad Name' })).close(0);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(PluginLoadError);
      expect((err as PluginLoadError).plugin).to.equal(PACKAGE);
      expect((err as Error).message).to.match(/options\.header/);
    });
  });
});
