import {
  ALL_HOT_QUERIES,
  JOB,
  KEY_ROUTES,
  POPULAR_ROUTE,
  STATUS_ROUTE,
  THRESHOLDS as T,
  WINDOWS as W,
  durationSeconds,
  type PanelRef,
  type Severity,
} from '../contract';
import { sloAlerts } from './slo';

export interface AlertDefinition {
  name: string;
  severity: Severity;
  /**
   * What a responder reports (장애 신고) when the page they act on is not this alert's own: the Watchdog never pages
   * anyone; its runbook is for the dead man's switch's Critical page when the heartbeat stops.
   */
  reportedAs?: { name: string; severity: Severity; summary: string; impact: string };
  /** `orders` for the service; `monitoring` for the pipeline itself. */
  service: 'orders' | 'monitoring';
  /**
   * PromQL. Top-level `or` separates branches; on every branch the value (`$value`) is the quantity the description
   * names (rule-tests.ts proves it per branch).
   */
  expr: string;
  for?: string;
  /**
   * Seconds from the start of a step-change symptom to the expression first being true (e.g. half the window of an
   * availability average). With `for` it places the onset (발생 시간) before the firing time (감지 시간):
   * onset = startsAt − for − conditionLagSeconds.
   */
  conditionLagSeconds: number;
  /** Korean, for responders: what is wrong (summary), with the measured value (description), who is hit (impact). */
  summary: string;
  description: string;
  impact: string;
  dashboard: PanelRef;
  /** Labels the expression keeps that make each firing instance distinct. */
  instanceLabels?: string[];
  /** README: when it fires, in English, one line. */
  firesWhen: string;
}

const api = `job="${JOB}"`;
/** The scrape (and evaluation) interval of prometheus.yml: a rate condition holds from the first scrape after onset. */
export const SCRAPE_SECONDS = 15;
/**
 * The lag of a condition on 5xx answers: a route's 5xx series exists only from its first 5xx, and rate() needs two
 * samples of a series, so the first scrape after the onset sees no rate yet (the e2e suite measured it: 100 s from
 * errors on every route to the Critical page, 15 s more than one scrape of lag allows).
 */
const NEW_SERIES_LAG_SECONDS = 2 * SCRAPE_SECONDS;
/**
 * The lag of a p95-over-the-line condition: the quantile crosses the line once the slow share of the reporting window
 * exceeds 1 − quantile (6 s of an all-slow fault over 2 m), seen at the next scrape.
 */
const LATENCY_SHARE_LAG_SECONDS = SCRAPE_SECONDS + Math.round(durationSeconds(W.requests) * (1 - T.latencyQuantile));
const requests = (selector = '') => `http_server_request_duration_seconds_count{${api}${selector}}`;
const rate = (metric: string, window: string) => `rate(${metric}[${window}])`;
const seconds = (duration: string) => durationSeconds(duration);
/** Korean reading of a Prometheus duration: `90s` → `90초`, `2m` → `2분`. */
export const koDuration = (duration: string) => {
  const s = seconds(duration);
  return s % 3600 === 0 ? `${s / 3600}시간` : s % 60 === 0 ? `${s / 60}분` : `${s}초`;
};
const percent = (ratio: number) => `${Math.round(ratio * 1000) / 10}%`;

/** Availability signal (1 good / 0 bad per sample) averaged over a window: at most THRESHOLDS.availabilityRatio good. */
const availability = (series: string, window: string = W.availability) => `avg_over_time(${series}[${window}]) <= ${T.availabilityRatio}`;
/** Half of the window must be bad before the average crosses the line. */
const availabilityLag = (window: string = W.availability) => Math.round(seconds(window) * (1 - T.availabilityRatio));

/** A request condition over the reporting window, confirmed over the short window: `cond(W.requests) and cond(W.confirm)`. */
const confirmed = (condition: (window: string) => string) => `${condition(W.requests)}\nand ${condition(W.confirm)}`;

