// Lint: typescript-eslint with type-aware rules (floating promises, misused promises) over every TS source.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Product code (src, cli, controller, bin, demo, kube-api) must never import test/ or bench/. */
const LAYOUT_NO_TESTS = { regex: '^(\\.\\./)+(test|bench)(/|$)', message: 'Product code never imports test/ or bench/: move what you need into src/, kube-api/ or demo/.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  // Layout: product code never imports tests or benchmarks; src/ is the library and imports no shell
  // (cli/, controller/, bin/, demo/) and no cluster client; the embedded API stands alone.
  {
    files: ['src/**/*.ts', 'cli/**/*.ts', 'controller/**/*.ts', 'bin/**/*.ts', 'demo/**/*.ts', 'kube-api/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [LAYOUT_NO_TESTS] }] },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: '@kubernetes/client-node', message: 'src/ is the library: no cluster code (see README, Architecture).' }],
        patterns: [LAYOUT_NO_TESTS, { regex: '^(\\.\\./)+(cli|controller|bin|demo|kube-api)(/|$)', message: 'src/ is the library: arrows point down into src/ only.' }],
      }],
    },
  },
  {
    // ui/ (the sealing page, its browser code and its two servers) is shared by cli/ and controller/ and imports only src/.
    files: ['ui/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [LAYOUT_NO_TESTS, { regex: '^(\\.\\./)+(net|cli|controller|bin|demo|kube-api)(/|$)', message: 'ui/ is shared by the CLI and the controller: it imports only src/.' }],
      }],
    },
  },
  {
    files: ['kube-api/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [LAYOUT_NO_TESTS, { regex: '^(\\.\\./)+(src|cli|controller|bin|demo)(/|$)', message: 'kube-api/ stands alone: it models the Kubernetes API, not kseal.' }],
      }],
    },
  },
  {
    // control-plane/ (the real control plane launcher) is shared by test/e2e and bench/: it drives
    // Kubernetes binaries and the deploy manifests, and imports no kseal code, tests or benchmarks.
    files: ['control-plane/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [LAYOUT_NO_TESTS, { regex: '^(\\.\\./)+(src|cli|controller|bin|demo|kube-api|net|ui)(/|$)', message: 'control-plane/ stands alone: it starts Kubernetes, it is not kseal.' }],
      }],
    },
  },
  {
    // Benchmarks are not tests: they never import test/ (shared pieces live in kube-api/ or control-plane/).
    files: ['bench/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./)+test(/|$)', message: 'bench/ never imports test/: move what both need into control-plane/, kube-api/ or src/.' }] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
