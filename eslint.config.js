// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * Import boundaries: each folder of src/ may import only the folders listed here
 * (docs/architecture.md explains why). `errors.ts` and `util/` are shared by all.
 * @type {Record<string, string[]>}
 */
const allowed = {
  config: [],
  util: [],
  hub: ['config'],
  download: [],
  cache: [],
  catalog: ['hub'],
  lock: ['catalog', 'hub'],
  hardware: [],
  env: ['config'],
  emulator: [],
  modelpack: [],
  registry: ['config', 'download'],
  snapshot: ['config', 'hub', 'download', 'cache', 'modelpack'],
  bundle: ['hub', 'download', 'cache', 'snapshot', 'modelpack'],
  maintenance: ['config', 'hub', 'download', 'cache', 'catalog', 'snapshot', 'lock'],
  runtime: ['config', 'hub', 'download', 'cache', 'snapshot', 'registry'],
  commands: ['config', 'hub', 'download', 'cache', 'catalog', 'hardware', 'env', 'snapshot', 'maintenance', 'modelpack', 'registry', 'lock', 'bundle', 'runtime'],
};
const folders = [...Object.keys(allowed).filter((f) => f !== 'util'), 'cli'];

const boundaryBlocks = Object.entries(allowed).map(([folder, ok]) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: folders
          .filter((f) => f !== folder && !ok.includes(f))
          .map((f) => ({
            group: [`../${f}/*`, `../../${f}/*`, `../${f}`, `../../${f}`],
            message: `src/${folder} may not import src/${f} (see docs/architecture.md).`,
          })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/', 'dist-check/', 'node_modules/', 'coverage/', '.bench/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'Only src/cli/main.ts sets the exit code; throw instead.' },
        { object: 'process', property: 'env', message: 'Read the environment through src/config/settings.ts only.' },
      ],
    },
  },
  ...boundaryBlocks,
  {
    files: ['src/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      // Output leaves through one door that redacts secrets (src/cli/output.ts; main.ts creates it).
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment through src/config/settings.ts only.' },
        { object: 'process', property: 'stdout', message: 'Write through the output door (context.output, src/cli/output.ts): it redacts secrets.' },
        { object: 'process', property: 'stderr', message: 'Write through the output door (context.output, src/cli/output.ts): it redacts secrets.' },
      ],
    },
  },
  {
    files: ['src/cli/main.ts', 'src/config/settings.ts', 'src/cli/bin/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // The entry points beside `mlcache` (the emulator launcher, the demo) are their own programs:
    // they print test fixtures — the emulator's own token among them, which the door would mask.
    files: ['src/cli/bin/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['test/**/*.ts', 'scripts/**/*.{ts,mjs,js}', 'eslint.config.js', 'vitest.config.ts', 'bin/**/*.js'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['scripts/**/*.{mjs,js}', 'eslint.config.js', 'bin/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
