import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DB_QUERY_BUCKETS_SECONDS, HTTP_DURATION_BUCKETS_SECONDS } from '../../../contract/slo';
import { DB_ERROR_KINDS, LABELS, METRICS } from '../../../contract/metrics';

export type CacheResult = 'hit' | 'miss' | 'error';

/**
 * Every metric the service exposes. Names and labels are the contract the alert rules and dashboards depend on;
 * no label ever carries an id, so the series count stays bounded.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named *_total break the exposition format's conventions (promtool check metrics); their per-type
  // siblings (nodejs_active_handles{type} …) carry the same information.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }

  const httpDuration = new Histogram({
    name: METRICS.httpDuration,
    help: 'Duration of HTTP requests served by the public API, by route template and response status.',
    labelNames: [LABELS.method, LABELS.route, LABELS.status] as const,
    buckets: HTTP_DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });
  const httpActive = new Gauge({
    name: METRICS.httpActive,
    help: 'HTTP requests of the public API in flight.',
    registers: [registry],
  });
  const parserRejected = new Counter({
    name: METRICS.parserRejected,
    help: "Requests to the public API that Node's HTTP server rejected before the app saw them (400 malformed, 408 not received in time, 431 headers too large), by status.",
    labelNames: [LABELS.status] as const,
    registers: [registry],
  });
  const cacheRequests = new Counter({
    name: METRICS.cacheRequests,
    help: 'Cache look-ups by cache name and result (hit, miss, error).',
    labelNames: ['cache', 'result'] as const,
    registers: [registry],
  });
  const dbQueryDuration = new Histogram({
    name: METRICS.dbQueryDuration,
    help: 'Duration of named database queries and transactions.',
    labelNames: ['query', 'outcome'] as const,
    buckets: DB_QUERY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const dbPoolConnections = new Gauge({
    name: METRICS.dbPoolConnections,
    help: 'Database pool connections by state (in_use, idle) and requests waiting for one (waiting).',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const dbPoolMax = new Gauge({
    name: METRICS.dbPoolMax,
    help: 'Configured maximum size of the database pool.',
    registers: [registry],
  });
  const dbUp = new Gauge({
    name: METRICS.dbUp,
    help: '1 when the last database check of the readiness probe succeeded, 0 otherwise.',
    registers: [registry],
  });
  const dbErrors = new Counter({
    name: METRICS.dbErrors,
    help: `Requests the database could not serve, by kind: ${DB_ERROR_KINDS.join(', ')}.`,
    labelNames: [LABELS.dbErrorKind] as const,
    registers: [registry],
  });
  // Every kind exported from the start at 0, so rate() and absent-series alerts see a series before the first failure.
  for (const kind of DB_ERROR_KINDS) dbErrors.labels(kind).inc(0);
  const redisConnected = new Gauge({
    name: METRICS.redisConnected,
    help: '1 when the Redis client is connected and ready, 0 otherwise.',
    registers: [registry],
  });
  const ordersCreated = new Counter({
    name: METRICS.ordersCreated,
    help: 'Orders placed and paid.',
    registers: [registry],
  });
  const ordersCancelled = new Counter({
    name: METRICS.ordersCancelled,
    help: 'Orders cancelled.',
    registers: [registry],
  });
  const ordersRejected = new Counter({
    name: METRICS.ordersRejected,
    help: 'Order placements refused for a business reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  const faultDrillActive = new Gauge({
    name: METRICS.faultDrillActive,
    help: '1 while an incident drill is active (FAULTS_ENABLED): popular_latency, status_latency, popular_cache_bypass, route_errors.',
    labelNames: ['drill'] as const,
    registers: [registry],
  });
  const rateLimitRequestsPerSecond = new Gauge({
    name: METRICS.rateLimitSetting,
    help: 'Traffic limit of the public API set by a responder; 0 when traffic limiting is off.',
    registers: [registry],
  });
  const rateLimitedRequests = new Counter({
    name: METRICS.rateLimited,
    help: 'Requests refused with 429 by traffic limiting, by route template.',
    labelNames: ['http_route'] as const,
    registers: [registry],
  });

  return {
    registry,
    faultDrillActive,
    rateLimitRequestsPerSecond,
    rateLimitedRequests,
    httpDuration,
    httpActive,
    parserRejected,
    cacheRequests,
    dbQueryDuration,
    dbPoolConnections,
    dbPoolMax,
    dbUp,
    dbErrors,
    redisConnected,
    ordersCreated,
    ordersCancelled,
    ordersRejected,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
