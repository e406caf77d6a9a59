import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scanHostLogs } from '../testing/scanHostLogs';

describe('the scan of every test host log line (run after jest by npm test)', () => {
  const dirWith = (lines: readonly string[]): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'host-logs-'));
    writeFileSync(path.join(dir, 'host-1.log'), lines.join('\n'));
    return dir;
  };

  it('finds a fiscal code, a signing secret, a tenant key and a secrets key, naming the kind and the line', () => {
    const dir = dirWith([
      '{"message":"Executed ingest (Succeeded)"}',
      '{"message":"payload {\\"fiscalCode\\":\\"RSSMRA85T10A562S\\"}"}',
      'secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw and more',
      'key whtk_0123456789abcdefghijklmnopqrstuv',
      'SECRETS_KEY=dev:6Caa8Gqu9Z7UFtX5qLsFKu3oqOYoxJZU1FX9dGR4/Us=',
    ]);
    expect(scanHostLogs(dir).findings.map((f) => [f.line, f.kind])).toEqual([
      [2, 'a fiscal code'],
      [3, 'a webhook signing secret (whsec_...)'],
      [4, 'a tenant key (whtk_...)'],
      [5, 'a secrets key (<id>:<base64 of 32 bytes>)'],
    ]);
  });

  it('passes redacted lines and ids that only contain a code-shaped run', () => {
    const dir = dirWith(['{"message":"payload {\\"fiscalCode\\":\\"[fiscal code]\\"}"}', 'webhook 01HZZZZZZZABCDEF12GHJ345KMNP created', 'whsec_ (redacted)']);
    expect(scanHostLogs(dir)).toEqual({ files: 1, lines: 3, findings: [] });
  });

  it('finds a portal link or session token (docs/portal.md)', () => {
    const dir = dirWith([
      'link whpl_eyJ2IjoxLCJ0aWQiOiIwMUowWjdYM1YxRjZROFIyVDRXNlk4QTBDMSJ9.abc',
      'bearer whps_eyJ2IjoxLCJ0aWQiOiIwMUowWjdYM1YxRjZROFIyVDRXNlk4QTBDMSJ9.abc',
      'routes POST /api/portal/session',
    ]);
    expect(scanHostLogs(dir).findings.map((f) => f.line)).toEqual([1, 2]);
  });
});
