import { HOT_QUERIES, POPULAR_ROUTE, ROUTE_TEMPLATES, STATUS_ROUTE, THRESHOLDS, WINDOWS, panelUrl, type PanelRef } from '../../contract';
import { catalogAlert } from './timeline/catalog';
import type { DatabaseFinding } from './database';
import { duration, grafanaRange, latency, percent } from './format';
import { formatLogLine, problemLines, type ServiceLogLine } from './logs';
import type { ActiveAlert, Prometheus } from './prometheus';
import { NAMED_ROUTES, Q } from './queries';

/** `ok`: within its line; `bad`: past it; `info`: no line to judge by; `unknown`: not measured (no data). */
export type Verdict = 'ok' | 'bad' | 'info' | 'unknown';

export interface CheckItem {
  title: string;
  /** The measured value, formatted for people, with its line when it has one. */
  value: string;
  verdict: Verdict;
  links: string[];
}

export interface Section {
  title: string;
  items: CheckItem[];
}

export interface Investigation {
  at: Date;
  alerts: ActiveAlert[];
  routes: string[];
  /** What PostgreSQL itself shows (database.ts), most specific first; `error` when it could not be asked. */
  database?: { findings: DatabaseFinding[]; error?: string };
  sections: Section[];
  logLines: ServiceLogLine[];
  logSource?: string;
}

const ROUTE_PANELS: Record<string, PanelRef> = {
  [POPULAR_ROUTE]: { dashboard: 'incidents', panel: 'popularLatency' },
  [STATUS_ROUTE]: { dashboard: 'incidents', panel: 'statusLatency' },
};
const ROUTE_QUERIES: Record<string, readonly string[]> = {
  [POPULAR_ROUTE]: HOT_QUERIES.popular,
  [STATUS_ROUTE]: HOT_QUERIES.status,
};

/**
 * The routes an alert is about: its `http_route` label, else the routes its catalog expression selects, else the
 * guide's two named routes (a service-wide alert touches them too).
 */
export function routesOfAlert(alert: { labels: Record<string, string> }): string[] {
  if (alert.labels.http_route) return [alert.labels.http_route];
  const expr = catalogAlert(alert.labels.alertname ?? '')?.expr ?? '';
  const named = ROUTE_TEMPLATES.filter((route) => expr.includes(`"${route}"`));
  return named.length > 0 ? named : [...NAMED_ROUTES];
}

/**
 * The check item of one of the service's own 0/1 connection gauges (`db_up`, `redis_connected`): 1 is connected
 * (`ok`), any other value is not (`bad`), no sample is `unknown`.
 */
function connectionItem(title: string, up: number | undefined, links: string[]): CheckItem {
  return {
    title,
    value: up === undefined ? '측정값 없음' : up === 1 ? '연결됨' : '연결 안 됨',
    verdict: up === undefined ? 'unknown' : up === 1 ? 'ok' : 'bad',
    links,
  };
}

const isServiceAlert = (a: ActiveAlert) => a.state === 'firing' && a.labels.service === 'orders' && a.labels.alertname !== 'Watchdog';

/**
 * 장애 조사: for what is firing now, the guide's check items measured from Prometheus, and the problem log lines of the
 * affected routes. `logs` are the service's JSON log lines already read (see logs.ts); omit them to skip the log part.
 */
