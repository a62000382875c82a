import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { kernelWithPlugins, newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import defaultChecks from '@waygate/guardrail-default';
import plugin, { compiledSchemaCount, extractJson, jsonSchema, validate } from '../src/index.js';
import { RegexMeter, SafeRegexError } from '@waygate/safe-regex';
import { input, rejects, run } from './helpers.js';

const person = {
  type: 'object',
  required: ['name', 'age'],
  properties: { name: { type: 'string', minLength: 1 }, age: { type: 'integer', minimum: 0 }, email: { type: 'string', format: 'email' } },
  additionalProperties: false,
};

describe('@waygate/guardrail-json-schema', () => {
  describe('finding the JSON in an answer', () => {
    it('the whole text, else fenced blocks, else spans in prose', () => {
      expect(extractJson('  {"a": 1} ')).to.deep.equal([{ a: 1 }]);
      expect(extractJson('Here:\n```json\n{"a": 2}\n```\nand\n```\n[3]\n```')).to.deep.equal([{ a: 2 }, [3]]);
      expect(extractJson('The answer is {"a": {"b": "}"}} and [1, {"c": 2}] ok')).to.deep.equal([{ a: { b: '}' } }, [1, { c: 2 }]]);
      expect(extractJson('no json {here')).to.deep.equal([]);
    });
  });

  describe('pattern and patternProperties on RE2 (@waygate/safe-regex)', () => {
    it('a catastrophic pattern from a caller runs in linear time (RegExp would backtrack for ages)', async () => {
      const schema = { type: 'object', properties: { id: { type: 'string', pattern: '^(a+)+$' } } };
      expect((await run(jsonSchema, { schema }, JSON.stringify({ id: `${'a'.repeat(60)}!` }))).verdict).to.equal(false);
      expect((await run(jsonSchema, { schema }, JSON.stringify({ id: 'a'.repeat(60) }))).verdict).to.equal(true);
      const keys = { type: 'object', patternProperties: { '^(x|x)*$': { type: 'number' } } };
      expect((await run(jsonSchema, { schema: keys }, JSON.stringify({ [`${'x'.repeat(60)}!`]: 'a string' }))).verdict).to.equal(true);
      expect((await run(jsonSchema, { schema: keys }, JSON.stringify({ xxxx: 'a string' }))).verdict).to.equal(false);
    });

    it('a pattern RE2 refuses is a parameter error on schema that quotes it', () => {
      expect(rejects(jsonSchema, { schema: { type: 'string', pattern: '(a)\\1' } })).to.match(
        /^schema: schema cannot be used: the pattern "\(a\)\\\\1" is not supported by the linear-time regex engine \(RE2 syntax\): backreferences/,
      );
      expect(rejects(jsonSchema, { schema: { type: 'object', patternProperties: { '^(?!x)': {} } } })).to.match(/lookahead and lookbehind/);
      expect(rejects(jsonSchema, { schema: { type: 'string', pattern: 'y'.repeat(1001) } })).to.match(/is longer than 1000 characters/);
    });

    it('regexEngine "javascript" (the config file only) keeps RegExp patterns', async () => {
      const schema = { type: 'object', properties: { status: { type: 'string', pattern: '^(?!draft)' } } };
      expect((await run(jsonSchema, { schema, regexEngine: 'javascript' }, '{"status": "final"}')).verdict).to.equal(true);
      expect((await run(jsonSchema, { schema, regexEngine: 'javascript' }, '{"status": "draft 2"}')).verdict).to.equal(false);
      expect(jsonSchema.fileOnlyParams).to.deep.equal(['regexEngine']);
    });

    it("charges a request's own schema to the request's regex budget", async () => {
      const schema = { type: 'object', properties: { note: { type: 'string', pattern: 'secret' } } };
      const i = input(jsonSchema, { schema }, JSON.stringify({ note: 'x'.repeat(5000) }));
      expect(() => jsonSchema.run({ ...i, regexMeter: new RegexMeter(1000) })).to.throw(SafeRegexError, /work limit/);
      expect((await jsonSchema.run({ ...i, regexMeter: new RegexMeter(1e9) })).verdict).to.equal(false);
      // Without a budget (the config file's schema) nothing is charged, and a later run sees no leftover budget.
      expect((await jsonSchema.run(i)).verdict).to.equal(false);
    });
  });

  describe('jsonSchema', () => {
    it('passes an answer whose JSON validates (draft 2020-12)', async () => {
      const r = await run(jsonSchema, { schema: person }, '{"name": "Ada", "age": 36}');
      expect(r.verdict).to.equal(true);
      expect(r.data).to.deep.include({ jsonFound: 1 });
    });

    it('validates JSON inside a fenced block or inside prose', async () => {
      expect((await run(jsonSchema, { schema: person }, 'Sure!\n```json\n{"name": "Ada", "age": 36}\n```')).verdict).to.equal(true);
      expect((await run(jsonSchema, { schema: person }, 'The record: {"name": "Ada", "age": 36}. Done.')).verdict).to.equal(true);
    });

    it('fails JSON that does not validate, reporting where (formats included)', async () => {
      const r = await run(jsonSchema, { schema: person }, '{"name": "", "age": -1, "email": "nope", "extra": true}');
      expect(r.verdict).to.equal(false);
      const errors = (r.data as { errors: Array<{ path: string; message: string }> }).errors;
      expect(errors.map((e) => e.path)).to.include.members(['/name', '/age', '/email', '/']);
      expect(errors.find((e) => e.path === '/email')!.message).to.match(/format "email"/);
    });

    it('fails an answer without JSON', async () => {
      const r = await run(jsonSchema, { schema: person }, 'I cannot do that.');
      expect(r.verdict).to.equal(false);
      expect(r.data).to.deep.include({ jsonFound: 0 });
    });

    it('not inverts: passes when no JSON matches, fails when one does', async () => {
      expect((await run(jsonSchema, { schema: person, not: true }, '{"name": 1}')).verdict).to.equal(true);
      expect((await run(jsonSchema, { schema: person, not: true }, '{"name": "Ada", "age": 1}')).verdict).to.equal(false);
    });

    it('uses 2020-12 keywords (prefixItems, $defs) and draft-07 when the schema says so', async () => {
      const tuple = { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false };
      expect((await run(jsonSchema, { schema: tuple }, '["a", 1]')).verdict).to.equal(true);
      expect((await run(jsonSchema, { schema: tuple }, '["a", 1, 2]')).verdict).to.equal(false);
      const defs = { $defs: { id: { type: 'integer' } }, type: 'object', properties: { id: { $ref: '#/$defs/id' } } };
      expect((await run(jsonSchema, { schema: defs }, '{"id": "x"}')).verdict).to.equal(false);
      const d07 = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }], additionalItems: false };
      expect((await run(jsonSchema, { schema: d07 }, '["a"]')).verdict).to.equal(true);
      expect((await run(jsonSchema, { schema: d07 }, '["a", "b"]')).verdict).to.equal(false);
    });

    it('takes the schema as a JSON string too', async () => {
      expect((await run(jsonSchema, { schema: JSON.stringify(person) }, '{"name": "Ada", "age": 36}')).verdict).to.equal(true);
    });

    it('compiles each distinct schema once; two configs may reuse an $id', () => {
      const before = compiledSchemaCount();
      const a = jsonSchema.params.parse({ schema: { $id: 'https://schemas.example/one', type: 'object' } });
      const b = jsonSchema.params.parse({ schema: { $id: 'https://schemas.example/one', type: 'object' }, not: true });
      expect(a.validate).to.equal(b.validate);
      expect(compiledSchemaCount()).to.equal(before + 1);
      const c = jsonSchema.params.parse({ schema: { $id: 'https://schemas.example/one', type: 'array' } });
      expect(c.validate([])).to.equal(true);
      expect(c.validate({})).to.equal(false);
      // Running compiles nothing.
      const i = input(jsonSchema, { schema: person }, '{"name":"A","age":1}');
      const count = compiledSchemaCount();
      jsonSchema.run(i);
      jsonSchema.run(i);
      expect(compiledSchemaCount()).to.equal(count);
    });

    it('rejects invalid schemas at config time (a 400 there, not a failure per request)', () => {
      expect(rejects(jsonSchema, {})).to.match(/schema/);
      expect(rejects(jsonSchema, { schema: { type: 'strin' } })).to.match(/^schema: schema is not a valid JSON Schema/);
      expect(rejects(jsonSchema, { schema: { minimum: 'three' } })).to.match(/not a valid JSON Schema/);
      expect(rejects(jsonSchema, { schema: { $ref: 'https://elsewhere.example/s.json' } })).to.match(/can't resolve reference/);
      expect(rejects(jsonSchema, { schema: { $schema: 'http://json-schema.org/draft-04/schema#' } })).to.match(/not supported/);
      expect(rejects(jsonSchema, { schema: '{not json' })).to.match(/not JSON/);
      expect(rejects(jsonSchema, { schema: '[1]' })).to.match(/object or a boolean/);
      expect(rejects(jsonSchema, { schema: person, strict: true })).to.match(/strict/);
      expect(rejects(jsonSchema, { schema: { type: 'object', properties: { big: { description: 'x'.repeat(300 * 1024) } } } })).to.match(/larger than/);
    });

    it('runs only after the call', () => {
      expect(jsonSchema.hooks).to.deep.equal(['afterResponse']);
      expect(validate.hooks).to.deep.equal(['afterResponse']);
    });
  });

  describe('the plugin', () => {
    it('registers jsonschema.validate and default.jsonSchema', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      expect(kernel.registry(CHECKS).names().sort()).to.deep.equal(['default.jsonSchema', 'jsonschema.validate']);
      expect(plugin.manifest).to.include({ name: '@waygate/guardrail-json-schema', kind: 'guardrail', core: '^1.0.0' });
    });

    it('loads beside @waygate/guardrail-default without an id clash', async () => {
      const kernel = await kernelWithPlugins([fileURLToPath(new URL('../src/index.js', import.meta.url))]);
      await use(kernel, defaultChecks);
      expect(kernel.registry(CHECKS).has('default.jsonSchema')).to.equal(true);
      expect(kernel.registry(CHECKS).has('default.regexMatch')).to.equal(true);
      expect(kernel.registry(CHECKS).pluginOf('default.jsonSchema')).to.equal('@waygate/guardrail-json-schema');
      expect(kernel.registry(CHECKS).pluginOf('default.regexMatch')).to.equal('@waygate/guardrail-default');
    });
  });
});
