import { LATENCY_THRESHOLD_SECONDS } from './slo';

/**
 * Every number the alert rules compare against, in one place. Dashboards draw these lines and the load tests
 * judge their runs by them; none of them is typed anywhere else.
 */
export const THRESHOLDS = {
  /** The incident guide's line: the named endpoints must answer within this. */
  latencySeconds: LATENCY_THRESHOLD_SECONDS,
  /** The share of requests that must be within the line (p95). */
  latencyQuantile: 0.95,
  /** Below this request rate (per second) a route's latency or error ratio pages no one. */
  minRequestsPerSecond: 0.1,
  /** Share of all API requests failing with 5xx that makes the whole service an incident. */
  serviceErrorRatio: 0.2,
  /** Share of one key route's requests failing with 5xx. */
  routeErrorRatio: 0.05,
  /** Share of the PostgreSQL pool in use, sustained. */
  poolUsageRatio: 0.8,
  /** Popular-ranking cache: share of look-ups served from Redis. */
  cacheHitRatio: 0.5,
  /** A hot query this slow (p95) is the early warning for the latency incident: a quarter of the line. */
  queryLatencySeconds: LATENCY_THRESHOLD_SECONDS / 4,
  /** Event loop lag p99 at which every request is delayed. */
  eventLoopLagSeconds: 0.2,
} as const;

/** Rate windows and `for` durations: short enough to page within minutes, long enough to ignore a blip. */
export const WINDOWS = {
  requests: '2m',
  cache: '10m',
  saturation: '5m',
} as const;