export async function investigate(
  prom: Prometheus,
  options: { now?: Date; logs?: ServiceLogLine[]; logSource?: string; database?: Investigation['database'] } = {},
): Promise<Investigation> {
  const at = options.now ?? new Date();
  const alerts = (await prom.alerts()).filter(isServiceAlert);
  const routes = [...new Set(alerts.flatMap(routesOfAlert))];
  const judged = routes.length > 0 ? routes : [...NAMED_ROUTES];
  const range = grafanaRange(new Date(at.getTime() - 60 * 60_000), at);
  const grafana = (ref: PanelRef) => panelUrl(ref) + range;
  const graph = (expr: string) => prom.graphUrl(expr);
  const value = async (expr: string) => prom.scalar(expr, at);

  const sections: Section[] = [];

  const routeItems: CheckItem[] = [];
  for (const route of judged) {
    const p95Expr = Q.routeP95(route, WINDOWS.requests);
    const p95 = await value(p95Expr);
    const errorsExpr = Q.routeErrorRatio(route, WINDOWS.requests);
    const errors = await value(errorsExpr);
    const overExpr = Q.routeOverLineRatio(route, WINDOWS.requests);
    const over = await value(overExpr);
    const panel = ROUTE_PANELS[route] ?? { dashboard: 'overview', panel: 'latency' };
    routeItems.push(
      {
        title: `${route} p${THRESHOLDS.latencyQuantile * 100} 응답 시간 (최근 ${WINDOWS.requests})`,
        value: `${latency(p95)} (기준 ${THRESHOLDS.latencySeconds}초)`,
        verdict: p95 === undefined || Number.isNaN(p95) ? 'unknown' : p95 > THRESHOLDS.latencySeconds ? 'bad' : 'ok',
        links: [grafana(panel), graph(p95Expr)],
      },
      {
        title: `${route} ${THRESHOLDS.latencySeconds}초 초과 요청 비율`,
        value: percent(over),
        verdict: over === undefined || Number.isNaN(over) ? 'unknown' : over > 1 - THRESHOLDS.latencyQuantile ? 'bad' : 'ok',
        links: [graph(overExpr)],
      },
      {
        title: `${route} 5xx 비율`,
        value: `${percent(errors ?? 0)} (기준 ${percent(THRESHOLDS.routeErrorRatio)})`,
        verdict: (errors ?? 0) > THRESHOLDS.routeErrorRatio ? 'bad' : 'ok',
        links: [grafana({ dashboard: 'overview', panel: 'errorRatio' }), graph(errorsExpr)],
      },
    );
  }
  sections.push({ title: '응답 시간과 오류 (영향받는 API)', items: routeItems });

  const cacheExpr = Q.popularCacheHitRatio(WINDOWS.cache);
  const hit = await value(cacheExpr);
  sections.push({
    title: '캐시 (Redis 캐싱 적용 여부)',
    items: [
      {
        title: `인기 상품 캐시 적중률 (최근 ${WINDOWS.cache})`,
        value: `${percent(hit)} (기준 ${percent(THRESHOLDS.cacheHitRatio)} 이상)`,
        verdict: hit === undefined || Number.isNaN(hit) ? 'unknown' : hit < THRESHOLDS.cacheHitRatio ? 'bad' : 'ok',
        links: [grafana({ dashboard: 'incidents', panel: 'popularCacheHitRatio' }), graph(cacheExpr)],
      },
    ],
  });

  const queryItems: CheckItem[] = [];
  for (const query of [...new Set(judged.flatMap((r) => ROUTE_QUERIES[r] ?? []))]) {
    const expr = Q.queryP95(query, WINDOWS.saturation);
    const p95 = await value(expr);
    queryItems.push({
      title: `쿼리 ${query} p${THRESHOLDS.latencyQuantile * 100} 실행 시간 (최근 ${WINDOWS.saturation})`,
      value: `${latency(p95)} (조기 경보 ${THRESHOLDS.queryLatencySeconds}초)`,
      verdict: p95 === undefined || Number.isNaN(p95) ? 'unknown' : p95 > THRESHOLDS.queryLatencySeconds ? 'bad' : 'ok',
      links: [grafana({ dashboard: 'incidents', panel: 'hotQueryDuration' }), graph(expr)],
    });
  }
  const pool = await value(Q.poolUsage);
  const waiting = await value(Q.poolWaiting);
  queryItems.push(
    {
      title: '커넥션 풀 사용률',
      value: `${percent(pool)} (기준 ${percent(THRESHOLDS.poolUsageRatio)})`,
      verdict: pool === undefined || Number.isNaN(pool) ? 'unknown' : pool > THRESHOLDS.poolUsageRatio ? 'bad' : 'ok',
      links: [grafana({ dashboard: 'incidents', panel: 'poolUsage' }), graph(Q.poolUsage)],
    },
    {
      title: '커넥션을 기다리는 요청',
      value: waiting === undefined ? '측정값 없음' : `${waiting}건`,
      verdict: waiting === undefined ? 'unknown' : waiting > 0 ? 'bad' : 'ok',
      links: [graph(Q.poolWaiting)],
    },
  );
  sections.push({ title: '데이터베이스 쿼리 성능', items: queryItems });

  const dbUp = await value(Q.dbUp);
  const connections = await prom.query(Q.pgConnections, at);
  const maxConnections = await value(Q.pgMaxConnections);
  const locks = await prom.query(Q.pgLocks, at);
  const longest = await value(Q.pgLongestTransaction);
  const slowest = await prom.query(Q.pgSlowestStatements(WINDOWS.saturation), at);
  const total = connections.reduce((sum, s) => sum + s.value, 0);
  sections.push({
    title: 'PostgreSQL 부하',
    items: [
      connectionItem('서비스의 PostgreSQL 연결 (db_up)', dbUp, [grafana({ dashboard: 'incidents', panel: 'databaseUp' }), graph(Q.dbUp)]),
      {
        title: '접속 수 (상태별)',
        value: connections.length === 0
          ? '측정값 없음 (postgres-exporter)'
          : `${total}${maxConnections ? ` / 최대 ${maxConnections}` : ''} (${connections.map((s) => `${s.metric.state ?? '?'} ${s.value}`).join(', ')})`,
        verdict: connections.length === 0 ? 'unknown' : maxConnections && total > maxConnections * THRESHOLDS.poolUsageRatio ? 'bad' : 'info',
        links: [grafana({ dashboard: 'dependencies', panel: 'postgresConnections' }), graph(Q.pgConnections)],
      },
      {
        title: '잠금 (모드별)',
        value: locks.length === 0 ? '없음' : locks.map((s) => `${s.metric.mode ?? '?'} ${s.value}`).join(', '),
        verdict: 'info',
        links: [grafana({ dashboard: 'dependencies', panel: 'postgresLocks' }), graph(Q.pgLocks)],
      },
      {
        title: '가장 오래 실행 중인 트랜잭션',
        value: longest === undefined ? '측정값 없음' : duration(longest),
        verdict: longest === undefined ? 'unknown' : longest > THRESHOLDS.latencySeconds ? 'bad' : 'ok',
        links: [graph(Q.pgLongestTransaction)],
      },
      {
        title: `가장 느린 쿼리 (호출당 평균, 최근 ${WINDOWS.saturation})`,
        value: slowest.length === 0
          ? '측정값 없음 (postgres-exporter --collector.stat_statements 와 pg_stat_statements 확장 필요)'
          : slowest.map((s) => `${s.metric.queryid ?? s.metric.query ?? '?'} ${latency(s.value)}`).join(', '),
        verdict: slowest.length === 0 ? 'unknown' : 'info',
        links: [graph(Q.pgSlowestStatements(WINDOWS.saturation))],
      },
    ],
  });

  const redisConnected = await value(Q.redisConnected);
  const redisUp = await value(Q.redisUp);
  const clients = await value(Q.redisClients);
  const memory = await value(Q.redisMemory);
  sections.push({
    title: 'Redis 상태',
    items: [
      connectionItem('서비스의 Redis 연결 (redis_connected)', redisConnected, [grafana({ dashboard: 'incidents', panel: 'redisUp' }), graph(Q.redisConnected)]),
      {
        title: 'Redis 서버 (redis-exporter)',
        value: redisUp === undefined
          ? '측정값 없음'
          : `${redisUp === 1 ? '정상' : '응답 없음'}${clients !== undefined ? `, 클라이언트 ${clients}` : ''}${memory !== undefined ? `, 메모리 ${(memory / 1024 / 1024).toFixed(1)}MiB` : ''}`,
        verdict: redisUp === undefined ? 'unknown' : redisUp === 1 ? 'ok' : 'bad',
        links: [grafana({ dashboard: 'dependencies', panel: 'redisUp' }), graph(Q.redisUp)],
      },
    ],
  });

  const logLines = options.logs ? problemLines(options.logs, routes.length > 0 ? routes : undefined) : [];
  return { at, alerts, routes, database: options.database, sections, logLines, logSource: options.logs ? options.logSource ?? 'logs' : undefined };
}

