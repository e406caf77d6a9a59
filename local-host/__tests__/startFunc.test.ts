import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureLocalSettings } from '../startFunc';

/*
 * `npm run start:func` on a machine without Core Tools (ours): it copies the example settings when
 * local.settings.json is missing, says so, and then says that `func` is missing, exiting 1.
 */

const SCRIPT = path.resolve(__dirname, '..', '..', 'dist', 'local-host', 'startFunc.js');
const EXAMPLE = JSON.stringify({ IsEncrypted: false, Values: { AzureWebJobsStorage: 'DefaultEndpointsProtocol=http;AccountName=x;AccountKey=eA==;TableEndpoint=http://127.0.0.1:1/x;' } });

describe('npm run start:func', () => {
  const dirs: string[] = [];
  const appDir = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'start-func-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'local.settings.json.example'), EXAMPLE);
    return dir;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('copies the example when local.settings.json is missing, and leaves an existing one alone', () => {
    const dir = appDir();
    expect(ensureLocalSettings(dir)).toMatchObject({ copied: true, message: expect.stringContaining('copied local.settings.json.example') });
    expect(readFileSync(path.join(dir, 'local.settings.json'), 'utf8')).toBe(EXAMPLE);
    writeFileSync(path.join(dir, 'local.settings.json'), '{"Values":{}}');
    expect(ensureLocalSettings(dir).copied).toBe(false);
    expect(readFileSync(path.join(dir, 'local.settings.json'), 'utf8')).toBe('{"Values":{}}');
  });

  it('says Core Tools are missing and exits 1 when func is not on PATH', async () => {
    const dir = appDir();
    const child = spawn(process.execPath, [SCRIPT], { cwd: dir, env: { PATH: path.dirname(process.execPath) === '/' ? '' : '/nonexistent' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, copied: existsSync(path.join(dir, 'local.settings.json')) }).toEqual({ code: 1, copied: true });
    expect(output).toContain('local.settings.json not found: copied local.settings.json.example');
    expect(output).toContain('Azure Functions Core Tools (`func`) are not installed or not on PATH');
  });
});
