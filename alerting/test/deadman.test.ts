import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort, HEARTBEAT_PATH, SLACK_PATHS, startAlertmanager } from './support/alertmanager';
import { ROOT } from './support/tools';
import { startWebhookReceiver } from './support/webhook-receiver';

/**
 * The dead man's switch (alerting/deadman/server.mjs) as compose runs it, with N (DEADMAN_SILENCE_SECONDS) in
 * seconds: heartbeats stop → one Critical page on the critical webhook within N + 1 s; they resume → its [복구].
 */
const SILENCE_SECONDS = 2;

async function startDeadman(slackUrl: string) {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'alerting/deadman/server.mjs')], {
    env: { ...process.env, PORT: String(port), DEADMAN_SILENCE_SECONDS: String(SILENCE_SECONDS), DEADMAN_CHECK_SECONDS: '0.1', SLACK_WEBHOOK_URL_CRITICAL: slackUrl, SLACK_WEBHOOK_URL: '' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; !(await fetch(`${url}/status`).then((r) => r.ok, () => false)); i++) {
    if (i > 100) throw new Error('the dead man\'s switch did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    status: async () => (await fetch(`${url}/status`)).json() as Promise<{ lastBeat: number | null; down: number | null; pages: number }>,
    beat: (body: unknown = { alerts: [{ status: 'firing', labels: { alertname: 'Watchdog' } }] }) =>
      fetch(`${url}${HEARTBEAT_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('dead man\'s switch', () => {
  let slack: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let deadman: Awaited<ReturnType<typeof startDeadman>>;
  beforeEach(async () => {
    slack = await startWebhookReceiver();
    deadman = await startDeadman(`${slack.url}${SLACK_PATHS.critical}`);
  });
  afterEach(async () => {
    await deadman.stop();
    await slack.close();
  });

  test('heartbeats stop → one Critical page within N + 1 s; they resume → [복구]; no page while they arrive', async () => {
    for (let i = 0; i < 6; i++) {
      expect((await deadman.beat()).status).toBe(200);
      await sleep(500);
    }
    expect(slack.deliveries).toEqual([]);
    const stoppedAt = Date.now();
    let page;
    while (!(page = slack.to(SLACK_PATHS.critical)[0])) {
      expect(Date.now() - stoppedAt).toBeLessThan((SILENCE_SECONDS + 1) * 1000);
      await sleep(50);
    }
    expect(page.body.channel).toBe('#orders-critical');
    expect(page.body.attachments[0].title).toBe('[장애 발생] Critical (감시 중단) · WatchdogHeartbeatMissing');
    expect(page.body.attachments[0].pretext).toContain('<!channel>');
    await sleep(1_000);
    expect(slack.deliveries).toHaveLength(1);

    await deadman.beat();
    while (slack.deliveries.length < 2) await sleep(50);
    expect(slack.deliveries[1]!.body.attachments[0].title).toBe('[복구] Critical (감시 중단) · WatchdogHeartbeatMissing');
    expect(slack.deliveries[1]!.body.attachments[0].color).toBe('good');
  });

  test('never a heartbeat since it started → it pages after N', async () => {
    while (!slack.to(SLACK_PATHS.critical)[0]) await sleep(50);
    expect(slack.to(SLACK_PATHS.critical)[0]!.body.attachments[0].text).toContain('하트비트 없음');
  });

  test('bad input gets a clear 4xx and changes nothing', async () => {
    const notJson = await fetch(`${deadman.url}${HEARTBEAT_PATH}`, { method: 'POST', body: 'not json' });
    expect(notJson.status).toBe(400);
    expect((await deadman.beat({ alerts: [{ status: 'firing', labels: { alertname: 'SomethingElse' } }] })).status).toBe(422);
    expect((await deadman.status()).lastBeat).toBeNull();
  });

  test('the real Alertmanager\'s Watchdog heartbeat (project configuration) is accepted as one', async () => {
    const am = await startAlertmanager(deadman.url);
    try {
      await am.post([{ labels: { alertname: 'Watchdog', severity: 'minor', service: 'monitoring' }, startsAt: new Date().toISOString() }]);
      for (let i = 0; (await deadman.status()).lastBeat === null; i++) {
        if (i > 100) throw new Error('no heartbeat from Alertmanager');
        await sleep(100);
      }
    } finally {
      await am.stop();
    }
  });
});

test('compose runs the dead man\'s switch as its own service and Alertmanager\'s heartbeat receiver posts to it', () => {
  const { readFileSync } = jest.requireActual('node:fs') as typeof import('node:fs');
  const { parse } = jest.requireActual('yaml') as typeof import('yaml');
  const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
  const config = parse(readFileSync(path.join(ROOT, 'alerting/alertmanager.yml'), 'utf8'));
  const url = new URL(config.receivers.find((r: { name: string }) => r.name === 'heartbeat').webhook_configs[0].url);
  const service = compose.services[url.hostname];
  expect(service.volumes).toContain('./alerting/deadman:/app:ro');
  expect(url.pathname).toBe(HEARTBEAT_PATH);
  expect(Number(service.environment.DEADMAN_SILENCE_SECONDS.replace(/\$\{\w+:-(\d+)\}/, '$1'))).toBeGreaterThan(60);
});
