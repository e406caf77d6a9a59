import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/*
 * The layer rule (eslint.config.mjs, docs/architecture.md "Layers"): fixture texts linted by the
 * ESLint Node API as if they sat at a path of the tree. A child process, because the config is an ES
 * module and jest's sandbox cannot import one.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const LINT = `
const { ESLint } = require('eslint');
const cases = JSON.parse(process.argv[1]);
(async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const out = [];
  for (const c of cases) {
    const [result] = await eslint.lintText(c.text, { filePath: require('node:path').join(process.cwd(), c.at) });
    out.push(result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

type Case = { readonly at: string; readonly text: string };
const lint = (cases: readonly Case[]): string[][] => JSON.parse(execFileSync(process.execPath, ['-e', LINT, JSON.stringify(cases)], { cwd: ROOT, encoding: 'utf8' })) as string[][];

const cases: readonly (Case & { readonly refused: boolean })[] = [
  // Upward imports.
  { at: 'src/domain/x.ts', text: "import type { WebhookStore } from '../ports/webhookStore';\nexport type X = WebhookStore;\n", refused: true },
  { at: 'src/domain/x.ts', text: "import { loadConfig } from '../config';\nexport const x = loadConfig;\n", refused: true },
  { at: 'src/ports/x.ts', text: "import { createWebhook } from '../usecases/createWebhook';\nexport const x = createWebhook;\n", refused: true },
  { at: 'src/usecases/x.ts', text: "import { tableWebhookStore } from '../adapters/tables/tableWebhookStore';\nexport const x = tableWebhookStore;\n", refused: true },
  { at: 'src/adapters/tables/x.ts', text: "import { createWebhook } from '../../usecases/createWebhook';\nexport const x = createWebhook;\n", refused: true },
  { at: 'src/adapters/tables/x.ts', text: "import { app } from '../../functions/events';\nexport const x = app;\n", refused: true },
  { at: 'local-host/x.ts', text: "import { Webhook } from '../src/domain/webhook';\nexport const x = Webhook;\n", refused: true },
  { at: 'src/usecases/x.ts', text: "import type { HttpSender } from '../adapters/http/undiciHttpSender';\nexport type X = HttpSender;\n", refused: true },
  // What each layer may import.
  { at: 'src/domain/x.ts', text: "import { Webhook } from './webhook';\nimport * as t from 'io-ts';\nexport const x = [Webhook, t];\n", refused: false },
  {
    at: 'src/usecases/x.ts',
    text: "import type { WebhookStore } from '../ports/webhookStore';\nimport { Webhook } from '../domain/webhook';\nexport type X = WebhookStore;\nexport const x = Webhook;\n",
    refused: false,
  },
  {
    at: 'src/adapters/tables/x.ts',
    text: "import type { WebhookStore } from '../../ports/webhookStore';\nimport { odata } from '@azure/data-tables';\nexport type X = WebhookStore;\nexport const x = odata;\n",
    refused: false,
  },
  { at: 'src/usecases/x.ts', text: "import type { HttpSender } from '../ports/httpSender';\nexport type X = HttpSender;\n", refused: false },
  // The one module of src/ the local host may import (it imports nothing itself).
  { at: 'local-host/x.ts', text: "import { plainIntegerIn } from '../src/domain/stringValues';\nexport const x = plainIntegerIn;\n", refused: false },
  {
    at: 'src/functions/x.ts',
    text: "import { tableWebhookStore } from '../adapters/tables/tableWebhookStore';\nimport { createWebhook } from '../usecases/createWebhook';\nexport const x = [tableWebhookStore, createWebhook];\n",
    refused: false,
  },
];

describe('the layer rule', () => {
  const results = lint(cases);

  it.each(cases.map((c, i) => [c.refused ? 'refuses' : 'allows', c.at, c.text.split('\n')[0], i] as const))('%s in %s: %s', (_verb, _at, _line, i) => {
    const messages = results[i] ?? [];
    if (cases[i]?.refused === true) expect(messages).toEqual([expect.stringMatching(/docs\/architecture\.md, Layers/)]);
    else expect(messages).toEqual([]);
  });
});
