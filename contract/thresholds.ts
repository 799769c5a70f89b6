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
  /**
   * Availability signals (up, probe_success, db_up, redis_connected) page when, over WINDOWS.availability, at most
   * this share of samples were good: a crash loop (down 75 % of the time) pages, one failed scrape never does.
   */
  availabilityRatio: 0.5,
} as const;

/**
 * Rate windows and `for` durations: short enough to page within minutes, long enough to ignore a blip, and a short
 * confirmation window so an alert stops (and no new one starts) soon after its symptom stops.
 * Durations in Prometheus' notation; the scrape and evaluation interval is 15 s (monitoring/prometheus/prometheus.yml).
 */
export const WINDOWS = {
  /** The window whose value a request alert reports (ratio, p95). */
  requests: '2m',
  /** The symptom is still there now: the same condition over this short window must hold too. */
  confirm: '30s',
  /** `for` of request alerts (latency, errors): longer than a 20 s blip plus the confirmation window. */
  requestsFor: '45s',
  /** Availability signals are averaged over this window (see THRESHOLDS.availabilityRatio). */
  availability: '90s',
  /** Monitoring's own targets: averaged over a longer window, nobody's shopping is hit. */
  monitoringAvailability: '5m',
  cache: '10m',
  saturation: '5m',
  /** `for` of the saturation and early-warning alerts. */
  saturationFor: '2m',
  /** Window of the event-loop lag alert: lag over the line at every scrape for this long. */
  eventLoop: '2m',
} as const;

/** Seconds in a Prometheus duration such as `90s`, `2m`, `1h`. */
export function durationSeconds(duration: string): number {
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  const match = /^(\d+)([smhd])$/.exec(duration);
  if (!match) throw new Error(`not a simple Prometheus duration: ${duration}`);
  return Number(match[1]) * units[match[2]!]!;
}

/**
 * Service level objectives, judged over SLO_PERIOD (Google SRE workbook ch. 5). The error budget is 1 − objective.
 * availability: share of API requests not answered 5xx. latency: per named route, share of requests answered within
 * LATENCY_THRESHOLD_SECONDS (the histogram's bucket at the threshold).
 */
export const SLO_PERIOD = '30d';
export const SLOS = {
  availability: { objective: 0.999 },
  latency: { objective: 0.99 },
} as const;

/**
 * Multi-window, multi-burn-rate alerting (workbook table 5-8): a page when the budget burns `burnRate` times too
 * fast over both the long and the short window; a ticket at 1× over 3 d and 6 h.
 */
export const BURN_RATE_WINDOWS = {
  page: [
    { long: '1h', short: '5m', burnRate: 14.4 },
    { long: '6h', short: '30m', burnRate: 6 },
  ],
  ticket: [{ long: '3d', short: '6h', burnRate: 1 }],
} as const;
