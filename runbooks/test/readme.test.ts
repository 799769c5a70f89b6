import { spawnSync } from 'node:child_process';
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
