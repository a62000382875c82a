/**
 * Azure AI Content Safety (text analysis, Prompt Shields, protected material) and Azure AI Language
 * (PII detection and redaction), with Portkey's check ids and parameters:
 *
 *   azure.contentSafety      POST {base}/contentsafety/text:analyze?api-version=2024-09-01
 *   azure.shieldPrompt       POST {base}/contentsafety/text:shieldPrompt?api-version=2024-09-01
 *   azure.protectedMaterial  POST {base}/contentsafety/text:detectProtectedMaterial?api-version=2024-09-01
 *   azure.pii                POST {base}/language/:analyze-text?api-version=2024-11-01
 *
 * `{base}` is `credentials.customHost` or `https://{credentials.resourceName}.cognitiveservices.azure.com`;
 * the key goes in `Ocp-Apim-Subscription-Key`. Credentials sit in `parameters.credentials`, as in
 * Portkey: `{contentSafety: {...}}` for the Content Safety checks and `{pii: {...}}` for azure.pii (or
 * the fields directly), else the plugin's `credentials` option.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { CheckInput, GuardrailCheck } from '@waygate/guardrails';
import {
  VendorError,
  baseUrlParam,
  callVendor,
  chooseCredentials,
  isPlainObject,
  messagesOf,
  nothingToCheck,
  secretParam,
  textOf,
  timeoutParam,
} from '@waygate/guardrail-vendor-kit';

const VENDOR_CS = 'Azure AI Content Safety';
const VENDOR_LANG = 'Azure AI Language';

/** One Azure resource's credentials (Portkey's `AzureCredentials`; API keys only). */
export const AzureCredentialsSchema = z
  .strictObject({
    resourceName: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/, 'resourceName is the resource\'s name (letters, digits, "-"), not a URL')
      .optional(),
    apiKey: secretParam.optional(),
    azureAuthMode: z.enum(['apiKey', 'entra', 'managed']).default('apiKey'),
    customHost: baseUrlParam.optional(),
    clientId: z.string().optional(),
    clientSecret: z.string().optional(),
    tenantId: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.azureAuthMode !== 'apiKey') {
      ctx.addIssue({
        code: 'custom',
        path: ['azureAuthMode'],
        message: `azureAuthMode "${c.azureAuthMode}" is not supported here; use an API key ("apiKey")`,
      });
    }
    if (!c.apiKey) ctx.addIssue({ code: 'custom', path: ['apiKey'], message: 'apiKey is required' });
    if (!c.resourceName && !c.customHost) ctx.addIssue({ code: 'custom', path: ['resourceName'], message: 'resourceName (or customHost) is required' });
  });
export type AzureCredentials = z.output<typeof AzureCredentialsSchema>;

/** `credentials`: `{contentSafety: {...}}` / `{pii: {...}}` as Portkey nests them, or one resource's fields directly. */
const credentialsParam = z.record(z.string(), z.unknown());

export interface AzureOptions {
  /** The operator's credentials, used when a check's config has none: per service, as in Portkey. */
  contentSafety?: AzureCredentials;
  pii?: AzureCredentials;
}

type Service = 'contentSafety' | 'pii';

/** The config's credentials for `service`, validated, with issues on their full path; undefined when absent or invalid. */
function configCredentials(raw: Record<string, unknown>, service: Service, ctx: z.RefinementCtx): AzureCredentials | undefined {
  const nested = 'contentSafety' in raw || 'pii' in raw;
  const path = nested ? ['credentials', service] : ['credentials'];
  const value = nested ? raw[service] : raw;
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', path, message: `credentials.${service} is required` });
    return undefined;
  }
  const r = AzureCredentialsSchema.safeParse(value);
  if (!r.success) {
    for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: [...path, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
    return undefined;
  }
  return r.data;
}

/** The parameters' schema with `credentials` resolved to one resource (the config's or the options'). */
function withCredentials<S extends z.ZodRawShape>(shape: S, service: Service, options: AzureOptions) {
  type Out = Omit<z.output<z.ZodObject<S>>, 'credentials'> & { credentials: AzureCredentials };
  return z.strictObject({ ...shape, credentials: credentialsParam.optional() }).transform((p, ctx): Out => {
    const raw = (p as { credentials?: Record<string, unknown> }).credentials;
    const fromConfig = raw === undefined ? undefined : configCredentials(raw, service, ctx);
    if (raw !== undefined && fromConfig === undefined) return z.NEVER;
    const creds = chooseCredentials(fromConfig, options[service], ctx, `Azure credentials (credentials.${service})`);
    if (!creds) return z.NEVER;
    return { ...(p as object), credentials: creds } as Out;
  });
}

function baseOf(c: AzureCredentials): string {
  return c.customHost ?? `https://${c.resourceName}.cognitiveservices.azure.com`;
}

