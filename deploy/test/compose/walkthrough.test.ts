/**
 * The README's "Your first page in 10 minutes", run as written: each `<!-- walkthrough step N -->` block of README.md
 * (read at test time by walkthroughSteps(), so the text and the test cannot drift) in a copy of the repository, as a
 * newcomer would, against the whole compose stack. Where only Compose 1.29 is installed, `docker compose` is the
 * `docker-compose` command (a shell function in front of the steps); on this machine Grafana is a placeholder image
 * that answers its healthcheck only (.ci/images/compose/grafana-placeholder.sh), said again in the output below.
 *
 * Needs the host ports of the stack free, like compose.test.ts. Run with `npm run test:compose`.
 */
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { walkthroughSteps } from '../../../runbooks/runbooks';

const ROOT = path.resolve(__dirname, '../../..');
const PROJECT = `orders-walkthrough-${process.pid}`;
const exec = promisify(execFile);

/** `docker compose` where the Compose v2 plugin is missing: the same subcommands through docker-compose 1.29. */
const PRELUDE = `set -o pipefail
if ! command docker compose version >/dev/null 2>&1; then
  docker() { if [ "$1" = compose ]; then shift; command docker-compose "$@"; else command docker "$@"; fi; }
fi
`;

let copy: string;
const steps = new Map(walkthroughSteps().map((s) => [s.step, s.script]));

/** Runs one README step in the copy; resolves with its output whatever its exit status (the step's own `echo` says it). */
async function step(n: number, timeoutMs: number): Promise<string> {
  const script = steps.get(n);
  if (script === undefined) throw new Error(`README.md has no walkthrough step ${n}`);
  try {
    const { stdout, stderr } = await exec('bash', ['-c', PRELUDE + script], {
      cwd: copy,
      env: { ...process.env, COMPOSE_PROJECT_NAME: PROJECT },
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`walkthrough step ${n} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

const down = () =>
  spawnSync('docker-compose', ['-p', PROJECT, '--profile', 'seed', 'down', '-v', '--remove-orphans'], { cwd: copy, encoding: 'utf8' });

describe("README: your first page in 10 minutes, run as written", () => {
  beforeAll(() => {
    // Tracked files only, as a fresh clone has them; node_modules shared so step 5 needs no npm ci.
    copy = mkdtempSync(path.join(tmpdir(), 'orders-walkthrough-'));
    const files = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
    for (const file of files) cpSync(path.join(ROOT, file), path.join(copy, file), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    down();
    console.log('walkthrough: Grafana on this machine is a placeholder image (healthcheck only); no Grafana server runs here.');
  });

  afterAll(() => {
    if (copy) {
      down();
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('1. .env with a token and drills on, before the first up', async () => {
    const output = await step(1, 30_000);
    expect(output).toContain('ADMIN_TOKEN=…(set)');
    expect(output).toContain('FAULTS_ENABLED=true');
  });

  test('2. the stack starts and the service becomes ready', async () => {
    expect(await step(2, 900_000)).toContain('ready');
  }, 900_000);

  test('3. the demo data loads', async () => {
    const output = await step(3, 300_000);
    expect(output).not.toMatch(/refus|error/i);
    const products = (await (await fetch('http://127.0.0.1:3000/api/products?limit=1')).json()) as { products: unknown[] };
    expect(products.products).toHaveLength(1);
  }, 300_000);

  test('4. the Grafana admin password can be read', async () => {
    expect((await step(4, 30_000)).trim().length).toBeGreaterThanOrEqual(16);
  });

  test('5. the incident load test breaches the 1 s line on purpose and exits 1', async () => {
    expect(await step(5, 600_000)).toMatch(/^exit 1$/m);
  }, 600_000);

  test('6. the OrdersPopularLatencyHigh page is in alert-log', async () => {
    expect(Number((await step(6, 30_000)).trim().split('\n').at(-1))).toBeGreaterThanOrEqual(1);
  });

  test('7. the runbook the page links renders', async () => {
    expect(await step(7, 30_000)).toContain('OrdersPopularLatencyHigh');
  });

  test('8. the drill is cleared', async () => {
    expect(await step(8, 30_000)).toMatch(/"active":\[\]/);
  });
});
