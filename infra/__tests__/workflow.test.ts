import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, parseDocument } from 'yaml';

/*
 * .github/workflows/ci.yml, checked offline: it parses, the test job runs what the README tells
 * developers to run, and the deploy job cannot start without a person asking and the secrets it needs.
 */

const ROOT = path.join(__dirname, '..', '..');
const WORKFLOW_PATH = path.join(ROOT, '.github', 'workflows', 'ci.yml');

type Step = { readonly name?: string; readonly uses?: string; readonly run?: string; readonly with?: Record<string, unknown> };
type Job = {
  readonly 'runs-on'?: string;
  readonly container?: string;
  readonly strategy?: { readonly matrix?: Record<string, unknown> };
  readonly needs?: string | string[];
  readonly if?: string;
  readonly steps: Step[];
  readonly env?: Record<string, string>;
};
type Workflow = { readonly on: Record<string, unknown>; readonly jobs: Record<string, Job> };

const parseWorkflow = (text: string): Workflow => {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('\n'));
  if (doc.warnings.length > 0) throw new Error(doc.warnings.map((w) => w.message).join('\n'));
  if (!isMap(doc.contents)) throw new Error('the workflow is not a mapping');
  return doc.toJS() as Workflow;
};

const workflow = parseWorkflow(readFileSync(WORKFLOW_PATH, 'utf8'));
const job = (name: string): Job => {
  const found = workflow.jobs[name];
  if (found === undefined) throw new Error(`no job ${name}`);
  return found;
};
const runs = (j: Job): string[] => j.steps.flatMap((s) => (s.run === undefined ? [] : [s.run.trim()]));
const uses = (j: Job): string[] => j.steps.flatMap((s) => (s.uses === undefined ? [] : [s.uses]));
const secretsIn = (text: string): string[] => [...new Set([...text.matchAll(/\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1] ?? ''))].sort();

/** Commands in the README's code blocks, without their comments. */
const readmeCommands = (): string[] => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)].flatMap((m) => (m[1] ?? '').split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()));
};

describe('.github/workflows/ci.yml', () => {
  it('is valid YAML that the parser reads without errors or warnings', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push', 'workflow_dispatch']);
    expect(Object.keys(workflow.jobs).sort()).toEqual(['deploy', 'test']);
  });

  it('catches a broken file', () => {
    expect(() => parseWorkflow('jobs:\n  test:\n    steps: [\n')).toThrow();
    expect(() => parseWorkflow('on: push\non: pull_request\n')).toThrow();
  });

  it('tests on Node 20 and 22 and runs npm ci, lint, typecheck and the README test command, in that order', () => {
    const test = job('test');
    const setupNode = test.steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(test.strategy?.matrix?.node).toEqual([20, 22]);
    expect(String(setupNode?.with?.['node-version'])).toBe('${{ matrix.node }}');
    expect(test.container).toBe('node:${{ matrix.node }}-bookworm');

    expect(readmeCommands()).toContain('npm test');
    const commands = runs(test);
    const order = ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test'].map((c) => commands.indexOf(c));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(['lint', 'typecheck', 'test'].filter((s) => scripts[s] === undefined)).toEqual([]);
  });

  it('packages the deployment with the Node major that infra/main.bicep runs', () => {
    const runtime = /runtime:\s*\{\s*name:\s*'node'\s*version:\s*'(\d+)'/.exec(readFileSync(path.join(ROOT, 'infra', 'main.bicep'), 'utf8'))?.[1];
    const setupNode = job('deploy').steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(runtime).toBeDefined();
    expect(String(setupNode?.with?.['node-version'])).toBe(runtime);
    expect(job('test').strategy?.matrix?.node).toContain(Number(runtime));
  });

  it('installs Debian chromium before the tests run', () => {
    const commands = runs(job('test'));
    const chromium = commands.findIndex((c) => /apt-get install .*\bchromium\b/.test(c));
    expect(chromium).toBeGreaterThanOrEqual(0);
    expect(chromium).toBeLessThan(commands.indexOf('npm test'));
  });

  it('keeps secrets out of the test job, so pull requests from forks run it', () => {
    expect(secretsIn(JSON.stringify(job('test')))).toEqual([]);
  });

  it('deploys only on a manual run, after the tests, in a protected environment', () => {
    const deploy = job('deploy');
    expect(deploy.needs).toBe('test');
    expect(deploy.if).toBe("github.event_name == 'workflow_dispatch' && inputs.deploy");
    expect((workflow.on.workflow_dispatch as { inputs: Record<string, { type: string; default: boolean }> }).inputs.deploy).toEqual(expect.objectContaining({ type: 'boolean', default: false }));
    expect((deploy as { environment?: string }).environment).toBe('production');
  });

  it('checks every secret and variable the deploy job uses before anything else', () => {
    const deploy = job('deploy');
    const check = deploy.steps[0]?.run ?? '';
    const names =
      check
        .match(/for name in ([A-Z0-9_ ]+);/)?.[1]
        ?.trim()
        .split(/\s+/) ?? [];
    const used = secretsIn(JSON.stringify(deploy));
    expect(used.length).toBeGreaterThan(0);
    // SECRETS_KEYS_PREVIOUS is empty outside a key rotation (docs/secrets.md): the only secret that may be unset.
    expect(used.filter((s) => !names.includes(s) && s !== 'SECRETS_KEYS_PREVIOUS')).toEqual([]);
    const vars = [...JSON.stringify(deploy).matchAll(/\$\{\{\s*vars\.([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1] ?? '');
    expect(vars.filter((v) => !names.includes(v))).toEqual([]);
    // Each checked name is an environment variable of the job, filled from a secret or a variable.
    expect(names.filter((n) => !/^\$\{\{\s*(secrets|vars)\./.test(deploy.env?.[n] ?? ''))).toEqual([]);
  });

  it('provisions infra/main.bicep, packages with infra/package.sh and deploys with azure/functions-action', () => {
    const deploy = job('deploy');
    const commands = runs(deploy).join('\n');
    expect(commands).toMatch(/az deployment group create[\s\S]*--template-file infra\/main\.bicep/);
    expect(commands).toContain('infra/package.sh app.zip');
    accessSync(path.join(ROOT, 'infra', 'package.sh'), constants.X_OK);
    expect(uses(deploy)).toEqual(expect.arrayContaining(['azure/login@v2', 'azure/functions-action@v1']));
    expect(deploy.steps.find((s) => s.uses === 'azure/functions-action@v1')?.with?.package).toBe('app.zip');
    // The Bicep parameters the workflow passes are declared there.
    const bicep = readFileSync(path.join(ROOT, 'infra', 'main.bicep'), 'utf8');
    const passed = [...commands.matchAll(/\b([a-zA-Z]+)="\$[A-Z_]+"/g)].map((m) => m[1] ?? '');
    expect(passed.sort()).toEqual(['adminApiKey', 'appName', 'ingestApiKey', 'secretsKey', 'secretsKeysPrevious', 'subjectHashKey']);
    expect(passed.filter((p) => !new RegExp(`^param ${p} `, 'm').test(bicep))).toEqual([]);
  });
});
