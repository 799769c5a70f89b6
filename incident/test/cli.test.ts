import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { POPULAR_ROUTE, ROUTES, STATUS_ROUTE, WINDOWS } from '../../contract';
import { ALERTS } from '../../alerting/catalog';
import { createTestDatabase, dropTestDatabase } from '../../service/test/support/test-app';
import { runCli, type CliDeps } from '../src/cli';
import { kst } from '../src/format';
import type { ServiceLogLine } from '../src/logs';
import { createPrometheus } from '../src/prometheus';
import { notificationEvents } from '../src/receiver/server';
import { TEMPLATE_PATH, templateSections } from '../src/report';
import { probeDatabase } from '../src/database';
import { Client } from 'pg';
import { loadRoster } from '../src/roster';
import { createTimelineStore, type TimelineStore } from '../src/timeline/store';
import { openMetricsHistory, startPrometheusWithHistory, type StepState } from './support/prometheus';

// The recorded history (minutes before its end E): normal traffic; 40..30 min before E the popular ranking is slow
// (a drill: 1.5 s per request, cache bypassed, the query slow) and its alert fires 38..29; the last 4 minutes the
// status route is slow and failing, which the real catalog rule (its `for` dropped) turns into a firing alert now.
const END = new Date(Math.floor((Date.now() - 20_000) / 15_000) * 15_000);
const minutesBefore = (m: number) => new Date(END.getTime() - m * 60_000);
function stateAt(m: number): StepState {
  const popularSlow = m <= 40 && m > 30;
  const statusSlow = m <= 4;
  return {
    routes: {
      [POPULAR_ROUTE]: { rps: 10, seconds: popularSlow ? 1.5 : 0.02 },
      [STATUS_ROUTE]: { rps: 4, seconds: statusSlow ? 1.2 : 0.03, errorRatio: statusSlow ? 0.5 : 0 },
      [ROUTES.placeOrder.route]: { rps: 2, seconds: 0.04 },
    },
    cacheHitRatio: popularSlow ? 0 : 0.9,
    querySeconds: { popular_products: popularSlow ? 1.4 : 0.004, order_status_by_user: statusSlow ? 1.1 : 0.003 },
    poolInUse: popularSlow ? 9 : 2,
    poolMax: 10,
    firing: m <= 38 && m > 29 ? { OrdersPopularLatencyHigh: 'major' } : undefined,
  };
}

const statusAlert = ALERTS.find((a) => a.name === 'OrdersStatusLatencyHigh')!;
const rules = {
  groups: [
    {
      name: 'incident-test',
      rules: [
        {
          alert: statusAlert.name,
          // The history ends some 20 s before Prometheus first evaluates, so the rule's 30 s confirmation window
          // may hold a single sample there; the 2 m window judges the same condition over the recorded samples.
          expr: statusAlert.expr.replaceAll(`[${WINDOWS.confirm}]`, `[${WINDOWS.requests}]`),
          labels: { severity: statusAlert.severity, service: statusAlert.service },
          annotations: { summary: statusAlert.summary, runbook_url: `http://localhost:9998/${statusAlert.name}.html` },
        },
      ],
    },
  ],
};

const log = (m: number, fields: Partial<ServiceLogLine>): ServiceLogLine => ({
  timestamp: minutesBefore(m).toISOString(),
  level: 'warn',
  message: 'slow request',
  service: 'orders',
  ...fields,
});
const LOGS: ServiceLogLine[] = [
  log(35, { method: 'GET', route: POPULAR_ROUTE, status: 200, durationMs: 1500, requestId: 'req-popular-1', drill: ['popular_latency'] }),
  log(34, { level: 'error', message: 'request failed with a server error', requestId: 'req-popular-2' }),
  log(2, { level: 'error', message: 'request failed', method: 'GET', route: STATUS_ROUTE, status: 500, durationMs: 1200, requestId: 'req-status-1' }),
  log(1, { method: 'GET', route: STATUS_ROUTE, status: 200, durationMs: 1200, requestId: 'req-status-2' }),
];

const payload = (status: 'firing' | 'resolved', endsAt?: Date) => ({
  version: '4' as const,
  status,
  receiver: 'slack-major',
  alerts: [
    {
      status,
      labels: { alertname: 'OrdersPopularLatencyHigh', severity: 'major', service: 'orders', http_route: POPULAR_ROUTE },
      annotations: { summary: '인기 상품 조회 응답이 1초를 넘었습니다', runbook_url: 'http://localhost:9998/OrdersPopularLatencyHigh.html' },
      startsAt: minutesBefore(38).toISOString(),
      endsAt: (endsAt ?? new Date(0)).toISOString(),
      fingerprint: 'a1b2c3d4e5f60708',
    },
  ],
});

