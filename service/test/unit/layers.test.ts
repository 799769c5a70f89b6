import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

const SRC = path.resolve(__dirname, '../../src');

/** Every .ts file under a folder of service/src, read from disk. */
function sourcesUnder(folder: string): string[] {
  return readdirSync(path.join(SRC, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * What a source file imports, as TypeScript's own pre-processor reads it: static imports and re-exports (type-only
 * ones too), dynamic import() and require(). Relative specifiers are resolved to absolute paths.
 */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName }) =>
    fileName.startsWith('.') ? path.resolve(path.dirname(file), fileName) : fileName,
  );
}

const isPackage = (specifier: string) => !specifier.startsWith('/') && !specifier.startsWith('.');
const isBuiltin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier);
const inside = (folder: string) => (resolved: string) => resolved.startsWith(path.join(SRC, folder) + path.sep);

describe('layers of service/src', () => {
  test('lib/ imports nothing else in the service (nor the contract): only lib/, Node and packages', () => {
    const files = sourcesUnder('lib');
    expect(files.length).toBeGreaterThan(5);
    const leaks = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => !(isBuiltin(target) || isPackage(target) || inside('lib')(target)))
        .map((target) => `${path.relative(SRC, file)} → ${path.relative(SRC, target)}`),
    );
    expect(leaks).toEqual([]);
  });

  test('ops/ (the operators\' port) does not reach into the components', () => {
    const leaks = sourcesUnder('ops').flatMap((file) =>
      importsOf(file).filter(inside('components')).map((target) => `${path.relative(SRC, file)} → ${path.relative(SRC, target)}`),
    );
    expect(leaks).toEqual([]);
  });

  test('the import reader sees every form of import', () => {
    const file = path.join(SRC, 'lib', 'example.ts');
    const text = [
      "import type { Metrics } from '../telemetry/metrics';",
      "export { x } from '../ops/ops-app';",
      "const m = await import('../app');",
      "const r = require('../config');",
      "import Koa from 'koa';",
      "import { createHash } from 'node:crypto';",
    ].join('\n');
    expect(importsOf(file, text)).toEqual([
      path.join(SRC, 'telemetry/metrics'),
      path.join(SRC, 'ops/ops-app'),
      path.join(SRC, 'app'),
      path.join(SRC, 'config'),
      'koa',
      'node:crypto',
    ]);
  });
});
