import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest } from '../lib/load';

export const ROOT = path.resolve(__dirname, '../..');

export interface Child {
  name: string;
  proc: ChildProcess;
  logFile: string;
  exited: boolean;
}

const children = new Set<Child>();

/** Whether `taskset` can pin here (util-linux, and a cpuset that allows the cores). */
export function canPin(cores: number[]): boolean {
  try {
    execFileSync('taskset', ['-c', cores.join(','), 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pins this process, all its threads, to one core (autocannon runs here). */
export function pinSelf(core: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `node --import tsx <script>` from the repository root, pinned to `core` when pinning works, with its
 * stdout and stderr going to a file (a file write, as a log shipper would read it; never through this process).
 */
export function startNode(
  name: string,
  script: string,
  env: Record<string, string>,
  options: { core?: number; logDir: string; nodeArgs?: string[] },
): Child {
  const logFile = path.join(options.logDir, `${name}.log`);
  const out = openSync(logFile, 'w');
  const nodeArgs = [...(options.nodeArgs ?? []), '--import', 'tsx', script];
  const [command, args] =
    options.core === undefined
      ? [process.execPath, nodeArgs]
      : ['taskset', ['-c', String(options.core), process.execPath, ...nodeArgs]];
  const proc = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const child: Child = { name, proc, logFile, exited: false };
  children.add(child);
  proc.once('exit', () => {
    child.exited = true;
    children.delete(child);
  });
  return child;
}

export function logTail(child: Child, lines = 20): string {
  try {
    return readFileSync(child.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits until `url` answers 200, failing early with the log tail if the process exits. */
export async function waitUntilUp(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exited) throw new Error(`${child.name} exited during start-up:\n${logTail(child)}`);
    try {
      const res = await httpRequest(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${child.name} not up at ${url} after ${timeoutMs} ms:\n${logTail(child)}`);
    await sleep(200);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stop(child: Child, graceMs = 5_000): Promise<void> {
  if (child.exited) return;
  const exited = new Promise<void>((resolve) => child.proc.once('exit', () => resolve()));
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stop(child)));
}

/** For a signal handler: kill what is left at once. */
export function killAllNow(): void {
  for (const child of children) child.proc.kill('SIGKILL');
}
