import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');

const PACKAGE_OF: Record<string, string> = {
  promtool: 'prometheus',
  prometheus: 'prometheus',
  amtool: 'prometheus-alertmanager',
  'prometheus-alertmanager': 'prometheus-alertmanager',
  alertmanager: 'prometheus-alertmanager',
};

/** The path of a monitoring binary, or an error that says which package provides it. */
export function binary(...names: string[]): string {
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  const name = names[0]!;
  throw new Error(`${name} is not installed: install Debian's \`${PACKAGE_OF[name] ?? name}\` package (apt-get install ${PACKAGE_OF[name] ?? name}) or put ${name} on PATH`);
}

export function run(command: string, args: string[], cwd = ROOT) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * A long-running monitoring binary (Prometheus, Alertmanager) as a child process: `command` run with `args`, stdout
 * ignored, stderr collected. Resolves once `GET <url>/-/ready` answers 2xx (polled every 100 ms); if the process
 * exits first or is not ready within `readyTimeoutMs` (default 30 000 ms), it is killed and the error carries the
 * last 2 000 characters of its stderr. `log()` is everything it wrote to stderr so far; `stop()` sends SIGTERM and
 * resolves when it has exited.
 */
export async function startDaemon(command: string, args: string[], url: string, readyTimeoutMs = 30_000) {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk) => (log += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await fetch(`${url}/-/ready`).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`${path.basename(command)} did not start (${url}/-/ready):\n${log.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, log: () => log, stop };
}