function routeLatencyAlert(name: string, route: string, feature: string, dashboard: PanelRef, hint: string): AlertDefinition {
  const selector = `,http_route="${route}"`;
  const p = T.latencyQuantile * 100;
  return {
    name,
    severity: 'major',
    service: 'orders',
    expr: [
      confirmed((w) => `histogram_quantile(${T.latencyQuantile}, sum by (le) (${rate(`http_server_request_duration_seconds_bucket{${api}${selector}}`, w)})) > ${T.latencySeconds}`),
      `and sum(${rate(requests(selector), W.requests)}) > ${T.minRequestsPerSecond}`,
    ].join('\n'),
    for: W.requestsFor,
    conditionLagSeconds: LATENCY_SHARE_LAG_SECONDS,
    summary: `${feature}(GET ${route}) 응답이 ${T.latencySeconds}초를 넘었습니다`,
    description: `최근 ${koDuration(W.requests)} GET ${route} p${p} 응답 시간 {{ $value | humanizeDuration }} (기준 ${T.latencySeconds}초 초과, 최근 ${koDuration(W.confirm)}에도 초과, ${koDuration(W.requestsFor)} 넘게 지속).`,
    impact: `Major: 주요 기능(${feature})이 느려, 이 기능을 쓰는 모든 사용자가 기다리거나 요청이 실패합니다. ${hint}`,
    dashboard,
    firesWhen: `p${p} of GET ${route} over ${W.requests} and over ${W.confirm} > ${T.latencySeconds} s (at > ${T.minRequestsPerSecond} req/s)`,
  };
}

