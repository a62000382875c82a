import { z } from 'zod';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv } from 'ajv';
import type { AnySchema, ErrorObject, Options, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { definePlugin, pluginManifest } from '@waygate/core';
import { defineCheck, registerChecks } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import { RegexEngineSchema, SafeRegexError, compileSafe } from '@waygate/safe-regex';
import type { RegexEngine, RegexMeter } from '@waygate/safe-regex';
import { extractJson } from './extract.js';

export { extractJson } from './extract.js';

const addFormats = addFormatsModule.default;

/** Schemas larger than this (as JSON) are refused: a config is not the place for them. */
const MAX_SCHEMA_CHARS = 256 * 1024;
/** Distinct schemas kept compiled (most configs share a handful). */
const MAX_COMPILED = 256;

const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';
const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;

/**
 * The budget `pattern` tests are charged to while a request's own schema validates an answer. Set
 * around the (synchronous) validate() calls of one check run, so no other run can see it.
 */
let activeMeter: RegexMeter | undefined;

/**
 * Ajv's `pattern` / `patternProperties` engine: @waygate/safe-regex on RE2, so a schema a caller
 * sent cannot backtrack. A pattern RE2 refuses throws while the schema compiles (a config error).
 */
const re2Patterns = Object.assign(
  (pattern: string, flags: string) => {
    let re;
    try {
      re = compileSafe(pattern, flags);
    } catch (err) {
      if (err instanceof SafeRegexError) throw new SafeRegexError(err.reason, `the pattern ${JSON.stringify(pattern)} is ${err.message}`);
      throw err;
    }
    return { test: (s: string) => re.test(s, activeMeter), toString: () => `/${pattern}/${flags}` };
  },
  { code: 'safeRegexPattern' },
);

const validators = new Map<RegexEngine, { d2020: Ajv2020; d07: Ajv }>();
/**
 * Two Ajv instances per regex engine, made on first use: draft 2020-12 (the default) and draft-07
 * (for schemas that say `"$schema": "http://json-schema.org/draft-07/schema#"`; Ajv cannot mix them
 * in one instance). Not strict, so annotations other tools add (`example`, `x-*`) are fine, but every
 * schema is validated against its meta-schema; formats (email, date-time, uri, ...) are checked.
 * `re2` runs patterns on the linear-time engine; `javascript` (the config file's opt-in) on RegExp.
 */
function ajv(engine: RegexEngine): { d2020: Ajv2020; d07: Ajv } {
  let v = validators.get(engine);
  if (!v) {
    const opts: Options = { strict: false, allErrors: true, validateSchema: true, logger: false };
    if (engine === 're2') opts.code = { regExp: re2Patterns };
    const d2020 = new Ajv2020(opts);
    const d07 = new Ajv(opts);
    addFormats(d2020);
    addFormats(d07);
    validators.set(engine, (v = { d2020, d07 }));
  }
  return v;
}

const compiled = new Map<string, ValidateFunction>();

/**
 * Compiles a schema once per distinct JSON text and engine (bounded, oldest dropped first). Throws
 * with Ajv's message for an invalid schema, an unresolvable `$ref` (nothing is fetched) or an
 * unsupported draft, and a SafeRegexError for a `pattern` the regex engine refuses.
 */
export function compileSchema(schema: AnySchema, engine: RegexEngine = 're2'): ValidateFunction {
  const text = JSON.stringify(schema);
  if (text.length > MAX_SCHEMA_CHARS) throw new Error(`the schema is larger than ${MAX_SCHEMA_CHARS / 1024} KB`);
  const key = `${engine}\u0000${text}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  const declared = typeof schema === 'object' && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined;
  let instance: Ajv | Ajv2020;
  if (declared === undefined || declared === DRAFT_2020 || declared === `${DRAFT_2020}#`) instance = ajv(engine).d2020;
  else if (typeof declared === 'string' && DRAFT_07.test(declared)) instance = ajv(engine).d07;
  else throw new Error(`$schema ${JSON.stringify(declared)} is not supported: use draft 2020-12 (the default) or draft-07`);
  const validate = instance.compile(schema);
  // Ajv keeps every schema it compiled (and registers its $id): drop it, so distinct configs can
  // reuse an $id and memory stays bounded by this cache. The compiled function stands alone.
  instance.removeSchema(schema);
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, validate);
  return validate;
}

