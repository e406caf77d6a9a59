import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/*
 * What a deployment uploads: the runtime dependencies in package.json are exactly the packages src/
 * imports (the local host's own, such as cron-parser and tinyglobby, are dev dependencies, so
 * `npm ci --omit=dev` in infra/package.sh and a pruned `func azure functionapp publish` leave them
 * out), and .funcignore keeps tests, the bench, the local host and the sources out of the upload.
 */

const root = path.join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === '__tests__' ? [] : sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`); undefined for relative paths and built-ins. */
const packageOf = (specifier: string): string | undefined => {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0] ?? '')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
};

/** Every package imported (statically, by require or by import()) by the files, type-only imports included. */
const importedPackages = (files: readonly string[]): string[] => {
  const found = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|^import\s+)'([^']+)'/gm)) {
      const name = packageOf(m[1] ?? '');
      if (name !== undefined) found.add(name);
    }
  }
  return [...found].sort();
};

describe('the deploy package', () => {
  const srcImports = importedPackages(sourceFiles(path.join(root, 'src')));

  it('declares as runtime dependencies exactly the packages src/ imports', () => {
    // Type-only packages would not need to ship, but every one src/ names today is also used at run time.
    expect(Object.keys(pkg.dependencies).sort()).toEqual(srcImports);
  });

  it('keeps what only the local host, the CLI and the bench use among the dev dependencies', () => {
    const toolImports = importedPackages(['local-host', 'cli', 'bench'].flatMap((d) => sourceFiles(path.join(root, d))));
    const toolOnly = toolImports.filter((name) => !srcImports.includes(name));
    expect(toolOnly).toEqual(expect.arrayContaining(['cron-parser', 'tinyglobby']));
    expect(toolOnly.filter((name) => pkg.dependencies[name] !== undefined)).toEqual([]);
  });

  it('ships no test code: src/ outside __tests__ imports nothing from a __tests__ folder (the build, .funcignore and package.sh leave those out)', () => {
    const testImport = /(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*)'[^']*\/__tests__\//;
    const offenders = sourceFiles(path.join(root, 'src')).filter((file) => testImport.test(readFileSync(file, 'utf8')));
    expect(offenders.map((file) => path.relative(root, file))).toEqual([]);
  });

  it('detects a runtime dependency that src/ does not import', () => {
    expect(importedPackages(sourceFiles(path.join(root, 'local-host')))).toContain('tinyglobby');
    expect(srcImports).not.toContain('tinyglobby');
  });

  describe('.funcignore', () => {
    const entries = readFileSync(path.join(root, '.funcignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));

    it('leaves out tests, the bench, the local host, the integration agent, sources and local settings', () => {
      expect(entries).toEqual(
        expect.arrayContaining(['**/__tests__', 'bench', 'local-host', '__integrations__', 'src', 'infra', 'dist/local-host', 'dist/bench', 'dist/cli', 'local.settings.json', '__azurite__']),
      );
    });

    it('keeps what the Functions host needs: host.json, package.json, dist/src and node_modules', () => {
      const needed = ['host.json', 'package.json', 'dist', 'dist/src', 'node_modules'];
      expect(entries.filter((e) => needed.some((n) => e === n || n.startsWith(`${e}/`)))).toEqual([]);
    });
  });
});
