import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../alerting/test/support/alertmanager';
import { HAPROXY_DIR } from '../../haproxy/errors';

export interface RunningHaproxy {
  /** The public frontend, e.g. http://127.0.0.1:41234. */
  api: string;
  apiPort: number;
  /** `haproxy -v`'s major.minor, e.g. [2, 6]. */
  version: [number, number];
  stop(): void;
}

/**
 * A real HAProxy (the binary on PATH) running the project's deploy/haproxy/haproxy.cfg, copied with its error files.
 * Only the listening addresses change (127.0.0.1, free ports), and with `replica` the public backend's Docker DNS
 * template becomes that one server (its API port, health-checked on its ops port's /readyz), so a test never meets a
 * stack running on this machine. Resolves once the frontend accepts connections.
 */
export async function startHaproxy(replica?: { apiPort: number; opsPort: number }): Promise<RunningHaproxy> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'haproxy-'));
  cpSync(HAPROXY_DIR, dir, { recursive: true });
  const ports = { api: await freePort(), ops: await freePort(), metrics: await freePort() };
  let cfg = readFileSync(path.join(dir, 'haproxy.cfg'), 'utf8')
    .replace(/^  bind :3000$/m, `  bind 127.0.0.1:${ports.api}`)
    .replace(/^  bind :9464$/m, `  bind 127.0.0.1:${ports.ops}`)
    .replace(/^  bind :8405$/m, `  bind 127.0.0.1:${ports.metrics}`);
  if (cfg.match(/^  bind 127\.0\.0\.1:\d+$/gm)?.length !== 3) throw new Error('haproxy.cfg: its three bind lines changed; update startHaproxy');
  if (replica) {
    const template = /^  server-template orders 10 orders:3000$/m;
    if (!template.test(cfg)) throw new Error('haproxy.cfg: the public backend\'s server-template changed; update startHaproxy');
    cfg = cfg.replace(template, `  server replica 127.0.0.1:${replica.apiPort} check port ${replica.opsPort} inter 1s fall 2 rise 1`);
  }
  writeFileSync(path.join(dir, 'haproxy.cfg'), cfg);
  const [, major = '0', minor = '0'] = /version (\d+)\.(\d+)/.exec(spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout) ?? [];
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
  const api = `http://127.0.0.1:${ports.api}`;
  const stop = () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (await fetch(api).then(() => true, () => false)) return { api, apiPort: ports.api, version: [Number(major), Number(minor)], stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  stop();
  throw new Error('HAProxy did not listen');
}