const apiVersion = (def: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, 'apiVersion looks like 2024-09-01')
    .default(def);

async function azurePost(
  input: CheckInput<unknown>,
  vendor: string,
  creds: AzureCredentials,
  path: string,
  version: string,
  body: unknown,
  timeout: number,
) {
  const url = `${baseOf(creds)}${path}?api-version=${encodeURIComponent(version)}`;
  const answer = await callVendor(input, { vendor, url, headers: { 'ocp-apim-subscription-key': creds.apiKey! }, body, timeout });
  if (!isPlainObject(answer)) throw new VendorError(`${vendor} answered something that is not a JSON object`);
  return answer;
}

const CATEGORIES = ['Hate', 'SelfHarm', 'Sexual', 'Violence'] as const;

/** Text analysis: fails when a category's severity reaches `severity` (default 2) or a blocklist item matches. */
export function contentSafety(options: AzureOptions = {}) {
  return defineCheck({
    id: 'contentSafety',
    params: withCredentials(
      {
        blocklistNames: z.array(z.string().min(1)).default([]),
        timeout: timeoutParam(5000),
        /** Content Safety's latest GA version in its reference (Portkey defaults to 2024-11-01, a version of Azure AI Language, not listed for text:analyze). */
        apiVersion: apiVersion('2024-09-01'),
        severity: z.number().int().min(0).max(7).default(2),
        categories: z
          .array(z.enum(CATEGORIES))
          .min(1)
          .default([...CATEGORIES]),
        haltOnBlocklistHit: z.boolean().optional(),
        outputType: z.enum(['FourSeverityLevels', 'EightSeverityLevels']).optional(),
      },
      'contentSafety',
      options,
    ),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR_CS);
      const body: Record<string, unknown> = { text, categories: p.categories, blocklistNames: p.blocklistNames };
      if (p.haltOnBlocklistHit !== undefined) body.haltOnBlocklistHit = p.haltOnBlocklistHit;
      if (p.outputType) body.outputType = p.outputType;
      const a = await azurePost(input, VENDOR_CS, p.credentials, '/contentsafety/text:analyze', p.apiVersion, body, p.timeout);
      if (!Array.isArray(a.categoriesAnalysis)) throw new VendorError(`${VENDOR_CS} answered without categoriesAnalysis`);
      const categories = a.categoriesAnalysis.filter(isPlainObject).map((c) => ({ category: String(c.category), severity: Number(c.severity) }));
      const flagged = categories.filter((c) => c.severity >= p.severity).map((c) => c.category);
      const blocklists = Array.isArray(a.blocklistsMatch)
        ? a.blocklistsMatch.filter(isPlainObject).map((b) => ({ blocklistName: b.blocklistName, blocklistItemId: b.blocklistItemId }))
        : [];
      const verdict = flagged.length === 0 && blocklists.length === 0;
      return {
        verdict,
        data: {
          explanation: verdict
            ? `No category at severity ${p.severity} or above, no blocklist match.`
            : `Flagged: ${[...flagged, ...(blocklists.length ? [`${blocklists.length} blocklist match(es)`] : [])].join(', ')}.`,
          categoriesAnalysis: categories,
          blocklistsMatch: blocklists,
          flaggedCategories: flagged,
        },
      };
    },
  });
}

/**
 * Prompt Shields: the user's prompt (the last user message) as `userPrompt`, and the tool results
 * of the conversation (third-party content, where indirect attacks come from) as `documents`, at
 * most 5. Fails when either shows an attack.
 */
export function shieldPrompt(options: AzureOptions = {}) {
  return defineCheck({
    id: 'shieldPrompt',
    hooks: ['beforeRequest'],
    params: withCredentials({ timeout: timeoutParam(5000), apiVersion: apiVersion('2024-09-01') }, 'contentSafety', options),
    async run(input) {
      const p = input.params;
      const userPrompt = input.request.text;
      const documents = messagesOf(input.request.json)
        .filter((m) => m.role === 'tool' || m.role === 'function')
        .map((m) => m.text)
        .filter((t) => t.length > 0)
        .slice(-5);
      if (!userPrompt && documents.length === 0) return nothingToCheck(VENDOR_CS);
      const a = await azurePost(input, VENDOR_CS, p.credentials, '/contentsafety/text:shieldPrompt', p.apiVersion, { userPrompt, documents }, p.timeout);
      const user = isPlainObject(a.userPromptAnalysis) ? a.userPromptAnalysis.attackDetected : undefined;
      if (typeof user !== 'boolean' && userPrompt) throw new VendorError(`${VENDOR_CS} answered without userPromptAnalysis.attackDetected`);
      const docs = Array.isArray(a.documentsAnalysis) ? a.documentsAnalysis.map((d) => isPlainObject(d) && d.attackDetected === true) : [];
      const verdict = user !== true && !docs.includes(true);
      return {
        verdict,
        data: {
          explanation: verdict
            ? 'No attack detected.'
            : `Attack detected in ${user === true ? 'the user prompt' : `document(s) ${docs.flatMap((d, i) => (d ? [i] : [])).join(', ')}`}.`,
          userPromptAnalysis: { attackDetected: user === true },
          documentsAnalysis: docs.map((attackDetected) => ({ attackDetected })),
        },
      };
    },
  });
}

