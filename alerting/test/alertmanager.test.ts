import { ALERTS, type AlertDefinition } from '../catalog';
import { annotations } from '../rules-yaml';
import { HEARTBEAT_PATH, SLACK_PATHS, startAlertmanager } from './support/alertmanager';
import { binary, run } from './support/tools';
import { startWebhookReceiver } from './support/webhook-receiver';

const CONFIG = 'alerting/alertmanager.yml';
const alert = (name: string) => ALERTS.find((a) => a.name === name)!;

function receiverFor(labels: Record<string, string>): string {
  const { output } = run(binary('amtool'), ['config', 'routes', 'test', `--config.file=${CONFIG}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
  return output.split('\n').filter((line) => line && !line.startsWith('Warning')).join('\n').trim();
}

test('amtool accepts the configuration and its templates', () => {
  const { code, output } = run(binary('amtool'), ['check-config', CONFIG]);
  expect(output).toContain('SUCCESS');
  expect(code).toBe(0);
});

describe('routing', () => {
  test.each(ALERTS.filter((a) => a.name !== 'Watchdog').map((a) => [a.name, a.severity, a.service]))(
    '%s (%s, service %s) goes to the Slack receiver of its severity',
    (name, severity, service) => {
      expect(receiverFor({ alertname: name, severity, service })).toBe(`slack-${severity}`);
    },
  );

  test('Watchdog goes only to the heartbeat receiver', () => {
    const watchdog = alert('Watchdog');
    expect(receiverFor({ alertname: 'Watchdog', severity: watchdog.severity, service: watchdog.service })).toBe('heartbeat');
  });
});

function firing(definition: AlertDefinition, labels: Record<string, string> = {}, startsAt = new Date()) {
  const render = (text: string) => text.replace(/\{\{ \$value[^}]*\}\}/g, '2.125s').replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, l: string) => labels[l] ?? '');
  return {
    labels: { alertname: definition.name, severity: definition.severity, service: definition.service, ...labels },
    annotations: Object.fromEntries(Object.entries(annotations(definition)).map(([k, v]) => [k, render(v)])),
    startsAt: startsAt.toISOString(),
    generatorURL: `http://localhost:9090/graph?g0.expr=${encodeURIComponent(definition.expr)}`,
  };
}

const waitFor = async <T>(probe: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('a real Alertmanager with the project configuration', () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let am: Awaited<ReturnType<typeof startAlertmanager>>;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    am = await startAlertmanager(receiver.url);
  });
  afterAll(async () => {
    await am?.stop();
    await receiver?.close();
  });

  test('a major page renders in Korean with start time (KST), symptom, impact, severity and every link; then resolves', async () => {
    const definition = alert('OrdersPopularLatencyHigh');
    const startsAt = new Date('2026-11-26T01:02:03Z');
    const page = firing(definition, {}, startsAt);
    await am.post([page]);

    const delivered = await waitFor(() => receiver.to(SLACK_PATHS.major)[0], 'the major page');
    const attachment = delivered.body.attachments[0];
    expect(delivered.body.channel).toBe('#orders-major');
    expect(attachment.title).toBe('[장애 발생] Major (주요 기능 장애) · OrdersPopularLatencyHigh');
    expect(attachment.color).toBe('warning');
    expect(attachment.text).toContain(`*${page.annotations.summary}*`);
    expect(attachment.text).toContain('• 발생 시간: 2026-11-26 10:02:03 KST');
    expect(attachment.text).toContain(`• 증상: ${page.annotations.description}`);
    expect(attachment.text).toContain(`• 영향 범위: ${page.annotations.impact}`);
    expect(attachment.text).toContain(`<${page.annotations.runbook_url}|런북>`);
    expect(attachment.text).toContain(`<${page.annotations.dashboard_url}|대시보드>`);
    expect(attachment.text).toContain(`<${page.generatorURL}|쿼리>`);
    expect(attachment.text).toMatch(/<http:\/\/localhost:9093\/#\/silences\/new\?filter=%7B.*alertname%3D%22OrdersPopularLatencyHigh%22.*%7D\|사일런스>/);
    expect(attachment.actions.map((a: { text: string; url: string }) => [a.text, a.url])).toEqual([
      ['런북', page.annotations.runbook_url],
      ['대시보드', page.annotations.dashboard_url],
      [expect.any(String), expect.stringContaining('/#/silences/new?filter=')],
    ]);
    expect(receiver.to(SLACK_PATHS.critical)).toHaveLength(0);
    expect(receiver.to(SLACK_PATHS.minor)).toHaveLength(0);

    await am.post([{ ...page, endsAt: new Date(Date.now() - 1000).toISOString() }]);
    const resolved = await waitFor(() => receiver.to(SLACK_PATHS.major).find((d) => d.body.attachments[0].title.startsWith('[복구]')), 'the resolved message');
    expect(resolved.body.attachments[0].color).toBe('good');
    expect(resolved.body.attachments[0].text).toContain('• 상태: 복구됨');
    expect(resolved.body.attachments[0].text).toMatch(/• 복구 시간: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST/);
  });

  test('a critical page goes to the critical channel and calls everyone', async () => {
    await am.post([firing(alert('OrdersServiceDown'), { job: 'orders' })]);
    const delivered = await waitFor(() => receiver.to(SLACK_PATHS.critical)[0], 'the critical page');
    expect(delivered.body.channel).toBe('#orders-critical');
    expect(delivered.body.attachments[0].pretext).toContain('<!channel>');
    expect(delivered.body.attachments[0].color).toBe('danger');
  });

  test('inhibition: while a critical alert fires, major and minor alerts of the same service are not paged; other services still are', async () => {
    receiver.deliveries.length = 0;
    await am.post([firing(alert('OrdersHighErrorRate'))]);
    await waitFor(() => receiver.to(SLACK_PATHS.critical).find((d) => d.body.attachments[0].title.includes('OrdersHighErrorRate')), 'the critical page');

    await am.post([
      firing(alert('OrdersStatusLatencyHigh')),
      firing(alert('OrdersCacheUnavailable')),
      firing(alert('MonitoringTargetDown'), { job: 'redis-exporter', instance: 'redis-exporter:9121' }),
    ]);
    await waitFor(() => receiver.to(SLACK_PATHS.minor).find((d) => d.body.attachments[0].title.includes('MonitoringTargetDown')), 'the minor page of the monitoring service');
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    const titles = receiver.deliveries.map((d) => d.body?.attachments?.[0]?.title ?? '');
    expect(titles.some((t) => t.includes('OrdersStatusLatencyHigh'))).toBe(false);
    expect(titles.some((t) => t.includes('OrdersCacheUnavailable'))).toBe(false);
    const states = Object.fromEntries((await am.alerts()).map((a) => [a.labels.alertname, a.status]));
    expect(states.OrdersStatusLatencyHigh).toMatchObject({ state: 'suppressed', inhibitedBy: [expect.any(String)] });
    expect(states.OrdersCacheUnavailable).toMatchObject({ state: 'suppressed', inhibitedBy: [expect.any(String)] });
    expect(states.MonitoringTargetDown).toMatchObject({ state: 'active', inhibitedBy: [] });
  });

  test('Watchdog reaches the heartbeat receiver and no Slack channel', async () => {
    await am.post([firing(alert('Watchdog'))]);
    const beat = await waitFor(() => receiver.to(HEARTBEAT_PATH)[0], 'the heartbeat');
    expect(beat.body.alerts[0].labels.alertname).toBe('Watchdog');
    const slack = receiver.deliveries.filter((d) => d.path.startsWith('/slack/'));
    expect(slack.some((d) => JSON.stringify(d.body).includes('Watchdog'))).toBe(false);
  });
});
