import {
  ALL_HOT_QUERIES,
  JOB,
  KEY_ROUTES,
  POPULAR_ROUTE,
  STATUS_ROUTE,
  THRESHOLDS as T,
  WINDOWS as W,
  type PanelRef,
  type Severity,
} from '../contract';


export interface AlertDefinition {
  name: string;
  severity: Severity;
  /** `orders` for the service; `monitoring` for the pipeline itself, which no service incident may silence. */
  service: 'orders' | 'monitoring';
  expr: string;
  for?: string;
  /** Korean, for responders: what is wrong (summary), with the measured value (description), who is hit (impact). */
  summary: string;
  description: string;
  impact: string;
  dashboard: PanelRef;
  /** Labels the expression keeps that make each firing instance distinct. */
  instanceLabels?: string[];
}

const api = `job="${JOB}"`;
const requests = (selector = '') => `http_server_request_duration_seconds_count{${api}${selector}}`;
const rate = (metric: string, window: string = W.requests) => `rate(${metric}[${window}])`;


function routeLatencyAlert(name: string, route: string, feature: string, dashboard: PanelRef): AlertDefinition {
  const selector = `,http_route="${route}"`;
  return {
    name,
    severity: 'major',
    service: 'orders',
    expr: [
      `histogram_quantile(${T.latencyQuantile}, sum by (le) (${rate(`http_server_request_duration_seconds_bucket{${api}${selector}}`)})) > ${T.latencySeconds}`,
      `and sum(${rate(requests(selector))}) > ${T.minRequestsPerSecond}`,
    ].join('\n'),
    for: W.requests,
    summary: `${feature}(GET ${route}) 응답이 ${T.latencySeconds}초를 넘었습니다`,
    description: `최근 ${W.requests} GET ${route} p${T.latencyQuantile * 100} 응답 시간 {{ $value | humanizeDuration }} (기준 ${T.latencySeconds}s, ${W.requests} 이상 지속). DB 쿼리 성능과 Redis 캐시 적용 여부를 점검하세요.`,
    impact: `Major: 주요 기능(${feature})이 느려 이 화면을 여는 모든 사용자가 기다리거나 요청이 실패합니다.`,
    dashboard,
  };
}

