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
} as const;

/** Prometheus job of the service's scrape target. */
export const JOB = 'orders';
