import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * Layers (docs/architecture.md, "Layers"): each layer imports only the layers below it, and the local
 * host nothing of src/. Checked by file folder with the built-in no-restricted-imports; tests are free
 * to reach any layer (memory fakes, fixtures). src/functions, src/openapi, src/telemetry, src/console,
 * src/portal, src/web and src/config.ts sit on top and may import everything.
 */
const ABOVE_DOMAIN = ['ports', 'usecases', 'adapters', 'functions', 'openapi', 'telemetry', 'console', 'portal', 'web', 'config', 'local-host', 'cli', 'bench'];
/** A relative import that reaches into one of these folders (or src/config.ts). */
const into = (folders) => `^\\.{1,2}/(?:.*/)?(?:${folders.join('|')})(?:/|$)`;
/** Known exceptions to "use cases import no adapter": none (HttpSender is a port, src/ports/httpSender.ts). */
const USECASES_MAY_IMPORT = [];
/** Modules of src/ the local host may import: dependency-free ones only (string values: numbers and lists read the same way). */
const LOCAL_HOST_MAY_IMPORT = ['domain/stringValues'];

const layer = (name, files, patterns) => ({
  name: `layers/${name}`,
  files,
  ignores: ['**/__tests__/**'],
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});
const except = (allowed) => (allowed.length === 0 ? '' : `(?!(?:${allowed.join('|')})$)`);

export const layerRules = [
  layer('domain', ['src/domain/**/*.ts'], [{ regex: into(ABOVE_DOMAIN), message: 'domain imports nothing of ours outside src/domain (docs/architecture.md, Layers).' }]),
  layer('ports', ['src/ports/**/*.ts'], [{ regex: into(ABOVE_DOMAIN.filter((f) => f !== 'ports')), message: 'ports import src/domain only (docs/architecture.md, Layers).' }]),
  layer(
    'usecases',
    ['src/usecases/**/*.ts'],
    [
      { regex: into(ABOVE_DOMAIN.filter((f) => !['ports', 'usecases', 'adapters'].includes(f))), message: 'use cases import src/domain and src/ports only (docs/architecture.md, Layers).' },
      {
        regex: `^\\.{1,2}/(?:.*/)?adapters/${except(USECASES_MAY_IMPORT.map((p) => p.replace(/^adapters\//, '')))}`,
        message: 'use cases take adapters as ports: import src/ports, not src/adapters (docs/architecture.md, Layers).',
      },
    ],
  ),
  layer(
    'adapters',
    ['src/adapters/**/*.ts'],
    [
      {
        regex: into(ABOVE_DOMAIN.filter((f) => !['ports', 'adapters'].includes(f))),
        message: 'adapters import src/domain and src/ports only, never use cases or functions (docs/architecture.md, Layers).',
      },
    ],
  ),
  layer(
    'local-host',
    ['local-host/**/*.ts'],
    [{ regex: `^(?:\\.\\./)+src(?:/|$)${except(LOCAL_HOST_MAY_IMPORT)}`, message: 'the local host knows nothing of the app: it imports nothing from src/ (docs/architecture.md, Layers).' }],
  ),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/node_modules/**', 'coverage/**', '__azurite__/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  ...layerRules,
);
