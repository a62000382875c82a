import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { kernelWithPlugins, newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import plugin, { createDefaultChecks } from '../src/index.js';

const IDS = [
  'regexMatch',
  'regexReplace',
  'contains',
  'wordCount',
  'sentenceCount',
  'characterCount',
  'jsonKeys',
  'containsCode',
  'validUrls',
  'endsWith',
  'alluppercase',
  'alllowercase',
  'notNull',
  'modelWhitelist',
  'modelRules',
  'allowedRequestTypes',
  'requiredMetadataKeys',
  'addPrefix',
  'jwt',
  'webhook',
  'log',
  'promptSize',
];

describe('@waygate/guardrail-default', () => {
  it('has a manifest from its package.json: a guardrail for core ^1.0.0', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/guardrail-default', kind: 'guardrail', core: '^1.0.0' });
  });

  it('registers every check under the default namespace, attributed to the plugin', async () => {
    const kernel = newKernel();
    await use(kernel, plugin);
    expect(kernel.registry(CHECKS).names().sort()).to.deep.equal(IDS.map((id) => `default.${id}`).sort());
    expect(kernel.registry(CHECKS).pluginOf('default.regexMatch')).to.equal('@waygate/guardrail-default');
  });

  it('loads by path through the real loader, and takes no options', async () => {
    const kernel = await kernelWithPlugins([fileURLToPath(new URL('../src/index.js', import.meta.url))]);
    expect(kernel.registry(CHECKS).has('default.promptSize')).to.equal(true);
    expect(plugin.configSchema!.safeParse({ x: 1 }).success).to.equal(false);
  });

  it('takes regex limits in its options (regex.maxLength, regex.maxProgramSize) for its regex rules', async () => {
    const kernel = newKernel();
    await use(kernel, plugin, { regex: { maxLength: 8 } });
    const check = kernel
      .registry<{ params: { safeParse(v: unknown): { success: boolean; error?: { message: string } } } }>(CHECKS)
      .get('default.regexMatch')!;
    expect(check.params.safeParse({ rule: 'short' }).success).to.equal(true);
    const long = check.params.safeParse({ rule: 'much too long' });
    expect(long.success).to.equal(false);
    expect(long.error!.message).to.match(/rule is longer than 8 characters/);
    const replace = kernel.registry<typeof check>(CHECKS).get('default.regexReplace')!;
    expect(replace.params.safeParse({ rule: 'much too long' }).success).to.equal(false);
    expect(plugin.configSchema!.safeParse({ regex: { maxLength: 0 } }).success).to.equal(false);
    expect(plugin.configSchema!.safeParse({ regex: { maxSize: 10 } }).success).to.equal(false);
  });

  it('gives each gateway its own jwt check (its own key-set cache)', () => {
    const a = createDefaultChecks().find((c) => c.id === 'jwt');
    const b = createDefaultChecks().find((c) => c.id === 'jwt');
    expect(a).to.not.equal(b);
  });

  it('declares where each check may run and which ones mutate', () => {
    const checks = new Map(createDefaultChecks().map((c) => [c.id, c]));
    for (const id of ['modelWhitelist', 'modelRules', 'allowedRequestTypes', 'requiredMetadataKeys', 'addPrefix', 'jwt', 'promptSize']) {
      expect(checks.get(id)!.hooks, id).to.deep.equal(['beforeRequest']);
    }
    for (const id of ['jsonKeys', 'notNull']) expect(checks.get(id)!.hooks, id).to.deep.equal(['afterResponse']);
    expect(
      [...checks.values()]
        .filter((c) => c.mutates)
        .map((c) => c.id)
        .sort(),
    ).to.deep.equal(['addPrefix', 'regexReplace', 'webhook']);
    const streaming = [...checks.values()]
      .filter((c) => c.partial)
      .map((c) => c.id)
      .sort();
    expect(streaming).to.deep.equal([
      'alllowercase',
      'alluppercase',
      'characterCount',
      'contains',
      'containsCode',
      'regexMatch',
      'regexReplace',
      'sentenceCount',
      'wordCount',
    ]);
  });
});