export const ALERTS: AlertDefinition[] = [
  {
    name: 'OrdersServiceDown',
    severity: 'critical',
    service: 'orders',
    expr: `up{${api}} == 0 or absent(up{${api}})`,
    for: '1m',
    summary: '주문 서비스가 응답하지 않습니다 (스크레이프 실패)',
    description: 'Prometheus가 1분 넘게 주문 서비스의 /metrics를 가져오지 못했습니다 (up={{ $value }}). 프로세스가 죽었거나 네트워크가 끊겼습니다.',
    impact: 'Critical: 서비스 전체 중단. 모든 사용자가 주문, 조회를 할 수 없습니다.',
    dashboard: { dashboard: 'overview', panel: 'targetsUp' },
  },
  {
    name: 'OrdersApiProbeFailing',
    severity: 'critical',
    service: 'orders',
    expr: 'probe_success{job="blackbox-api"} == 0',
    for: W.requests,
    summary: '외부 프로브가 주문 API에 접속하지 못합니다: {{ $labels.instance }}',
    description: '블랙박스 프로브가 사용자와 같은 경로로 {{ $labels.instance }} 요청에 {{ $value }}회 연속 실패 상태입니다 (2분 이상). 서비스 지표가 정상이어도 사용자는 접속하지 못할 수 있습니다.',
    impact: 'Critical: 사용자 전원이 API에 접속하지 못하는 상황일 수 있습니다 (네트워크, 포트, 프록시 점검).',
    dashboard: { dashboard: 'overview', panel: 'probe' },
    instanceLabels: ['instance'],
  },
  {
    name: 'OrdersHighErrorRate',
    severity: 'critical',
    service: 'orders',
    expr: [
      `sum(${rate(requests(',http_response_status_code=~"5.."'))}) / sum(${rate(requests())}) > ${T.serviceErrorRatio}`,
      `and sum(${rate(requests())}) > ${T.minRequestsPerSecond}`,
    ].join('\n'),
    for: W.requests,
    summary: `주문 API 전체 요청의 ${T.serviceErrorRatio * 100}% 이상이 5xx로 실패합니다`,
    description: `최근 ${W.requests} 전체 요청 중 5xx 비율 {{ $value | humanizePercentage }} (기준 ${T.serviceErrorRatio * 100}%).`,
    impact: 'Critical: 사용자 전원이 영향을 받습니다. 주문, 조회가 실패합니다.',
    dashboard: { dashboard: 'overview', panel: 'errorRatio' },
  },
  {
    name: 'OrdersDatabaseUnreachable',
    severity: 'critical',
    service: 'orders',
    expr: `max_over_time(db_up{${api}}[1m]) == 0`,
    for: '1m',
    summary: '주문 서비스가 PostgreSQL에 연결하지 못합니다',
    description: '서비스의 PostgreSQL 연결 점검이 1분 넘게 실패했습니다 (db_up={{ $value }}). 모든 요청이 503 SERVICE_UNAVAILABLE로 응답합니다.',
    impact: 'Critical: 서비스 전체 중단. 주문, 잔액, 주문 상태, 인기 상품(캐시 만료 후) 모두 실패합니다.',
    dashboard: { dashboard: 'incidents', panel: 'databaseUp' },
  },
  routeLatencyAlert('OrdersPopularLatencyHigh', POPULAR_ROUTE, '인기 상품 조회', { dashboard: 'incidents', panel: 'popularLatency' }),
  routeLatencyAlert('OrdersStatusLatencyHigh', STATUS_ROUTE, '주문 상태 조회', { dashboard: 'incidents', panel: 'statusLatency' }),
  {
    name: 'OrdersEndpointErrorRateHigh',
    severity: 'major',
    service: 'orders',
    expr: [
      `sum by (http_request_method, http_route) (${rate(requests(`,http_route=~"${KEY_ROUTES.join('|')}",http_response_status_code=~"5.."`))})`,
      `/ sum by (http_request_method, http_route) (${rate(requests(`,http_route=~"${KEY_ROUTES.join('|')}"`))}) > ${T.routeErrorRatio}`,
      `and sum by (http_request_method, http_route) (${rate(requests(`,http_route=~"${KEY_ROUTES.join('|')}"`))}) > ${T.minRequestsPerSecond}`,
    ].join('\n'),
    for: W.requests,
    summary: '{{ $labels.http_request_method }} {{ $labels.http_route }} 요청이 5xx로 실패하고 있습니다',
    description: `최근 ${W.requests} {{ $labels.http_request_method }} {{ $labels.http_route }} 요청 중 5xx 비율 {{ $value | humanizePercentage }} (기준 ${T.routeErrorRatio * 100}%).`,
    impact: 'Major: 주요 기능 하나가 작동하지 않아 해당 기능을 쓰는 사용자가 실패를 겪습니다.',
    dashboard: { dashboard: 'overview', panel: 'errorRatio' },
    instanceLabels: ['http_request_method', 'http_route'],
  },
  {
    name: 'OrdersDatabasePoolSaturated',
    severity: 'major',
    service: 'orders',
    expr: `avg_over_time(db_pool_connections{${api},state="in_use"}[${W.saturation}]) / ignoring(state) db_pool_max_connections{${api}} > ${T.poolUsageRatio}`,
    for: W.saturation,
    summary: 'PostgreSQL 커넥션 풀이 포화 상태입니다',
    description: `최근 ${W.saturation} 평균 풀 사용률 {{ $value | humanizePercentage }} (기준 ${T.poolUsageRatio * 100}%). 느린 쿼리나 트래픽 급증으로 커넥션을 기다리는 요청이 생기고, 대기가 길어지면 503이 됩니다.`,
    impact: 'Major: 대기하는 요청이 느려지고 일부는 503으로 실패합니다.',
    dashboard: { dashboard: 'incidents', panel: 'poolUsage' },
  },
  {
    name: 'OrdersCacheUnavailable',
    severity: 'minor',
    service: 'orders',
    expr: `max_over_time(redis_connected{${api}}[${W.requests}]) == 0`,
    for: '1m',
    summary: '주문 서비스가 Redis 캐시에 연결하지 못합니다',
    description: 'Redis 연결이 끊긴 상태가 지속되고 있습니다 (redis_connected={{ $value }}). 인기 상품 조회가 캐시 없이 PostgreSQL에서 계산됩니다.',
    impact: 'Minor: 서비스는 응답하지만 인기 상품 조회가 느려지고 데이터베이스 부하가 늘어납니다.',
    dashboard: { dashboard: 'incidents', panel: 'redisUp' },
  },
  {
    name: 'OrdersPopularCacheHitRatioLow',
    severity: 'minor',
    service: 'orders',
    expr: [
      `sum(${rate(`cache_requests_total{${api},cache="popular_products",result="hit"}`, W.cache)})`,
      `/ sum(${rate(`cache_requests_total{${api},cache="popular_products"}`, W.cache)}) < ${T.cacheHitRatio}`,
      `and sum(${rate(`cache_requests_total{${api},cache="popular_products"}`, W.cache)}) > ${T.minRequestsPerSecond}`,
    ].join('\n'),
    for: W.cache,
    summary: '인기 상품 캐시 적중률이 낮습니다',
    description: `최근 ${W.cache} 인기 상품 캐시 적중률 {{ $value | humanizePercentage }} (기준 ${T.cacheHitRatio * 100}% 이상). 요청 대부분이 PostgreSQL 집계로 처리됩니다.`,
    impact: 'Minor: 인기 상품 조회가 느려질 수 있고 데이터베이스 부하가 늘어납니다.',
    dashboard: { dashboard: 'incidents', panel: 'popularCacheHitRatio' },
  },
  {
    name: 'OrdersDatabaseQuerySlow',
    severity: 'minor',
    service: 'orders',
    expr: [
      `histogram_quantile(${T.latencyQuantile}, sum by (query, le) (${rate(`db_query_duration_seconds_bucket{${api},query=~"${ALL_HOT_QUERIES.join('|')}"}`, W.saturation)})) > ${T.queryLatencySeconds}`,
      `and sum by (query) (${rate(`db_query_duration_seconds_count{${api},query=~"${ALL_HOT_QUERIES.join('|')}"}`, W.saturation)}) > 0`,
    ].join('\n'),
    for: W.saturation,
    summary: '장애 대응 대상 쿼리 {{ $labels.query }}가 느려지고 있습니다',
    description: `최근 ${W.saturation} {{ $labels.query }} p${T.latencyQuantile * 100} 실행 시간 {{ $value | humanizeDuration }} (조기 경보 기준 ${T.queryLatencySeconds}s, 장애 기준 ${T.latencySeconds}s). 실행 계획과 인덱스를 점검하세요.`,
    impact: 'Minor: 아직 사용자 체감은 적지만, 부하가 늘면 인기 상품/주문 상태 조회 장애(1초 초과)로 이어집니다.',
    dashboard: { dashboard: 'incidents', panel: 'hotQueryDuration' },
    instanceLabels: ['query'],
  },
  {
    name: 'OrdersEventLoopLagHigh',
    severity: 'minor',
    service: 'orders',
    expr: `nodejs_eventloop_lag_p99_seconds{${api}} > ${T.eventLoopLagSeconds}`,
    for: W.saturation,
    summary: '주문 서비스의 Node.js 이벤트 루프가 지연되고 있습니다',
    description: `이벤트 루프 지연 p99 {{ $value | humanizeDuration }} (기준 ${T.eventLoopLagSeconds}s). CPU 포화나 동기 작업으로 모든 요청이 늦어집니다.`,
    impact: 'Minor: 모든 응답이 조금씩 느려집니다. 지속되면 지연 장애로 번집니다.',
    dashboard: { dashboard: 'overview', panel: 'eventLoopLag' },
  },
  {
    name: 'MonitoringTargetDown',
    severity: 'minor',
    service: 'monitoring',
    expr: 'up{job=~"postgres-exporter|redis-exporter|blackbox-api|alertmanager|prometheus"} == 0',
    for: W.saturation,
    summary: '모니터링 대상 {{ $labels.job }}을(를) 수집하지 못합니다',
    description: '{{ $labels.job }} ({{ $labels.instance }}) 스크레이프가 5분 넘게 실패했습니다 (up={{ $value }}). 이 대상이 보여주던 지표와 알림이 비어 있습니다.',
    impact: 'Minor: 사용자 영향은 없지만 장애 감지에 사각지대가 생겼습니다.',
    dashboard: { dashboard: 'overview', panel: 'targetsUp' },
    instanceLabels: ['job', 'instance'],
  },
  {
    name: 'Watchdog',
    severity: 'minor',
    service: 'monitoring',
    expr: 'vector(1)',
    summary: '알림 파이프라인 하트비트 (항상 발생)',
    description: 'Prometheus → Alertmanager → 하트비트 수신기 경로가 살아 있음을 알리는 알림입니다 (값 {{ $value }}). 사람에게 전달되지 않습니다.',
    impact: '없음: 이 알림이 멈추면 알림 파이프라인이 고장 난 것입니다.',
    dashboard: { dashboard: 'alerts', panel: 'firingTable' },
  },
];
