import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { envSchema } from '../../service/src/config';
import { walkthroughSteps } from '../runbooks';
import { placeholdersIn } from './support/quotes';

// Running the walkthrough needs the whole compose stack: the compose tests do that with walkthroughSteps(). Here, what
// can be checked without it: the steps are there, in order, and each is a shell script that parses and needs no editing.
describe('README: your first page in 10 minutes', () => {
  test('has its steps, numbered from 1, each a bash block', () => {
    expect(walkthroughSteps().map((s) => s.step)).toEqual(Array.from({ length: walkthroughSteps().length }, (_, i) => i + 1));
    expect(walkthroughSteps().length).toBeGreaterThanOrEqual(6);
  });

  test.each(walkthroughSteps().map((s) => [s.step, s.script]))('step %i parses and carries no placeholder', (_, script) => {
    expect(placeholdersIn(script)).toEqual([]);
    expect(spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' }).stderr).toBe('');
  });

  test('a marker without its block is an error, not a skipped step', () => {
    expect(() => walkthroughSteps('<!-- walkthrough step 1 -->\ntext\n')).toThrow(/not followed/);
    expect(() => walkthroughSteps('<!-- walkthrough step 2 -->\n```bash\ntrue\n```\n')).toThrow(/step 2 where 1/);
  });
});

// The configuration table is the one place a newcomer learns what compose passes: checked against the service's own
// schema (every variable it reads, no other) and against docker-compose.yml's service environment.
describe('README: configuration table', () => {
  const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| [^|]+ \| ([^|]+) \|/gm)].map((m) => ({ name: m[1]!, compose: m[2]!.trim() }));
  const compose = parse(readFileSync(path.join(__dirname, '../../docker-compose.yml'), 'utf8'), { merge: true });
  const passed = new Set(Object.keys(compose.services.orders.environment));

  test('lists every variable the service reads, and only those', () => {
    expect(rows.map((r) => r.name).sort()).toEqual(Object.keys(envSchema.shape).sort());
  });

  test.each(rows.map((r) => [r.name, r.compose]))('%s: the compose column (%s) says what docker-compose.yml passes', (name, column) => {
    expect(column !== '**no**').toBe(passed.has(name));
  });
});