export const ALERTS: AlertDefinition[] = [
  {
    name: 'OrdersServiceDown',
    severity: 'critical',
    service: 'orders',
    // absent() is 1; `* 0` makes that branch's value the success ratio it stands for (no scrape succeeded). It
    // waits for Prometheus to have run a minute, so a restarting Prometheus, yet to scrape, pages no one.
    expr: `${availability(`up{${api}}`)}\nor absent(up{${api}}) * 0 and on() (time() - max(process_start_time_seconds{job="prometheus"}) > 60)`,
    conditionLagSeconds: availabilityLag(),
    summary: '주문 서비스가 응답하지 않습니다 (스크레이프 실패)',
    description: `최근 ${koDuration(W.availability)} 동안 Prometheus가 주문 서비스의 /metrics를 스크레이프한 성공률이 {{ $value | humanizePercentage }}입니다 (정상 100%, 대상이 아예 없으면 0%). 프로세스가 죽었거나, 재시작을 반복하거나, 네트워크가 끊겼습니다.`,
    impact: 'Critical: 서비스 전체 중단. 모든 사용자가 주문, 조회를 할 수 없습니다.',
    dashboard: { dashboard: 'overview', panel: 'targetsUp' },
    firesWhen: `at most ${percent(T.availabilityRatio)} of scrapes of the service succeeded over ${W.availability} (down, crash loop), or the target is missing`,
  },
  {
    name: 'OrdersApiProbeFailing',
    severity: 'critical',
    service: 'orders',
    expr: availability('probe_success{job="blackbox-api"}'),
    conditionLagSeconds: availabilityLag(),
    summary: '외부 프로브가 주문 API에 접속하지 못합니다: {{ $labels.instance }}',
    description: `최근 ${koDuration(W.availability)} 동안 블랙박스 프로브가 사용자와 같은 경로(공개 포트)로 {{ $labels.instance }}에 접속한 성공률이 {{ $value | humanizePercentage }}입니다 (정상 100%). 서비스 지표가 정상이어도 사용자는 접속하지 못할 수 있습니다.`,
    impact: 'Critical: 사용자 전원이 API에 접속하지 못하는 상황일 수 있습니다.',
    dashboard: { dashboard: 'overview', panel: 'probe' },
    instanceLabels: ['instance'],
    firesWhen: `at most ${percent(T.availabilityRatio)} of probes of the public port succeeded over ${W.availability} (429 counts as reachable)`,
  },
  {
    name: 'OrdersHighErrorRate',
    severity: 'critical',
    service: 'orders',
    expr: [
      confirmed((w) => `sum(${rate(requests(',http_response_status_code=~"5.."'), w)}) / sum(${rate(requests(), w)}) > ${T.serviceErrorRatio}`),
      `and sum(${rate(requests(), W.requests)}) > ${T.minRequestsPerSecond}`,
    ].join('\n'),
    for: W.requestsFor,
    conditionLagSeconds: NEW_SERIES_LAG_SECONDS,
    summary: `주문 API 전체 요청의 ${percent(T.serviceErrorRatio)}를 넘게 5xx로 실패합니다`,
    description: `최근 ${koDuration(W.requests)} 전체 요청 중 5xx 비율 {{ $value | humanizePercentage }} (기준 ${percent(T.serviceErrorRatio)} 초과, 최근 ${koDuration(W.confirm)}에도 초과, ${koDuration(W.requestsFor)} 넘게 지속).`,
    impact: 'Critical: 사용자 전원이 영향을 받습니다. 주문, 조회가 실패합니다.',
    dashboard: { dashboard: 'overview', panel: 'errorRatio' },
    firesWhen: `5xx share of all requests over ${W.requests} and over ${W.confirm} > ${percent(T.serviceErrorRatio)}`,
  },
  {
    name: 'OrdersDatabaseUnreachable',
    severity: 'critical',
    service: 'orders',
    expr: availability(`db_up{${api}}`),
    conditionLagSeconds: availabilityLag(),
    summary: '주문 서비스가 PostgreSQL에 연결하지 못합니다',
    description: `최근 ${koDuration(W.availability)} 동안 서비스의 PostgreSQL 연결 점검 성공률이 {{ $value | humanizePercentage }}입니다 (정상 100%). 연결이 안 되는 동안 요청은 503 DATABASE_UNAVAILABLE(Retry-After 5초)로 응답합니다.`,
    impact: 'Critical: 서비스 전체 중단. 주문, 잔액, 주문 상태, 인기 상품 모두 실패합니다(인기 상품은 마지막 순위를 만료 후 최대 5분 더 X-Cache: stale로 보여 줍니다).',
    dashboard: { dashboard: 'incidents', panel: 'databaseUp' },
    firesWhen: `at most ${percent(T.availabilityRatio)} of the service's PostgreSQL checks succeeded over ${W.availability}`,
  },
  routeLatencyAlert('OrdersPopularLatencyHigh', POPULAR_ROUTE, '인기 상품 조회', { dashboard: 'incidents', panel: 'popularLatency' },
    '런북: DB 쿼리 성능과 Redis 캐시 적용 여부를 점검합니다.'),
  routeLatencyAlert('OrdersStatusLatencyHigh', STATUS_ROUTE, '주문 상태 조회', { dashboard: 'incidents', panel: 'statusLatency' },
    '런북: 주문 상태 쿼리의 실행 계획과 인덱스를 점검합니다 (이 경로는 캐시를 쓰지 않습니다).'),
  {
    name: 'OrdersEndpointErrorRateHigh',
    severity: 'major',
    service: 'orders',
    expr: [
      confirmed((w) =>
        [
          `sum by (http_request_method, http_route) (${rate(requests(`,http_route=~"${KEY_ROUTES.join('|')}",http_response_status_code=~"5.."`), w)})`,
          `/ sum by (http_request_method, http_route) (${rate(requests(`,http_route=~"${KEY_ROUTES.join('|')}"`), w)}) > ${T.routeErrorRatio}`,
        ].join('\n'),
      ),
      `and sum by (http_request_method, http_route) (${rate(requests(`,http_route=~"${KEY_ROUTES.join('|')}"`), W.requests)}) > ${T.minRequestsPerSecond}`,
    ].join('\n'),
    for: W.requestsFor,
    conditionLagSeconds: NEW_SERIES_LAG_SECONDS,
    summary: '{{ $labels.http_request_method }} {{ $labels.http_route }} 요청이 5xx로 실패하고 있습니다',
    description: `최근 ${koDuration(W.requests)} {{ $labels.http_request_method }} {{ $labels.http_route }} 요청 중 5xx 비율 {{ $value | humanizePercentage }} (기준 ${percent(T.routeErrorRatio)} 초과, 최근 ${koDuration(W.confirm)}에도 초과, ${koDuration(W.requestsFor)} 넘게 지속).`,
    impact: 'Major: 주요 기능 하나가 작동하지 않아 해당 기능을 쓰는 사용자가 실패를 겪습니다.',
    dashboard: { dashboard: 'overview', panel: 'errorRatio' },
    instanceLabels: ['http_request_method', 'http_route'],
    firesWhen: `5xx share of one key route over ${W.requests} and over ${W.confirm} > ${percent(T.routeErrorRatio)}`,
  },
  {
    name: 'OrdersDatabasePoolSaturated',
    severity: 'major',
    service: 'orders',
    expr: [
      `avg_over_time(db_pool_connections{${api},state="in_use"}[${W.saturation}]) / ignoring(state) db_pool_max_connections{${api}} > ${T.poolUsageRatio}`,
      `and max_over_time(db_pool_connections{${api},state="in_use"}[${W.confirm}]) / ignoring(state) db_pool_max_connections{${api}} > ${T.poolUsageRatio}`,
    ].join('\n'),
    for: W.saturationFor,
    conditionLagSeconds: Math.round(seconds(W.saturation) * T.poolUsageRatio),
    summary: 'PostgreSQL 커넥션 풀이 포화 상태입니다',
    description: `최근 ${koDuration(W.saturation)} 평균 풀 사용률 {{ $value | humanizePercentage }} (기준 ${percent(T.poolUsageRatio)} 초과, ${koDuration(W.saturationFor)} 넘게 지속). 커넥션을 기다리는 요청이 생기고, 대기가 길어지면 503이 됩니다.`,
    impact: 'Major: 대기하는 요청이 느려지고 일부는 503으로 실패합니다.',
    dashboard: { dashboard: 'incidents', panel: 'poolUsage' },
    firesWhen: `average pool use over ${W.saturation} > ${percent(T.poolUsageRatio)} and still so in the last ${W.confirm}`,
  },
  {
    name: 'OrdersCacheUnavailable',
    severity: 'minor',
    service: 'orders',
    expr: availability(`redis_connected{${api}}`),
    conditionLagSeconds: availabilityLag(),
    summary: '주문 서비스가 Redis 캐시에 연결하지 못합니다',
    description: `최근 ${koDuration(W.availability)} 동안 Redis에 연결되어 있던 비율이 {{ $value | humanizePercentage }}입니다 (정상 100%). 인기 상품 조회가 캐시 없이 PostgreSQL에서 계산됩니다.`,
    impact: 'Minor: 서비스는 응답하지만 인기 상품 조회가 느려지고 데이터베이스 부하가 늘어납니다.',
    dashboard: { dashboard: 'incidents', panel: 'redisUp' },
    firesWhen: `the service was connected to Redis at most ${percent(T.availabilityRatio)} of ${W.availability}`,
  },
  {
    name: 'OrdersPopularCacheHitRatioLow',
    severity: 'minor',
    service: 'orders',
    expr: [
      `sum(${rate(`cache_requests_total{${api},cache="popular_products",result="hit"}`, W.cache)})`,
      `/ sum(${rate(`cache_requests_total{${api},cache="popular_products"}`, W.cache)}) < ${T.cacheHitRatio}`,
      `and sum(${rate(`cache_requests_total{${api},cache="popular_products",result="hit"}`, W.requests)})`,
      `/ sum(${rate(`cache_requests_total{${api},cache="popular_products"}`, W.requests)}) < ${T.cacheHitRatio}`,
      `and sum(${rate(`cache_requests_total{${api},cache="popular_products"}`, W.cache)}) > ${T.minRequestsPerSecond}`,
    ].join('\n'),
    for: W.saturation,
    conditionLagSeconds: Math.round(seconds(W.cache) * (1 - T.cacheHitRatio)),
    summary: '인기 상품 캐시 적중률이 낮습니다',
    description: `최근 ${koDuration(W.cache)} 인기 상품 캐시 적중률 {{ $value | humanizePercentage }} (정상 기준 ${percent(T.cacheHitRatio)} 이상, 최근 ${koDuration(W.requests)}에도 미만). 요청 대부분이 PostgreSQL 집계로 처리됩니다.`,
    impact: 'Minor: 인기 상품 조회가 느려질 수 있고 데이터베이스 부하가 늘어납니다.',
    dashboard: { dashboard: 'incidents', panel: 'popularCacheHitRatio' },
    firesWhen: `popular cache hit ratio over ${W.cache} and over ${W.requests} < ${percent(T.cacheHitRatio)}`,
  },
  {
    name: 'OrdersDatabaseQuerySlow',
    severity: 'minor',
    service: 'orders',
    expr: [
      `histogram_quantile(${T.latencyQuantile}, sum by (query, le) (${rate(`db_query_duration_seconds_bucket{${api},query=~"${ALL_HOT_QUERIES.join('|')}"}`, W.saturation)})) > ${T.queryLatencySeconds}`,
      `and histogram_quantile(${T.latencyQuantile}, sum by (query, le) (${rate(`db_query_duration_seconds_bucket{${api},query=~"${ALL_HOT_QUERIES.join('|')}"}`, W.confirm)})) > ${T.queryLatencySeconds}`,
      `and sum by (query) (${rate(`db_query_duration_seconds_count{${api},query=~"${ALL_HOT_QUERIES.join('|')}"}`, W.saturation)}) > 0`,
    ].join('\n'),
    for: W.saturationFor,
    conditionLagSeconds: SCRAPE_SECONDS,
    summary: '장애 대응 대상 쿼리 {{ $labels.query }}가 느려지고 있습니다',
    description: `최근 ${koDuration(W.saturation)} {{ $labels.query }} p${T.latencyQuantile * 100} 실행 시간 {{ $value | humanizeDuration }} (조기 경보 기준 ${T.queryLatencySeconds}초 초과, 장애 기준 ${T.latencySeconds}초, 최근 ${koDuration(W.confirm)}에도 초과, ${koDuration(W.saturationFor)} 넘게 지속).`,
    impact: 'Minor: 아직 사용자 체감은 적지만, 부하가 늘면 인기 상품/주문 상태 조회 장애(1초 초과)로 이어집니다.',
    dashboard: { dashboard: 'incidents', panel: 'hotQueryDuration' },
    instanceLabels: ['query'],
    firesWhen: `p${T.latencyQuantile * 100} of a hot query over ${W.saturation} and over ${W.confirm} > ${T.queryLatencySeconds} s`,
  },
  {
    name: 'OrdersEventLoopLagHigh',
    severity: 'minor',
    service: 'orders',
    expr: `min_over_time(nodejs_eventloop_lag_p99_seconds{${api}}[${W.eventLoop}]) > ${T.eventLoopLagSeconds}`,
    conditionLagSeconds: seconds(W.eventLoop),
    summary: '주문 서비스의 Node.js 이벤트 루프가 지연되고 있습니다',
    description: `최근 ${koDuration(W.eventLoop)} 동안 이벤트 루프 지연 p99가 한 번도 ${T.eventLoopLagSeconds}초 아래로 내려가지 않았습니다 (그중 가장 낮은 값 {{ $value | humanizeDuration }}). CPU 포화나 동기 작업으로 모든 요청이 늦어집니다.`,
    impact: 'Minor: 모든 응답이 조금씩 느려집니다. 지속되면 지연 장애로 번집니다.',
    dashboard: { dashboard: 'overview', panel: 'eventLoopLag' },
    firesWhen: `event loop lag p99 > ${T.eventLoopLagSeconds} s at every scrape for ${W.eventLoop}`,
  },
  {
    name: 'MonitoringTargetDown',
    severity: 'minor',
    service: 'monitoring',
    expr: availability('up{job=~"postgres-exporter|redis-exporter|blackbox-api|alertmanager|prometheus"}', W.monitoringAvailability),
    conditionLagSeconds: availabilityLag(W.monitoringAvailability),
    summary: '모니터링 구성 요소 {{ $labels.job }}을(를) 스크레이프하지 못하고 있습니다',
    description: `최근 ${koDuration(W.monitoringAvailability)} 동안 {{ $labels.job }} ({{ $labels.instance }}) 스크레이프 성공률이 {{ $value | humanizePercentage }}입니다 (정상 100%). 이 대상이 보여주던 지표와 알림이 비어 있습니다.`,
    impact: 'Minor: 사용자 영향은 없지만 장애 감지에 사각지대가 생겼습니다.',
    dashboard: { dashboard: 'overview', panel: 'targetsUp' },
    instanceLabels: ['job', 'instance'],
    firesWhen: `at most ${percent(T.availabilityRatio)} of scrapes of a monitoring component succeeded over ${W.monitoringAvailability}`,
  },
  {
    name: 'Watchdog',
    severity: 'minor',
    service: 'monitoring',
    expr: 'vector(1)',
    conditionLagSeconds: 0,
    summary: '알림 파이프라인 하트비트 (항상 발생)',
    description: 'Prometheus → Alertmanager → 데드맨 스위치 경로가 살아 있음을 알리는 알림입니다. 사람에게 전달되지 않습니다.',
    impact: '없음: 이 알림이 멈추면 데드맨 스위치가 Critical 채널에 직접 알립니다.',
    reportedAs: {
      name: '알림 파이프라인 중단 (데드맨 스위치)',
      severity: 'critical',
      summary: '알림 하트비트가 끊겨, 장애가 나도 아무도 호출되지 않습니다',
      impact: '감지 능력 전체 상실: 사용자 영향이 있어도 알림이 오지 않습니다. 복구될 때까지 한 사람이 대시보드를 직접 봅니다 (수동 감시 중).',
    },
    dashboard: { dashboard: 'alerts', panel: 'firingTable' },
    firesWhen: 'always (heartbeat to the dead man\'s switch)',
  },
  ...sloAlerts(),
];

/** Seconds between the onset of a step-change symptom and the alert firing (startsAt): `for` plus the condition's lag. */
export function onsetLagSeconds(alert: AlertDefinition): number {
  return (alert.for ? seconds(alert.for) : 0) + alert.conditionLagSeconds;
}
