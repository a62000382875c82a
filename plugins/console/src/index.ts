import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { definePlugin, pluginManifest, redactUrl } from '@waygate/core';
import type { AdminExtension } from '@waygate/auth';

/** The plugin's options: none yet (an empty object), checked so a typo is a start-up error. */
export const OptionsSchema = z.strictObject({});

const manifest = pluginManifest(import.meta.url, 'observability');

/** The page and its assets, built by `build.mjs` (esbuild) into dist/ui at build time. */
const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));
const ASSETS: Record<string, string> = {
  '/console': 'index.html',
  '/console/': 'index.html',
  '/console/app.js': 'app.js',
  '/console/console.css': 'console.css',
};
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
/** The page may load and call nothing but this gateway. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Keys whose values are secrets wherever they appear in the config. */
const SECRET_KEY = /(key|token|secret|password|passwd|credential|authorization|private)/i;
export const MASK = '••••••';

/** The config as the console shows it: secret-named fields masked, passwords taken out of URLs, `env:NAME` references kept (they name, not hold). */
export function masked(value: unknown, depth = 0): unknown {
  if (depth > 64) return MASK;
  if (typeof value === 'string') return /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*@/i.test(value) ? redactUrl(value) : value;
  if (Array.isArray(value)) return value.map((v) => masked(v, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEY.test(k) && v !== null && v !== undefined && typeof v !== 'boolean' && typeof v !== 'number') {
      out[k] = typeof v === 'string' && v.startsWith('env:') ? v : MASK;
    } else out[k] = masked(v, depth + 1);
  }
  return out;
}

/** The distribution's bundled plugin list (core/bundled.json), what a config with `defaultPlugins` loads first. */
function bundledList(): string[] {
  try {
    const core = path.dirname(createRequire(import.meta.url).resolve('@waygate/core/package.json'));
    return JSON.parse(readFileSync(path.join(core, 'bundled.json'), 'utf8')) as string[];
  } catch {
    return [];
  }
}

/**
 * The operator console at /console: a page (Preact, bundled at build time) served by the gateway,
 * that signs in with the admin key and uses the admin API (@waygate/auth's /admin/keys, /admin/teams,
 * /admin/spend; @waygate/request-log's /admin/logs; and this plugin's GET /admin/gateway: the
 * plugins, providers, endpoints and the config with secrets masked).
 */
export default definePlugin({
  manifest,
  configSchema: OptionsSchema,
  setup(api) {
    // Read once, on first use: a checkout built with tsc alone (no `npm run build:console`) still starts, and says what is missing.
    const files = new Map<string, Buffer>();
    const asset = (f: string): Buffer | undefined => {
      let b = files.get(f);
      if (!b) {
        try {
          files.set(f, (b = readFileSync(path.join(UI_DIR, f))));
        } catch {
          return undefined;
        }
      }
      return b;
    };
    const adminAuth = api.registry<(presented: string) => boolean>('admin-auth');

    api.register.route('/console', async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://console.invalid');
      const file = ASSETS[url.pathname];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
        return void res.end('method not allowed');
      }
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        return void res.end('not found');
      }
      if (!adminAuth.get('admin')) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        return void res.end('The console needs the admin API: configure an admin key (WAYGATE_ADMIN_KEY, or @waygate/auth adminKey).');
      }
      const body = asset(file);
      if (!body) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        return void res.end('The console page is not built: run `npm run build` (it bundles plugins/console/ui with esbuild).');
      }
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)]!,
        'content-length': body.length,
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': file === 'index.html' ? 'no-store' : 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    });

    const gateway: AdminExtension = async ({ method, segments }) => {
      if (method !== 'GET' || segments.length)
        throw Object.assign(new Error(`${method} /admin/gateway${segments.length ? '/…' : ''} is not served`), { status: 404, code: 'not_found' });
      const cfg = api.config as unknown as Record<string, unknown> & { plugins?: unknown[]; defaultPlugins?: boolean };
      const named = (cfg.plugins ?? []).map((p) => (typeof p === 'string' ? p : String((p as { module?: unknown }).module)));
      const plugins = [
        ...(cfg.defaultPlugins === false
          ? []
          : bundledList()
              .filter((m) => !named.includes(m))
              .map((name) => ({ name, from: 'bundled' }))),
        ...named.map((name) => ({ name, from: 'config' })),
      ];
      return [
        200,
        {
          plugins,
          providers: api.providers.ids().sort(),
          endpoints: ((api.endpoints as { ids?: () => string[] }).ids?.() ?? []).sort(),
          config: masked(cfg),
        },
      ];
    };
    api.registry<AdminExtension>('admin-routes').register('gateway', gateway);
  },
});
