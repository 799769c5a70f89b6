import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../../../service/test/support/docker';
import { binary, ROOT, startDaemon } from './tools';

export { freePort };

export const SLACK_PATHS = { critical: '/slack/critical', major: '/slack/major', minor: '/slack/minor' } as const;
/**
 * Where the stand-in receives the incident timeline's copy of every page: the real timeline receiver's own path
 * (incident/src/receiver/server.ts), so the incident tests can point Alertmanager at that receiver itself.
 */
export const TIMELINE_PATH = '/alertmanager';
export const HEARTBEAT_PATH = '/heartbeat';

/**
 * The project's real alertmanager.yml, with only what is deployment-specific changed: the webhook URL files point
 * at a local stand-in for Slack (written where `secretsDir` says), the templates are read from `templatesGlob`,
 * and the grouping timers are the given ones so a test can wait for them.
 */
export function testAlertmanagerConfig(options: {
  receiverUrl: string;
  secretsDir: string;
  templatesGlob: string;
  timers: { group_wait?: string; group_interval?: string };
}) {
  const config = parse(readFileSync(path.join(ROOT, 'alerting/alertmanager.yml'), 'utf8'));
  config.templates = [options.templatesGlob];
  Object.assign(config.route, options.timers);
  for (const route of config.route.routes) Object.assign(route, options.timers);
  const secrets: { file: string; content: string }[] = [];
  for (const receiver of config.receivers) {
    for (const slack of receiver.slack_configs ?? []) {
      const severity = path.basename(slack.api_url_file).replace(/^slack-|-url$/g, '') as keyof typeof SLACK_PATHS;
      const file = path.posix.join(options.secretsDir, path.basename(slack.api_url_file));
      secrets.push({ file, content: `${options.receiverUrl}${SLACK_PATHS[severity]}\n` });
      slack.api_url_file = file;
    }
    // The heartbeat goes to the stand-in's heartbeat path, the incident timeline's copy of each page to its own path.
    for (const webhook of receiver.webhook_configs ?? []) {
      webhook.url = `${options.receiverUrl}${new URL(webhook.url).pathname === '/heartbeat' ? HEARTBEAT_PATH : TIMELINE_PATH}`;
    }
  }
  return { yaml: stringify(config), secrets };
}

/** Gossip settings of a clustered Alertmanager (HA): where it listens, and the peers it joins (host:port). */
export interface ClusterOptions {
  listenPort: number;
  peers: string[];
  /** How long each instance waits per position in the cluster before it notifies itself (default 15s). */
  peerTimeout?: string;
}

/**
 * A real Alertmanager process (Debian's binary) with the project configuration, for the alerting tests.
 * Without `cluster` it runs alone (gossip off); with it, it joins the given peers on 127.0.0.1.
 */
export async function startAlertmanager(receiverUrl: string, options: { groupWait?: string; cluster?: ClusterOptions } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'alertmanager-'));
  mkdirSync(path.join(dir, 'secrets'));
  const { yaml, secrets } = testAlertmanagerConfig({
    receiverUrl,
    secretsDir: path.join(dir, 'secrets'),
    templatesGlob: path.join(ROOT, 'alerting/templates/*.tmpl'),
    timers: { group_wait: options.groupWait ?? '1s', group_interval: '1s' },
  });
  for (const secret of secrets) writeFileSync(secret.file, secret.content);
  writeFileSync(path.join(dir, 'alertmanager.yml'), yaml);

  const port = await freePort();
  const externalUrl = 'http://localhost:9093';
  const daemon = await startDaemon(
    binary('prometheus-alertmanager', 'alertmanager'),
    [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${externalUrl}`,
      ...(options.cluster
        ? [
            `--cluster.listen-address=127.0.0.1:${options.cluster.listenPort}`,
            ...options.cluster.peers.map((peer) => `--cluster.peer=${peer}`),
            `--cluster.peer-timeout=${options.cluster.peerTimeout ?? '15s'}`,
            '--cluster.gossip-interval=100ms',
            '--cluster.pushpull-interval=1s',
          ]
        : ['--cluster.listen-address=']),
    ],
    `http://127.0.0.1:${port}`,
  ).catch((error) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const { url } = daemon;

  return {
    url,
    /** host:port, for a Prometheus `alertmanagers` target. */
    address: `127.0.0.1:${port}`,
    externalUrl,
    log: daemon.log,
    async post(alerts: object[]) {
      const response = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      if (!response.ok) throw new Error(`alertmanager refused alerts: ${response.status} ${await response.text()}`);
    },
    async alerts(): Promise<{ labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }[]> {
      return (await fetch(`${url}/api/v2/alerts`)).json() as never;
    },
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
