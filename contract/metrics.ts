/**
 * Names of the service's metrics and their labels: what alert rules, recording rules and dashboards select on.
 * The service registers its metrics under exactly these names (service/src/telemetry/metrics.ts).
 */
export const METRICS = {
  httpDuration: 'http_server_request_duration_seconds',
  httpActive: 'http_server_active_requests',
  rateLimited: 'http_server_rate_limited_total',
  parserRejected: 'http_server_parser_rejected_total',
  rateLimitSetting: 'rate_limit_requests_per_second',
  cacheRequests: 'cache_requests_total',
  dbQueryDuration: 'db_query_duration_seconds',
  dbPoolConnections: 'db_pool_connections',
  dbPoolMax: 'db_pool_max_connections',
  dbUp: 'db_up',
  dbErrors: 'db_errors_total',
  redisConnected: 'redis_connected',
  ordersCreated: 'orders_created_total',
  ordersCancelled: 'orders_cancelled_total',
  ordersRejected: 'orders_rejected_total',
  faultDrillActive: 'fault_drill_active',
} as const;

/** Label names, OpenTelemetry HTTP semantic conventions where they apply. */
export const LABELS = {
  method: 'http_request_method',
  route: 'http_route',
  status: 'http_response_status_code',
  cache: 'cache',
  cacheResult: 'result',
  query: 'query',
  outcome: 'outcome',
  poolState: 'state',
  reason: 'reason',
  drill: 'drill',
  dbErrorKind: 'kind',
} as const;

/**
 * Values of db_errors_total{kind}: the four ways the database can fail to serve a request, each its own API answer
 * (service/docs/api-contract.md): unreachable (unavailable), no pooled connection within the acquire timeout
 * (pool_exhausted), a row lock not granted within the lock timeout (lock_timeout), a statement past the statement
 * timeout (statement_timeout).
 */
export const DB_ERROR_KINDS = ['unavailable', 'pool_exhausted', 'lock_timeout', 'statement_timeout'] as const;
export type DbErrorKind = (typeof DB_ERROR_KINDS)[number];

/** Prometheus job of the service's scrape target. */
export const JOB = 'orders';

/**
 * Results of `npm run loadtest`, pushed to the Pushgateway under the grouping key {job: LOADTEST_JOB, scenario} (so
 * each scenario keeps its latest run) and scraped with honor_labels; the loadtest dashboard reads them.
 */
export const LOADTEST_JOB = 'loadtest';

export const LOADTEST_METRICS = {
  /** Histogram of answers' latency (any status), buckets as the service's; labels endpoint, http_route, http_request_method. */
  requestDuration: 'loadtest_request_duration_seconds',
  /** Counter of answers by endpoint and http_response_status_code. */
  responses: 'loadtest_responses_total',
  /** Counter of requests that got no answer (connection error, reset, timeout), by endpoint. */
  unanswered: 'loadtest_requests_unanswered_total',
  /** Gauge: the arrival rate planned for an endpoint, requests per second. */
  targetRate: 'loadtest_target_rate_requests_per_second',
  /** Gauge: the run's latency at THRESHOLDS.latencyQuantile per endpoint (exact, from an HdrHistogram), seconds. */
  judgedLatency: 'loadtest_judged_latency_seconds',
  /** Gauge: 1 when an endpoint passed the verdict, 0 when it breached; set when the run ends. */
  endpointPassed: 'loadtest_endpoint_passed',
  /** Gauge: 1 when the whole run passed, 0 when it breached; set when the run ends. */
  runPassed: 'loadtest_run_passed',
  /** Gauge: 1 while the run is sending load, 0 once it ended. */
  runActive: 'loadtest_run_active',
} as const;

/** Labels of the pushed results besides LABELS' route, method and status. */
export const LOADTEST_LABELS = { scenario: 'scenario', endpoint: 'endpoint' } as const;
