import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/*
 * After `jest`: every line that any test host (and its Azurite) wrote, scanned for what must never be
 * logged: fiscal codes, signing secrets, tenant keys and the secrets key (issue 14). spawnHost.ts
 * keeps the lines under TEST_HOST_LOG_DIR; this exits 1 naming the file and the kind, never the value.
 */

/** A whole token shaped like an Italian fiscal code (word-bounded: a ULID fragment is not one). */
const FISCAL_CODE = /\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b/;
const FORBIDDEN: readonly { readonly kind: string; readonly pattern: RegExp }[] = [
  { kind: 'a fiscal code', pattern: FISCAL_CODE },
  { kind: 'a webhook signing secret (whsec_...)', pattern: /whsec_[A-Za-z0-9+/]{24,}/ },
  { kind: 'a tenant key (whtk_...)', pattern: /whtk_[A-Za-z0-9_-]{24,}/ },
  { kind: 'a portal link or session token (whpl_..., whps_...)', pattern: /wh(pl|ps)_[A-Za-z0-9_-]{24,}/ },
  { kind: 'a secrets key (<id>:<base64 of 32 bytes>)', pattern: /\b[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=/ },
];

export type Finding = { readonly file: string; readonly line: number; readonly kind: string };

/** The findings in one folder of host logs. */
export const scanHostLogs = (dir: string): { files: number; lines: number; findings: Finding[] } => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
  const findings: Finding[] = [];
  let lines = 0;
  for (const file of files) {
    const text = readFileSync(path.join(dir, file), 'utf8').split('\n');
    lines += text.length;
    text.forEach((line, i) => {
      for (const { kind, pattern } of FORBIDDEN) if (pattern.test(line)) findings.push({ file, line: i + 1, kind });
    });
  }
  return { files: files.length, lines, findings };
};

if (require.main === module) {
  const dir = process.argv[2] ?? path.join('test-output', 'host-logs');
  const { files, lines, findings } = scanHostLogs(dir);
  for (const f of findings.slice(0, 50)) console.error(`${path.join(dir, f.file)}:${f.line}: ${f.kind}`);
  console.log(`host log scan: ${files} files, ${lines} lines, ${findings.length} lines with a fiscal code, secret or key`);
  if (files === 0 || findings.length > 0) process.exit(1);
}
