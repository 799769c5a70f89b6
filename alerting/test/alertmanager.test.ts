import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ALERTS, onsetLagSeconds, type AlertDefinition } from '../catalog';
import { README_FILE, readmeWithAlertTable } from '../readme-table';
import { conveneMentions, GENERATED_TEMPLATE_FILE, generatedTemplate, loadRoster } from '../slack-templates';
import { annotations } from '../rules-yaml';
import { HEARTBEAT_PATH, SLACK_PATHS, startAlertmanager } from './support/alertmanager';
import { binary, ROOT, run } from './support/tools';
import { startWebhookReceiver } from './support/webhook-receiver';

const CONFIG = 'alerting/alertmanager.yml';
const alert = (name: string) => ALERTS.find((a) => a.name === name)!;

function receiverFor(labels: Record<string, string>): string {
  const { output } = run(binary('amtool'), ['config', 'routes', 'test', `--config.file=${CONFIG}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
  return output.split('\n').filter((line) => line && !line.startsWith('Warning')).join('\n').trim();
}

describe('generated from the catalog and the roster', () => {
  test.each([
    [GENERATED_TEMPLATE_FILE, generatedTemplate],
    [README_FILE, readmeWithAlertTable],
  ])('%s is up to date (npm run generate)', (file, generate) => {
    expect({ file, upToDate: readFileSync(path.join(ROOT, file), 'utf8') === generate() }).toEqual({ file, upToDate: true });
  });

  test('the roster convenes only responders it lists, with Slack handles', () => {
    const roster = loadRoster();
    expect(conveneMentions(roster, 'critical').split(' ').length).toBe(roster.convene.critical.length);
    expect(conveneMentions(roster, 'major')).toMatch(/^@[\w.-]+( @[\w.-]+)*$/);
  });
});

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
    const lag = onsetLagSeconds(definition);
    const onset = new Date(startsAt.getTime() - lag * 1000 + 9 * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
    expect(attachment.text).toContain(`• 발생 시간: ${onset} KST (감지 ${lag}초 전으로 추정)`);
    expect(attachment.text).toContain('• 감지 시간: 2026-11-26 10:02:03 KST (알림 발생)');
    expect(attachment.text).toContain('• 장애 수준: Major (주요 기능 장애)');
    expect(attachment.pretext).toBe(`${conveneMentions(loadRoster(), 'major')} 주요 기능 장애입니다. 담당자는 확인해 주세요.`);
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
    expect(delivered.body.attachments[0].pretext).toContain(conveneMentions(loadRoster(), 'critical'));
    expect(delivered.body.attachments[0].color).toBe('danger');
  });

  test('times are KST from any offset: the same instant sent as Z and as +09:00 shows the same 발생/감지/복구 times', async () => {
    const definition = alert('OrdersCacheUnavailable');
    const asUtc = { ...firing(definition, { instance: 'utc' }), startsAt: '2026-11-30T10:42:12Z' };
    const asKst = { ...firing(definition, { instance: 'kst' }), startsAt: '2026-11-30T19:42:12+09:00' };
    await am.post([asUtc, asKst]);
    const lines = (text: string, label: string) => text.split('\n').filter((line) => line.startsWith(`• ${label}:`));
    const page = await waitFor(() => receiver.to(SLACK_PATHS.minor).map((d) => d.body.attachments[0].text as string).find((t) => lines(t, '감지 시간').length === 2), 'both alerts in one page');
    expect(lines(page, '감지 시간')).toEqual(['• 감지 시간: 2026-11-30 19:42:12 KST (알림 발생)', '• 감지 시간: 2026-11-30 19:42:12 KST (알림 발생)']);
    const lag = onsetLagSeconds(definition);
    const onset = new Date(Date.parse('2026-11-30T10:42:12Z') - lag * 1000 + 9 * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
    expect(lines(page, '발생 시간')).toEqual([0, 1].map(() => `• 발생 시간: ${onset} KST (감지 ${lag}초 전으로 추정)`));

    const ended = new Date(Math.floor((Date.now() - 1000) / 1000) * 1000);
    const endedKst = new Date(ended.getTime() + 9 * 3600_000).toISOString().slice(0, 19);
    await am.post([{ ...asUtc, endsAt: ended.toISOString() }, { ...asKst, endsAt: `${endedKst}+09:00` }]);
    const resolved = await waitFor(() => receiver.to(SLACK_PATHS.minor).map((d) => d.body.attachments[0].text as string).find((t) => lines(t, '복구 시간').length === 2), 'the [복구] of both');
    expect(lines(resolved, '복구 시간')).toEqual([0, 1].map(() => `• 복구 시간: ${endedKst.replace('T', ' ')} KST`));
  });

  test('no page without its closing message: every major and minor page of the service gets its [복구] even when criticals fired and resolved around it (the issue\'s example 4, for every pair)', async () => {
    receiver.deliveries.length = 0;
    const lower = ALERTS.filter((a) => a.service === 'orders' && a.severity !== 'critical');
    const criticals = ALERTS.filter((a) => a.service === 'orders' && a.severity === 'critical');
    const titled = (channel: string, prefix: string, name: string) =>
      receiver.to(channel).some((d) => d.body.attachments[0].title.startsWith(prefix) && d.body.attachments[0].title.includes(`· ${name}`));
    const pages = lower.map((a) => firing(a, { scenario: 'example-4' }));
    await am.post(pages);
    await waitFor(() => (lower.every((a) => titled(SLACK_PATHS[a.severity], '[장애 발생]', a.name)) ? true : undefined), 'the major and minor pages');
    const criticalPages = criticals.map((a) => firing(a, { scenario: 'example-4' }));
    await am.post(criticalPages);
    await waitFor(() => (criticals.every((a) => titled(SLACK_PATHS.critical, '[장애 발생]', a.name)) ? true : undefined), 'the critical pages');
    // The lower alerts resolve while the criticals fire, then the criticals resolve.
    const past = new Date(Date.now() - 1000).toISOString();
    await am.post(pages.map((p) => ({ ...p, endsAt: past })));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await am.post(criticalPages.map((p) => ({ ...p, endsAt: new Date(Date.now() - 500).toISOString() })));
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const unclosed = lower.filter((a) => !titled(SLACK_PATHS[a.severity], '[복구]', a.name)).map((a) => a.name);
    expect(unclosed).toEqual([]);
  });

  test('nothing in a label can speak in Slack: hostile values of every label a template prints arrive escaped, on one line, pinging nobody', async () => {
    const definition = alert('OrdersApiProbeFailing');
    // Slack's control constructs (mentions, links, entities), forged lines and Unicode line breaks, as label values.
    const hostile = [
      '<!here> @channel <http://x|런북 열기>',
      'api\n*[복구] 정상화됨*',
      '<!channel>',
      '<@U012AB3CD> <#C0123|general> <!subteam^S012>',
      '&lt;!here&gt; &amp; &',
      'a\r\n• 상태: 복구됨',
      'x\u2028*[복구]*\u2029y',
      '@here @everyone @oncall-primary',
      '<https://evil.example|대시보드>',
      '> 인용 | 파이프 `code` _기울임_',
    ];
    const pages = hostile.map((instance, i) => firing(definition, { instance, probe: String(i) }));
    await am.post(pages);
    const delivered = await waitFor(
      () => receiver.to(SLACK_PATHS.critical).find((d) => d.body.attachments[0].title.includes(definition.name) && (d.body.attachments[0].text as string).split('\n• 장애 수준').length > hostile.length),
      'one page with every hostile alert',
    );
    const { title, text, pretext } = delivered.body.attachments[0] as { title: string; text: string; pretext: string };
    // The only mention is the level's own, in the pretext; nothing from a value.
    for (const field of [title, text]) {
      expect({ field: field.slice(0, 60), controls: field.match(/<[!@#][^>]*>/g) ?? [], mentions: field.match(/@(here|channel|everyone|oncall-primary)\b/g) ?? [] }).toEqual({ field: field.slice(0, 60), controls: [], mentions: [] });
    }
    expect(pretext.match(/<!channel>/g)).toHaveLength(1);
    // Every line is one the template wrote: the summary, a bullet, or the blank line between alerts.
    const foreign = text.split('\n').filter((line) => line !== '' && !line.startsWith('• ') && !/^\*외부 프로브가 주문 API에 접속하지 못합니다: .*\*$/.test(line));
    expect(foreign).toEqual([]);
    expect(text).not.toMatch(/[\u2028\u2029\r]/);
    // The only links are the template's own four per alert, and each value is still readable, escaped.
    expect((text.match(/<[^>]*\|[^>]*>/g) ?? []).every((link) => /\|(런북|대시보드|쿼리|사일런스)>$/.test(link))).toBe(true);
    expect(text).toContain('*외부 프로브가 주문 API에 접속하지 못합니다: &lt;!here&gt; @\u200bchannel &lt;http://x|런북 열기&gt;*');
    expect(text).toContain('&amp;lt;!here&amp;gt; &amp;amp; &amp;');
  });

  test('Watchdog reaches the heartbeat receiver and no Slack channel', async () => {
    await am.post([firing(alert('Watchdog'))]);
    const beat = await waitFor(() => receiver.to(HEARTBEAT_PATH)[0], 'the heartbeat');
    expect(beat.body.alerts[0].labels.alertname).toBe('Watchdog');
    const slack = receiver.deliveries.filter((d) => d.path.startsWith('/slack/'));
    expect(slack.some((d) => JSON.stringify(d.body).includes('Watchdog'))).toBe(false);
  });
});
