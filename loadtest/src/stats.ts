/**
 * Pure arithmetic of a run: percentiles, per-second buckets, per-endpoint summaries and the verdict against the
 * thresholds of alerting/thresholds.ts. No I/O here, so every number in a report can be unit tested.
 */

/** One answered request. */
export interface Sample {
  /** Completion time, ms since the run started. */
  t: number;
  /** From writing the request to the last byte of the answer, ms (autocannon's responseTime). */
  latencyMs: number;
  status: number;
  /** `error.code` of a 4xx/5xx JSON body, when there is one. */
  code?: string;
}

/** A request that got no HTTP answer: connection error, reset or timeout. */
export interface ErrorSample {
  t: number;
  timeout: boolean;
}

/** Everything recorded for one endpoint during a run. */
export interface EndpointRecord {
  /** Send times, ms since the run started. */
  sent: number[];
  samples: Sample[];
  errors: ErrorSample[];
}

export const emptyRecord = (): EndpointRecord => ({ sent: [], samples: [], errors: [] });

/**
 * The p-th percentile (0 < p ≤ 100) of ascending values by the nearest-rank method: the smallest value with at least
 * p % of the values at or below it. `null` for no values.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export function summariseLatencies(latencies: readonly number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : null,
    mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null,
  };
}

/** One second of one endpoint: what was sent and answered in [second, second + 1) s after the start. */
export interface SecondBucket {
  second: number;
  sent: number;
  responses: number;
  errors: number;
  status5xx: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * Buckets an endpoint's record by the second in which each request was sent / answered / failed; `seconds` is the
 * minimum number of buckets (more when something was recorded later), so every endpoint of a run shares the x axis.
 */
export function bucketBySecond(record: EndpointRecord, seconds: number): SecondBucket[] {
  const index = (t: number) => Math.max(0, Math.floor(t / 1000));
  const last = Math.max(
    Math.ceil(seconds) - 1,
    ...record.sent.map(index),
    ...record.samples.map((s) => index(s.t)),
    ...record.errors.map((e) => index(e.t)),
  );
  const latencies: number[][] = [];
  const buckets: SecondBucket[] = [];
  for (let second = 0; second <= last; second++) {
    latencies.push([]);
    buckets.push({ second, sent: 0, responses: 0, errors: 0, status5xx: 0, p50: null, p95: null, p99: null, max: null });
  }
  for (const t of record.sent) buckets[index(t)]!.sent++;
  for (const e of record.errors) buckets[index(e.t)]!.errors++;
  for (const s of record.samples) {
    const b = buckets[index(s.t)]!;
    b.responses++;
    if (s.status >= 500) b.status5xx++;
    latencies[index(s.t)]!.push(s.latencyMs);
  }
  buckets.forEach((b, i) => {
    const summary = summariseLatencies(latencies[i]!);
    Object.assign(b, { p50: summary.p50, p95: summary.p95, p99: summary.p99, max: summary.max });
  });
  return buckets;
}

/** What summariseEndpoint needs to know about the endpoint. */
export interface EndpointInfo {
  id: string;
  name: string;
  method: string;
  route: string;
  targetRate: number;
  expectedRejections?: readonly string[];
}

export interface EndpointStats extends EndpointInfo {
  sent: number;
  responses: number;
  /** Requests sent per second over the run: the arrival rate actually offered. */
  offeredRate: number;
  /** Answers per second over the run. */
  throughput: number;
  latency: LatencySummary;
  /** The percentile the threshold judges (THRESHOLDS.latencyQuantile), ms. */
  judged: { quantile: number; ms: number | null };
  /** No HTTP answer (connection errors, resets, timeouts). */
  errors: number;
  timeouts: number;
  status2xx: number;
  status4xx: number;
  /** 409s whose error code the endpoint expects (e.g. OUT_OF_STOCK): business behaviour, part of status4xx. */
  expected4xx: number;
  status5xx: number;
  /** 1xx/3xx. */
  statusOther: number;
  /** Answers by status (and error code when the body had one), e.g. `200`, `409 OUT_OF_STOCK`. */
  statusCodes: Record<string, number>;
  /** (5xx + errors) / (answers + errors): what the error threshold judges. */
  failureRatio: number;
}

export function summariseEndpoint(
  info: EndpointInfo,
  record: EndpointRecord,
  measuredSeconds: number,
  quantile: number,
): EndpointStats {
  const latencies = record.samples.map((s) => s.latencyMs);
  const sorted = [...latencies].sort((a, b) => a - b);
  const statusCodes: Record<string, number> = {};
  let status2xx = 0, status4xx = 0, status5xx = 0, statusOther = 0, expected4xx = 0;
  for (const s of record.samples) {
    const key = s.code && s.status >= 400 ? `${s.status} ${s.code}` : String(s.status);
    statusCodes[key] = (statusCodes[key] ?? 0) + 1;
    if (s.status >= 200 && s.status < 300) status2xx++;
    else if (s.status >= 400 && s.status < 500) {
      status4xx++;
      if (s.status === 409 && s.code !== undefined && info.expectedRejections?.includes(s.code)) expected4xx++;
    } else if (s.status >= 500) status5xx++;
    else statusOther++;
  }
  const errors = record.errors.length;
  const attempts = record.samples.length + errors;
  const seconds = measuredSeconds > 0 ? measuredSeconds : 1;
  return {
    ...info,
    sent: record.sent.length,
    responses: record.samples.length,
    offeredRate: record.sent.length / seconds,
    throughput: record.samples.length / seconds,
    latency: summariseLatencies(latencies),
    judged: { quantile, ms: percentile(sorted, quantile * 100) },
    errors,
    timeouts: record.errors.filter((e) => e.timeout).length,
    status2xx,
    status4xx,
    expected4xx,
    status5xx,
    statusOther,
    statusCodes,
    failureRatio: attempts > 0 ? (status5xx + errors) / attempts : 0,
  };
}

/** The numbers a run is judged by: alerting/thresholds.ts, never typed here. */
export interface Thresholds {
  latencySeconds: number;
  latencyQuantile: number;
  routeErrorRatio: number;
}

export interface EndpointVerdict {
  pass: boolean;
  /** Why it failed, one line each; empty when it passed. */
  reasons: string[];
}

export const formatMs = (ms: number | null): string =>
  ms === null ? '—' : ms >= 100 ? String(Math.round(ms)) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
export const formatPercent = (ratio: number): string => `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 3 : 1)} %`;

/**
 * An endpoint fails when its latency at THRESHOLDS.latencyQuantile is over THRESHOLDS.latencySeconds (the alert's `>`),
 * when over THRESHOLDS.routeErrorRatio of its requests fail with 5xx or get no answer, or when nothing was answered.
 */
export function evaluateEndpoint(stats: EndpointStats, thresholds: Thresholds): EndpointVerdict {
  const reasons: string[] = [];
  const label = `p${Math.round(thresholds.latencyQuantile * 100)}`;
  const limitMs = thresholds.latencySeconds * 1000;
  if (stats.judged.quantile !== thresholds.latencyQuantile) {
    throw new Error(`stats judged at ${stats.judged.quantile}, thresholds ask ${thresholds.latencyQuantile}`);
  }
  const judgedMs = stats.judged.ms;
  if (stats.responses === 0) reasons.push('no request was answered');
  if (judgedMs !== null && judgedMs > limitMs) {
    reasons.push(`${label} ${formatMs(judgedMs)} ms > ${limitMs} ms (${thresholds.latencySeconds} s)`);
  }
  if (stats.failureRatio > thresholds.routeErrorRatio) {
    reasons.push(
      `5xx and errors ${formatPercent(stats.failureRatio)} > ${formatPercent(thresholds.routeErrorRatio)} (${stats.status5xx} 5xx, ${stats.errors} without answer)`,
    );
  }
  return { pass: reasons.length === 0, reasons };
}

/** Offered below this share of the target rate, the run is flagged: the generator fell behind (coordinated omission). */
export const RATE_HELD_RATIO = 0.9;

/** Notes a reader must see next to the numbers: rate not held, unexpected 4xx, requests left unanswered at the end. */
export function endpointNotes(stats: EndpointStats, measuredSeconds: number): string[] {
  const notes: string[] = [];
  const target = stats.targetRate;
  if (measuredSeconds > 0 && stats.offeredRate < RATE_HELD_RATIO * target) {
    notes.push(
      `\`${stats.name}\`: offered ${stats.offeredRate.toFixed(1)} req/s of the target ${target} req/s — answers were slower than the generator's connections allow (1 request per connection per second), so the run became closed-loop and its latencies are a lower bound (coordinated omission).`,
    );
  }
  const unexpected4xx = stats.status4xx - stats.expected4xx;
  if (stats.responses > 0 && unexpected4xx / stats.responses > 0.01) {
    const codes = Object.entries(stats.statusCodes)
      .filter(([key]) => key.startsWith('4') && !stats.expectedRejections?.some((c) => key === `409 ${c}`))
      .map(([key, n]) => `${key} ×${n}`)
      .join(', ');
    notes.push(`\`${stats.name}\`: ${unexpected4xx} unexpected 4xx answers (${codes}) — check the scenario's ids (--users) against the data.`);
  }
  const unanswered = stats.sent - stats.responses - stats.errors;
  if (unanswered > 0 && unanswered > 0.01 * stats.sent) {
    notes.push(`\`${stats.name}\`: ${unanswered} requests were still in flight when the run stopped (not counted in the latencies).`);
  }
  return notes;
}
