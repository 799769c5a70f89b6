/**
 * Names of the service's metrics and their labels: what alert rules, recording rules and dashboards select on.
 * The service registers its metrics under exactly these names (service/src/telemetry/metrics.ts).
 */
export const METRICS = {
  httpDuration: 'http_server_request_duration_seconds',
  httpActive: 'http_server_active_requests',
  rateLimited: 'http_server_rate_limited_total',
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
