/**
 * The PromQL of the incident tools, in one place: what `investigate` measures, what `verify` judges and what `report`
 * reads for the incident window. Names and lines come from contract/; the helpers are the dashboards' own.
 */
import { CACHES, HOT_QUERIES, LABELS, METRICS, POPULAR_ROUTE, STATUS_ROUTE, THRESHOLDS, type RouteTemplate } from '../../contract';
import { SERVICE, quantile, rate, serverErrorRatio } from '../../monitoring/grafana/dashboards/common';

const routeSelector = (route: string) => `${SERVICE},${LABELS.route}="${route}"`;
/**
 * The bucket at the latency line. Prometheus 3 writes scraped `le` values as floats (`1.0`), 2.x as exposed (`1`);
 * the selector matches both.
 */
const lineBucket = Number.isInteger(THRESHOLDS.latencySeconds)
  ? `le=~"${THRESHOLDS.latencySeconds}(\\\\.0)?"`
  : `le="${THRESHOLDS.latencySeconds}"`;

export const Q = {
  serviceUp: `max(up{${SERVICE}})`,
  routeP95: (route: string, window: string) => quantile(THRESHOLDS.latencyQuantile, METRICS.httpDuration, routeSelector(route), window),
  routeErrorRatio: (route: string, window: string) => serverErrorRatio(`${LABELS.route}="${route}"`, window),
  serviceErrorRatio: (window: string) => serverErrorRatio('', window),
  /** Share of the route's requests slower than the latency line (the histogram has a bucket exactly at it). */
  routeOverLineRatio: (route: string, window: string) =>
    `1 - sum(${rate(`${METRICS.httpDuration}_bucket`, `${routeSelector(route)},${lineBucket}`, window)}) / sum(${rate(`${METRICS.httpDuration}_count`, routeSelector(route), window)})`,
  routeRequests: (route: string, window: string) => `sum(increase(${METRICS.httpDuration}_count{${routeSelector(route)}}[${window}]))`,
  routeErrors: (route: string, window: string) =>
    `sum(increase(${METRICS.httpDuration}_count{${routeSelector(route)},${LABELS.status}=~"5.."}[${window}])) or vector(0)`,
  routeOverLine: (route: string, window: string) =>
    `sum(increase(${METRICS.httpDuration}_count{${routeSelector(route)}}[${window}])) - sum(increase(${METRICS.httpDuration}_bucket{${routeSelector(route)},${lineBucket}}[${window}]))`,
  popularCacheHitRatio: (window: string) =>
    `sum(${rate(METRICS.cacheRequests, `${SERVICE},${LABELS.cache}="${CACHES.popular}",${LABELS.cacheResult}="hit"`, window)}) / sum(${rate(METRICS.cacheRequests, `${SERVICE},${LABELS.cache}="${CACHES.popular}"`, window)})`,
  queryP95: (query: string, window: string) => quantile(THRESHOLDS.latencyQuantile, METRICS.dbQueryDuration, `${SERVICE},${LABELS.query}="${query}"`, window),
  poolUsage: `max(${METRICS.dbPoolConnections}{${SERVICE},${LABELS.poolState}="in_use"}) / max(${METRICS.dbPoolMax}{${SERVICE}})`,
  poolWaiting: `max(${METRICS.dbPoolConnections}{${SERVICE},${LABELS.poolState}="waiting"})`,
  dbUp: `min(${METRICS.dbUp}{${SERVICE}})`,
  redisConnected: `min(${METRICS.redisConnected}{${SERVICE}})`,
  // postgres-exporter (default collectors; the statements need --collector.stat_statements and pg_stat_statements).
  pgConnections: 'sum by (state) (pg_stat_activity_count)',
  pgMaxConnections: 'max(pg_settings_max_connections)',
  pgLocks: 'sum by (mode) (pg_locks_count) > 0',
  pgLongestTransaction: 'max(pg_stat_activity_max_tx_duration)',
  pgSlowestStatements: (window: string) =>
    `topk(5, rate(pg_stat_statements_seconds_total[${window}]) / rate(pg_stat_statements_calls_total[${window}]) > 0)`,
  // redis-exporter
  redisUp: 'max(redis_up)',
  redisClients: 'max(redis_connected_clients)',
  redisMemory: 'max(redis_memory_used_bytes)',
  /** The service's alerts that were firing at some point of the window (Prometheus' own rule state). */
  firingOver: (window: string) => `max by (alertname, severity) (max_over_time(ALERTS{alertstate="firing",service="orders"}[${window}]))`,
} as const;

/** The guide's two named routes, judged by their p95 against the line. */
export const NAMED_ROUTES: readonly RouteTemplate[] = [POPULAR_ROUTE, STATUS_ROUTE];
export const HOT_QUERY_NAMES: readonly string[] = [...HOT_QUERIES.popular, ...HOT_QUERIES.status];
