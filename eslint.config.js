// @ts-check
// ESLint for the whole monorepo: ESLint's and typescript-eslint's recommended sets, without type-aware
// rules (they need a TypeScript program: over a minute of CPU for this tree, against ~15 s without).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // Build output, installs and generated declarations are not ours to lint.
    ignores: ['**/dist/', '**/node_modules/', '**/coverage/', '**/*.d.ts', '.bench/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    linterOptions: {
      // A disable comment that no longer silences anything is itself a finding.
      reportUnusedDisableDirectives: 'error',
    },
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: {
      // `_name` marks a binding that is there on purpose (a skipped parameter, a field left out of a rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // `let x; const server = serve(() => x.handle()); x = new X(server)`: a closure reads the binding before
      // its one assignment, which a const could only take by moving the declaration below the closure.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // On everywhere but test code (below); the few real uses in sources say why next to them.
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Test code and the test kit that core ships (@waygate/core/testing) read JSON answers by path, and the
    // assertions are written that way: `any` is the honest type there.
    files: ['**/test/**/*.{ts,js}', 'core/src/testing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