/** Protected material (known song lyrics, articles, recipes ...) in the answer: fails when detected. */
export function protectedMaterial(options: AzureOptions = {}) {
  return defineCheck({
    id: 'protectedMaterial',
    hooks: ['afterResponse'],
    params: withCredentials({ timeout: timeoutParam(5000), apiVersion: apiVersion('2024-09-01') }, 'contentSafety', options),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR_CS);
      const a = await azurePost(input, VENDOR_CS, p.credentials, '/contentsafety/text:detectProtectedMaterial', p.apiVersion, { text }, p.timeout);
      const detected = isPlainObject(a.protectedMaterialAnalysis) ? a.protectedMaterialAnalysis.detected : undefined;
      if (typeof detected !== 'boolean') throw new VendorError(`${VENDOR_CS} answered without protectedMaterialAnalysis.detected`);
      return {
        verdict: !detected,
        data: { explanation: detected ? 'Protected material detected.' : 'No protected material detected.', protectedMaterialAnalysis: { detected } },
      };
    },
  });
}

/**
 * PII entity recognition. Without `redact`, fails when an entity is found; with `redact: true`,
 * passes and replaces the text with Azure's `redactedText`. `data` names the entities' categories,
 * offsets and scores, never their text.
 */
export function pii(options: AzureOptions = {}) {
  return defineCheck({
    id: 'pii',
    mutates: true,
    params: withCredentials(
      {
        domain: z
          .enum(['none', 'phi'])
          .or(z.literal('healthcare').transform(() => 'phi' as const))
          .default('none'),
        modelVersion: z.string().min(1).default('latest'),
        apiVersion: apiVersion('2024-11-01'),
        timeout: timeoutParam(5000),
        redact: z.boolean().default(false),
        language: z.string().min(2).max(16).default('en'),
        piiCategories: z.array(z.string().min(1)).min(1).optional(),
      },
      'pii',
      options,
    ),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR_LANG);
      const body = {
        kind: 'PiiEntityRecognition',
        parameters: { domain: p.domain, modelVersion: p.modelVersion, ...(p.piiCategories ? { piiCategories: p.piiCategories } : {}) },
        analysisInput: { documents: [{ id: '0', text, language: p.language }] },
      };
      const a = await azurePost(input, VENDOR_LANG, p.credentials, '/language/:analyze-text', p.apiVersion, body, p.timeout);
      const results = isPlainObject(a.results) ? a.results : undefined;
      const errors = Array.isArray(results?.errors) ? results.errors : [];
      if (errors.length > 0) {
        const e = isPlainObject(errors[0]) && isPlainObject(errors[0].error) ? errors[0].error : {};
        throw new VendorError(`${VENDOR_LANG} could not analyse the text: ${String(e.code ?? 'error')} ${String(e.message ?? '')}`.trim());
      }
      const doc = Array.isArray(results?.documents) ? results.documents.find((d) => isPlainObject(d) && d.id === '0') : undefined;
      if (!isPlainObject(doc) || !Array.isArray(doc.entities)) throw new VendorError(`${VENDOR_LANG} answered without results.documents[0].entities`);
      const entities = doc.entities.filter(isPlainObject).map((e) => ({
        category: e.category,
        ...(e.subcategory ? { subcategory: e.subcategory } : {}),
        offset: e.offset,
        length: e.length,
        confidenceScore: e.confidenceScore,
      }));
      const found = entities.length > 0;
      const explanation = found ? `${entities.length} PII entit${entities.length === 1 ? 'y' : 'ies'} found.` : 'No PII found.';
      if (p.redact && found) {
        if (typeof doc.redactedText !== 'string') throw new VendorError(`${VENDOR_LANG} answered without redactedText`);
        return { verdict: true, data: { explanation: `${explanation} Redacted.`, entities, redacted: true }, transformedText: doc.redactedText };
      }
      return { verdict: !found, data: { explanation, entities } };
    },
  });
}

export function createAzureChecks(options: AzureOptions = {}): GuardrailCheck[] {
  return [contentSafety(options), shieldPrompt(options), protectedMaterial(options), pii(options)] as unknown as GuardrailCheck[];
}
