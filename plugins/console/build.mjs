// Bundles the console's page (ui/app.tsx, Preact) with esbuild into dist/ui/app.js, beside a copy of
// ui/index.html: everything the page loads is served by the gateway itself, nothing from elsewhere.
// Run by the root `npm run build` / `npm test` (after tsc -b) and by this package's `npm run build`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
mkdirSync(here('./dist/ui'), { recursive: true });
await build({
  entryPoints: [here('./ui/app.tsx')],
  outfile: here('./dist/ui/app.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(here('./ui/index.html'), here('./dist/ui/index.html'));
copyFileSync(here('./ui/console.css'), here('./dist/ui/console.css'));