describe('incident CLI against a real Prometheus over a recorded history and the timeline in PostgreSQL', () => {
  let database: { name: string; url: string };
  let store: TimelineStore;
  let prometheus: Awaited<ReturnType<typeof startPrometheusWithHistory>>;
  let reportsDir: string;

  async function cli(args: string[], now: Date, logs: ServiceLogLine[] | Error = LOGS) {
    const out: string[] = [];
    const err: string[] = [];
    const deps: CliDeps = {
      store,
      prom: createPrometheus(prometheus.url),
      roster: () => loadRoster(),
      readLogs: async (_source, since) => {
        if (logs instanceof Error) throw logs;
        return logs.filter((l) => !since || Date.parse(l.timestamp) >= since.getTime());
      },
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      now: () => now,
      reportsDir,
      probeDatabase: () => probeDatabase(database.url),
    };
    const code = await runCli(args, deps);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  beforeAll(async () => {
    reportsDir = mkdtempSync(path.join(tmpdir(), 'incident-reports-'));
    database = await createTestDatabase();
    store = createTimelineStore(database.url);
    prometheus = await startPrometheusWithHistory(openMetricsHistory(END, 60 * 4, stateAt), rules);
    // The timeline of the popular incident, written as the receiver and the service write it.
    await store.record([{ step: 'action', action: 'drill_set', actor: 'gameday', occurredAt: minutesBefore(40), details: { queryLatencyMs: { popular: 1500 } } }]);
    await store.record(notificationEvents(payload('firing') as never, new Date(minutesBefore(38).getTime() + 12_000)));
    await store.record([
      { step: 'action', action: 'rate_limit_set', actor: 'primary', occurredAt: minutesBefore(35), details: { requestsPerSecond: 50 } },
      { step: 'action', action: 'drill_cleared', actor: 'primary', occurredAt: minutesBefore(30) },
    ]);
    await store.record(notificationEvents(payload('resolved', minutesBefore(29)) as never, minutesBefore(28)));
  }, 120_000);
  afterAll(async () => {
    await prometheus?.stop();
    await store?.close();
    if (database) await dropTestDatabase(database.name);
  });

  test('ack records who took it and names the people the roster convenes', async () => {
    const bad = await cli(['ack', '--as', 'nobody'], minutesBefore(37.5));
    expect(bad.code).toBe(2);
    const before = (await store.list()).length;
    const ok = await cli(['ack', '--as', 'primary'], minutesBefore(37.5));
    // The ack happened "now" in the test's clock; the incident it belongs to is the one open at that time.
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('담당자 1 (@oncall-primary)');
    const events = await store.list();
    expect(events.length).toBe(before + 1);
    expect(events.find((e) => e.step === 'acknowledged')).toMatchObject({ actor: 'primary' });
  });

  test('verify fails while the fault is on, with the evidence, and records the failed step', async () => {
    const result = await cli(['verify', '--minutes', '5'], minutesBefore(31));
    expect(result.code).toBe(1);
    expect(result.out).toContain('판정: 복구되지 않음');
    expect(result.out).toMatch(/\[실패\] 최근 5분 동안 발생한 서비스 알림: OrdersPopularLatencyHigh \(major\)/);
    expect(result.out).toMatch(new RegExp(`\\[실패\\] ${POPULAR_ROUTE} p95 \\(최근 5분\\): [12]\\.\\d{3}초`));
    expect(result.out).toMatch(/\[실패\] 최근 5분 에러 로그: 1줄/);
    const recorded = (await store.list()).filter((e) => e.step === 'verified');
    expect(recorded.at(-1)?.details).toMatchObject({ passed: false, minutes: 5 });
  });

  test('verify passes once the window holds only recovered traffic, and exits 0', async () => {
    const result = await cli(['verify', '--minutes', '10'], minutesBefore(6));
    expect(result.out).toContain('판정: 복구됨');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(new RegExp(`\\[통과\\] ${POPULAR_ROUTE} p95 \\(최근 10분\\): 0\\.0\\d\\d초`));
    // No route had answered a 5xx yet, so no 5xx series exists: the ratios are 0 %, judged, not "no data".
    expect(result.out).toContain('[통과] 서비스 전체 5xx 비율 (오류 예산 소진 속도 대신, 최근 10분): 0.0%');
    for (const route of [POPULAR_ROUTE, STATUS_ROUTE, ROUTES.placeOrder.route]) expect(result.out).toContain(`[통과] ${route} 5xx 비율 (최근 10분): 0.0%`);
    expect((await store.list()).filter((e) => e.step === 'verified').at(-1)?.details).toMatchObject({ passed: true });
  });

  test('verify cannot pass when the logs cannot be read', async () => {
    const result = await cli(['verify'], minutesBefore(6), new Error('docker: not found'));
    expect(result.code).toBe(1);
    expect(result.out).toContain('[확인 불가] 최근 10분 에러 로그');
  });

  test.each([['1'], ['61'], ['abc'], ['2.5']])('verify --minutes %s is refused and records nothing', async (minutes) => {
    const before = (await store.list()).length;
    const result = await cli(['verify', '--minutes', minutes], minutesBefore(6));
    expect(result.code).toBe(2);
    expect(result.err).toContain('--minutes는 2~60 사이의 정수여야 합니다');
    expect((await store.list()).length).toBe(before);
  });

  test('investigate measures the guide\'s check items for what is firing now, with links and the route\'s log lines', async () => {
    const prom = createPrometheus(prometheus.url);
    for (let i = 0; i < 100 && !(await prom.alerts()).some((a) => a.state === 'firing'); i++) await new Promise((r) => setTimeout(r, 200));
    const result = await cli(['investigate', '--logs', 'test'], new Date());
    expect(result.code).toBe(0);
    expect(result.out).toContain('[major] OrdersStatusLatencyHigh');
    expect(result.out).toContain(`영향받는 API: ${STATUS_ROUTE}`);
    expect(result.out).toMatch(new RegExp(`\\[이상\\] ${STATUS_ROUTE} p95 응답 시간 \\(최근 2m\\): [12]\\.\\d{3}초 \\(기준 1초\\)`));
    expect(result.out).toMatch(new RegExp(`\\[이상\\] ${STATUS_ROUTE} 5xx 비율: 50\\.0%`));
    expect(result.out).toMatch(/\[이상\] 쿼리 order_status_by_user p95 실행 시간 \(최근 5m\): [12]\.\d{3}초/);
    expect(result.out).toMatch(/\[정상\] 커넥션 풀 사용률: 20\.0%/);
    expect(result.out).toMatch(/접속 수 \(상태별\): 10 \/ 최대 200/);
    expect(result.out).toContain('/d/orders-incidents/orders-incidents?viewPanel=panel-21');
    // Only the affected route's lines, by request id; the popular route's older lines are not this incident's.
    expect(result.out).toContain('요청 req-status-1');
    expect(result.out).toContain('요청 req-status-2');
    expect(result.out).not.toContain('req-popular-1');
    expect(result.out).toContain('## 첫 번째 단서 (PostgreSQL 직접 점검)\n다른 세션의 잠금, 빠진 인덱스, 가득 찬 연결, 오래 도는 쿼리가 없습니다.');
  });

  test('investigate puts what PostgreSQL shows first: a table lock another session holds, with its pid and the command that ends it', async () => {
    const holder = new Client({ connectionString: database.url, application_name: 'migration' });
    holder.on('error', () => undefined);
    await holder.connect();
    try {
      const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
      const result = await cli(['investigate', '--logs', 'test'], new Date());
      expect(result.code).toBe(0);
      const clue = result.out.slice(result.out.indexOf('## 첫 번째 단서'));
      expect(clue).toMatch(new RegExp(`^## 첫 번째 단서 \\(PostgreSQL 직접 점검\\)\n- 다른 세션이 orders 잠금을 잡고 있습니다 \\(pid ${rows[0]!.pid}, 'migration'\\)`));
      expect(clue).toContain(`조치: SELECT pg_terminate_backend(${rows[0]!.pid});`);
      expect(result.out).toContain(`첫 번째 단서: 다른 세션이 orders 잠금을 잡고 있습니다 (pid ${rows[0]!.pid}, 'migration')`);
    } finally {
      await holder.end();
    }
  });

  test('report drafts the Korean report in the template\'s sections from the timeline and the measured window', async () => {
    const result = await cli(['report'], minutesBefore(5));
    expect(result.code).toBe(0);
    const [file] = readdirSync(reportsDir);
    const report = readFileSync(path.join(reportsDir, file!), 'utf8');

    expect([...report.matchAll(/^## (.+)$/gm)].map((m) => m[1])).toEqual(templateSections().map((s) => s.heading));
    expect(report).toContain(`| 발생 시각 (KST) | ${kst(minutesBefore(40))} (장애 주입 기록) |`);
    expect(report).toContain(`| 감지 시각 (KST) | ${kst(minutesBefore(38))} (Slack 전달 ${kst(new Date(minutesBefore(38).getTime() + 12_000))}) |`);
    expect(report).toContain('| 장애 수준 | Major');
    // Every part of the template is in the draft, in order (its ## sections and their ### parts), among the ones the
    // draft adds of its own.
    const headings = (text: string) => [...text.matchAll(/^###? .+$/gm)].map((m) => m[0]);
    const templateHeadings = headings(readFileSync(TEMPLATE_PATH, 'utf8'));
    expect(headings(report).filter((h) => templateHeadings.includes(h))).toEqual(templateHeadings);
    expect(report).toContain(`| 복구 시각 (KST) | ${kst(minutesBefore(29))}`);
    expect(report).toContain('| 장애 시간 | 11분 (감지까지 2분, 감지 후 복구까지 9분) |');
    expect(report).toContain('| 담당자 | 담당자 1 (@oncall-primary) |');
    // 11 minutes of popular traffic at 10 req/s, 10 of them over 1 s.
    const row = new RegExp(`\\| ${POPULAR_ROUTE.replace(/\//g, '\\/')} \\| (\\d+) \\| 0 \\(0\\.0%\\) \\| (\\d+) \\((\\d+\\.\\d)%\\) \\|`).exec(report);
    expect(row).not.toBeNull();
    expect(Number(row![1])).toBeGreaterThan(6600 * 0.97);
    expect(Number(row![1])).toBeLessThan(6600 * 1.03);
    expect(Number(row![3])).toBeGreaterThan(85);
    expect(Number(row![3])).toBeLessThan(95);
    expect(report).toContain(`&from=${minutesBefore(45).getTime()}&to=${minutesBefore(24).getTime()}`);
    expect(report).toContain('트래픽 제한 적용');
    // The drill that caused it is on the timeline as the fault, not among the temporary actions.
    const mitigations = report.slice(report.indexOf('### 임시 조치'), report.indexOf('### 완전 복구 (근본 조치)'));
    expect(report.indexOf('### 완전 복구 (근본 조치)')).toBeGreaterThan(report.indexOf('### 임시 조치'));
    expect(mitigations).toContain('트래픽 제한 적용');
    expect(mitigations).not.toContain('장애 훈련 주입');
    expect(report).toContain('장애 주입: 장애 훈련 주입');
    expect(report).toContain('[런북](http://localhost:9998/OrdersPopularLatencyHigh.html)');
    // The parts for people stay the template's prompts.
    expect(report).toContain(templateSections().find((s) => s.heading === '사후 회고')!.body);
    expect((await store.list()).some((e) => e.step === 'reported')).toBe(true);
  });

  test('a re-run of report never destroys what a person added: an untouched draft is replaced, an edited one kept and the new draft written beside it', async () => {
    const first = await cli(['report'], minutesBefore(5));
    expect(first.code).toBe(0);
    const [file] = readdirSync(reportsDir).filter((f) => !f.endsWith('.new.md'));
    const draft = path.join(reportsDir, file!);
    // Untouched: a second run replaces it, and no second file appears.
    expect((await cli(['report'], minutesBefore(4))).code).toBe(0);
    expect(readdirSync(reportsDir).filter((f) => f.endsWith('.new.md'))).toEqual([]);
    // A responder adds a line: the next run keeps the file byte for byte and says where the new draft went.
    const edited = readFileSync(draft, 'utf8').replace('## 사후 회고\n', '## 사후 회고\n\n담당자 1: 배포 직후 인덱스가 빠진 것을 확인함.\n');
    writeFileSync(draft, edited);
    const rerun = await cli(['report'], minutesBefore(3));
    expect(rerun.code).toBe(1);
    expect(readFileSync(draft, 'utf8')).toBe(edited);
    const beside = draft.replace(/\.md$/, '.new.md');
    expect(rerun.err).toContain(beside);
    expect(readFileSync(beside, 'utf8')).toContain('## 사후 회고');
    expect(readFileSync(beside, 'utf8')).not.toContain('인덱스가 빠진 것을 확인함');
    // Someone merges in the new draft too: the next run leaves both and writes a third.
    writeFileSync(beside, `${readFileSync(beside, 'utf8')}\n병합 중\n`);
    const third = await cli(['report'], minutesBefore(2));
    expect(third.code).toBe(1);
    expect(readFileSync(beside, 'utf8')).toContain('병합 중');
    expect(third.err).toContain(draft.replace(/\.md$/, '.new-2.md'));
  });

  test('an unknown command or option is a usage error', async () => {
    expect((await cli(['explode'], new Date())).code).toBe(2);
    expect((await cli(['verify', '--nope'], new Date())).code).toBe(2);
  });
});
