import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../../alerting/test/support/alertmanager';
import { binary } from '../../../alerting/test/support/tools';

/**
 * A real Alertmanager (Debian's binary) whose only receiver is the incident timeline webhook, with fast timers, as
 * the project's receivers would carry it next to their Slack configs.
 */
export async function startTimelineAlertmanager(webhookUrl: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'incident-am-'));
  writeFileSync(
    path.join(dir, 'alertmanager.yml'),
    stringify({
      route: { receiver: 'timeline', group_by: ['alertname'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
      receivers: [{ name: 'timeline', webhook_configs: [{ url: webhookUrl, send_resolved: true }] }],
    }),
  );
  const port = await freePort();
  const child = spawn(
    binary('prometheus-alertmanager', 'alertmanager'),
    [`--config.file=${path.join(dir, 'alertmanager.yml')}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (chunk) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)) break;
    if (i > 300 || child.exitCode !== null) throw new Error(`alertmanager did not start: ${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    address: `127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