const MARK: Record<Verdict, string> = { ok: '정상', bad: '이상', info: '참고', unknown: '확인 불가' };
const MAX_LOG_LINES = 20;

/** The investigation as one Korean summary for a terminal or a Slack thread. */
export function renderInvestigation(inv: Investigation): string {
  const out: string[] = [];
  out.push(`# 장애 조사 (${inv.at.toISOString()})`, '');
  if (inv.alerts.length === 0) out.push('현재 발생 중인 서비스 알림이 없습니다. 두 주요 API를 기준으로 점검합니다.');
  else {
    out.push('## 발생 중인 알림');
    for (const a of inv.alerts) {
      const since = (inv.at.getTime() - Date.parse(a.activeAt)) / 1000;
      out.push(`- [${a.labels.severity ?? '?'}] ${a.labels.alertname}: ${a.annotations.summary ?? ''} (${duration(since)} 전부터 조건 충족)`);
      if (a.annotations.runbook_url) out.push(`  런북: ${a.annotations.runbook_url}`);
    }
    out.push('', `영향받는 API: ${inv.routes.join(', ')}`);
  }
  if (inv.database) {
    const [first, ...more] = inv.database.findings;
    out.push('', '## 첫 번째 단서 (PostgreSQL 직접 점검)');
    if (inv.database.error) out.push(`PostgreSQL에 묻지 못했습니다: ${inv.database.error}`);
    else if (!first) out.push('다른 세션의 잠금, 빠진 인덱스, 가득 찬 연결, 오래 도는 쿼리가 없습니다.');
    for (const finding of first ? [first, ...more] : []) {
      out.push(`- ${finding.title}`, `  근거: ${finding.evidence}`, ...finding.fix.map((sql) => `  조치: ${sql}`));
    }
  }
  for (const section of inv.sections) {
    out.push('', `## ${section.title}`);
    for (const item of section.items) {
      out.push(`- [${MARK[item.verdict]}] ${item.title}: ${item.value}`);
      for (const link of item.links) out.push(`  ${link}`);
    }
  }
  out.push('', '## 에러/지연 로그 (요청 ID별)');
  if (!inv.logSource) out.push('로그를 읽지 않았습니다 (--logs compose|<파일>|- 로 지정).');
  else if (inv.logLines.length === 0) out.push(`에러나 지연 로그가 없습니다 (${inv.logSource}).`);
  else {
    const shown = inv.logLines.slice(-MAX_LOG_LINES);
    out.push(`${inv.logLines.length}줄 중 최근 ${shown.length}줄 (${inv.logSource}):`);
    for (const line of shown) out.push(`- ${formatLogLine(line)}`);
  }
  const bad = inv.sections.flatMap((s) => s.items).filter((i) => i.verdict === 'bad');
  const cause = inv.database?.findings[0];
  out.push(
    '',
    '## 요약',
    ...(cause ? [`첫 번째 단서: ${cause.title}`] : []),
    bad.length === 0 ? '기준을 넘은 점검 항목이 없습니다.' : `기준을 넘은 항목 ${bad.length}개: ${bad.map((i) => i.title).join('; ')}`,
  );
  return out.join('\n');
}