/** How many schemas are compiled and kept (for tests). */
export function compiledSchemaCount(): number {
  return compiled.size;
}

const JsonSchemaParams = z
  .strictObject({
    /** The JSON Schema: an object (or true/false), or that object as a JSON string. */
    schema: z.union([z.record(z.string(), z.unknown()), z.boolean(), z.string()]),
    not: z.boolean().default(false),
    /** The engine of the schema's `pattern`s: `re2`, or `javascript` (only in the gateway's config file). */
    regexEngine: RegexEngineSchema,
  })
  .transform((p, ctx) => {
    let schema: unknown = p.schema;
    if (typeof schema === 'string') {
      try {
        schema = JSON.parse(schema);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'schema is a string that is not JSON', path: ['schema'], input: p.schema });
        return z.NEVER;
      }
      if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) {
        ctx.addIssue({ code: 'custom', message: 'schema must be a JSON object or a boolean', path: ['schema'], input: p.schema });
        return z.NEVER;
      }
    }
    try {
      return { schema: schema as AnySchema, not: p.not, validate: compileSchema(schema as AnySchema, p.regexEngine) };
    } catch (err) {
      const message =
        err instanceof SafeRegexError ? `schema cannot be used: ${err.message}` : `schema is not a valid JSON Schema: ${(err as Error).message}`;
      ctx.addIssue({ code: 'custom', message, path: ['schema'], input: p.schema });
      return z.NEVER;
    }
  });

function describe(errors: ErrorObject[] | null | undefined): Array<{ path: string; message: string }> {
  return (errors ?? []).slice(0, 10).map((e) => ({ path: e.instancePath || '/', message: e.message ?? e.keyword }));
}

/**
 * The answer's JSON validates against `schema` (JSON Schema draft 2020-12, or draft-07 when the
 * schema declares it). The JSON is the whole answer text, else the fenced code blocks in it, else
 * the `{...}`/`[...]` spans in the prose; the check passes when one of them validates (with `not`,
 * when none does). An answer without JSON fails (with `not`, passes).
 */
export const jsonSchema = defineCheck({
  id: 'jsonSchema',
  hooks: ['afterResponse'],
  params: JsonSchemaParams,
  fileOnlyParams: ['regexEngine'],
  run({ params, response, regexMeter }) {
    const candidates = extractJson(response?.text ?? '');
    let firstErrors: ReturnType<typeof describe> = [];
    let valid = false;
    activeMeter = regexMeter;
    try {
      for (const value of candidates) {
        if (params.validate(value)) {
          valid = true;
          break;
        }
        if (firstErrors.length === 0) firstErrors = describe(params.validate.errors);
      }
    } finally {
      activeMeter = undefined;
    }
    const verdict = valid !== params.not;
    const explanation =
      candidates.length === 0
        ? 'No JSON found in the answer.'
        : valid
          ? `The answer's JSON matches the schema${params.not ? ', which it must not' : ''}.`
          : `No JSON in the answer matches the schema (${candidates.length} found).`;
    return { verdict, data: { explanation, jsonFound: candidates.length, ...(firstErrors.length && !valid ? { errors: firstErrors } : {}) } };
  },
});

/** The same check under this package's own namespace: `jsonschema.validate`. */
export const validate: GuardrailCheck = { ...(jsonSchema as GuardrailCheck), id: 'validate' };

const manifest = pluginManifest(import.meta.url, 'guardrail');

export default definePlugin({
  manifest,
  configSchema: z.strictObject({}),
  setup(api) {
    registerChecks(api, 'jsonschema', [validate]);
    // Portkey's id. Registry keys are full ids, so this sits beside @waygate/guardrail-default's
    // `default.*` checks without clashing.
    registerChecks(api, 'default', [jsonSchema as GuardrailCheck]);
  },
});
