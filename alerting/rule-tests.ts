import { stringify } from 'yaml';
import { BURN_RATE_WINDOWS, KEY_ROUTES, POPULAR_ROUTE, SLOS, STATUS_ROUTE, THRESHOLDS as T, WINDOWS as W, durationSeconds } from '../contract';
import { ALERTS, type AlertDefinition } from './catalog';
import { annotations, GENERATED_HEADER, RULE_GROUPS, ruleLabels } from './rules-yaml';

/**
 * promtool unit tests for every alert, generated with the rules: cases where it fires, with the exact labels and
 * annotations the page will carry, and cases where it must stay quiet (just under the line, too little traffic, a
 * blip, a single failed scrape, after the fault cleared).
 *
 * Catalog-wide truth of annotations: every branch of every alert's expression (top-level `or`) needs a firing case,
 * and each firing case states the quantity its description names computed HERE from the input series (an oracle
 * independent of the rule), so a `$value` that is something else on some branch (absent()'s 1, a count instead of a
 * ratio) fails promtool. Inputs are built from the thresholds and windows, so moving one moves the tests with it.
 */
export const RULE_TESTS_FILE = 'alerting/tests/orders.rules.test.yml';

const STEP_SECONDS = 15; // the scrape and evaluation interval of prometheus.yml
const MINUTES = 40;
const SAMPLES = (MINUTES * 60) / STEP_SECONDS;

interface Series {
  series: string;
  values: string;
  /** The sample values, for the oracles below. */
  samples: number[];
}

interface Firing {
  /** The quantity the description names, computed from the input; rendered as the annotation shows it. */
  value: number;
  labels?: Record<string, string>;
}

interface Case {
  name: string;
  series: Series[];
  /** Minutes after the start at which the rule is evaluated (several: at each of them). */
  at: number | number[];
  /** Which top-level `or` branch of the expression this case exercises (0 unless said). */
  branch?: number;
  /** Sample and evaluation interval in seconds (default 15); 300 for the 3-day ticket cases (a separate file). */
  step?: number;
  /** When it fires: what the page states, per evaluation time; omitted when it must stay quiet at every `at`. */
  fires?: (minute: number) => Firing | undefined;
}

const selector = (labels: Record<string, string>) =>
  `{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
const series = (name: string, labels: Record<string, string>, samples: number[]): Series => ({
  series: `${name}${selector(labels)}`,
  values: samples.map((v) => String(Math.round(v * 1000) / 1000)).join(' '),
  samples,
});
const minuteOf = (i: number) => (i * STEP_SECONDS) / 60;

/** A counter whose increase per second follows `ratePerSecond(minute)`. */
function counter(name: string, labels: Record<string, string>, ratePerSecond: (minute: number) => number): Series {
  const values: number[] = [];
  let total = 0;
  for (let i = 0; i <= SAMPLES; i++) {
    values.push(total);
    total += ratePerSecond(minuteOf(i)) * STEP_SECONDS;
  }
  return series(name, labels, values);
}

/** A gauge holding `value(minute)` at each scrape. */
const gauge = (name: string, labels: Record<string, string>, value: (minute: number, index: number) => number) =>
  series(name, labels, Array.from({ length: SAMPLES + 1 }, (_, i) => value(minuteOf(i), i)));

/** avg_over_time of a gauge at `minute` over `window`, as promtool 2.42 computes it (window closed at both ends). */
function avgOverTime(s: Series, minute: number, window: string): number {
  const end = Math.round((minute * 60) / STEP_SECONDS);
  const start = Math.max(0, end - durationSeconds(window) / STEP_SECONDS);
  const inside = s.samples.slice(start, end + 1);
  return inside.reduce((a, b) => a + b, 0) / inside.length;
}
const minOverTime = (s: Series, minute: number, window: string) => {
  const end = Math.round((minute * 60) / STEP_SECONDS);
  return Math.min(...s.samples.slice(Math.max(0, end - durationSeconds(window) / STEP_SECONDS), end + 1));
};

const BUCKETS = [0.1, 0.5, 0.75, 1, 2.5];

/**
 * A histogram at `rps` requests per second where `share(le)` of them are at or below each bucket bound
 * (cumulative shares; the last bucket and +Inf hold everything).
 */
function histogram(base: string, labels: Record<string, string>, rps: (minute: number) => number, share: (le: number, minute: number) => number): Series[] {
  return [
    ...BUCKETS.map((le) => counter(`${base}_bucket`, { ...labels, le: String(le) }, (m) => rps(m) * share(le, m))),
    counter(`${base}_bucket`, { ...labels, le: '+Inf' }, rps),
    counter(`${base}_count`, labels, rps),
  ];
}

/** Shares of a latency distribution: `slow` of requests between 1 s and 2.5 s, the rest fast (≤ `fastLe`). */
const latency = (slow: number, fastLe = 0.1) => (le: number) => (le >= 2.5 ? 1 : le >= fastLe ? 1 - slow : 0);

/** histogram_quantile for the latency() shape above, computed here to state the expected value independently. */
function expectedQuantile(slow: number, fastLe: number): number {
  const q = T.latencyQuantile;
  if (q <= 1 - slow) {
    const lower = BUCKETS[BUCKETS.indexOf(fastLe) - 1] ?? 0;
    return lower + (fastLe - lower) * (q / (1 - slow));
  }
  return 1 + 1.5 * ((q - (1 - slow)) / slow);
}

const always = (value: number) => () => value;
const during = (from: number, to: number, inside: number, outside: number) => (m: number) => (m >= from && m < to ? inside : outside);
/** Evaluation times every 15 s from `from` to `to` minutes. */
const every = (from: number, to: number) => Array.from({ length: Math.round((to - from) * 4) + 1 }, (_, i) => from + i / 4);
const requestLabels = (route: string, status: string, method = 'GET') => ({
  job: 'orders',
  http_request_method: method,
  http_route: route,
  http_response_status_code: status,
});

/** The incident guide's crash loop: down three scrapes, up one, repeating from `from` minutes. */
const crashLoop = (from: number) => (m: number, i: number) => (m < from ? 1 : (i - from * 4) % 4 === 3 ? 1 : 0);

const forSeconds = (alert: string) => durationSeconds(ALERTS.find((a) => a.name === alert)!.for ?? '0s');

function availabilityCases(metric: string, labels: Record<string, string>, window: string = W.availability): Case[] {
  const windowMinutes = durationSeconds(window) / 60;
  const loop = gauge(metric, labels, crashLoop(2));
  const down = gauge(metric, labels, (m) => (m < 5 ? 1 : 0));
  const cases: Case[] = [
    { name: 'down for good: fires with its success ratio', at: [5 + windowMinutes, 10], series: [down],
      fires: (m) => ({ value: avgOverTime(down, m, window), labels }) },
    { name: 'crash loop (down 3 scrapes of 4): fires at every evaluation from one window in, within 5 min', at: every(2 + windowMinutes, 12), series: [loop],
      fires: (m) => ({ value: avgOverTime(loop, m, window), labels }) },
    { name: 'one failed sample: quiet at every evaluation', at: every(4, 10), series: [gauge(metric, labels, (_, i) => (i === 20 ? 0 : 1))] },
    { name: 'two failed samples in a row: quiet at every evaluation', at: every(4, 10), series: [gauge(metric, labels, (_, i) => (i === 20 || i === 21 ? 0 : 1))] },
    { name: `back after a ${windowMinutes * 2}-minute outage: quiet from half a window on`, at: every(5 + windowMinutes * 2 + windowMinutes / 2 + 0.25, 15),
      series: [gauge(metric, labels, during(5, 5 + windowMinutes * 2, 0, 1))] },
  ];
  return cases;
}

function latencyCases(alertname: string, route: string): Case[] {
  const base = 'http_server_request_duration_seconds';
  const labels = requestLabels(route, '200');
  const busy = 1;
  const quiet = T.minRequestsPerSecond / 2;
  const forMinutes = forSeconds(alertname) / 60;
  const blip = (from: number, seconds: number) => (le: number, m: number) => latency(m >= from && m < from + seconds / 60 ? 1 : 0)(le);
  const cases: Case[] = [
    { name: 'slow under steady traffic: fires', at: 10, series: histogram(base, labels, always(busy), latency(0.2)),
      fires: () => ({ value: expectedQuantile(0.2, 0.1) }) },
    // Every request slow from minute 5: the first scrape shows it at 5:15, `for` later it fires (+ group_wait ≤ 90 s).
    { name: `every request slow from minute 5: firing ${forMinutes * 60 + 15} s later`, at: 5 + forMinutes + 0.25,
      series: histogram(base, labels, always(busy), (le, m) => latency(m >= 5 ? 1 : 0)(le)),
      fires: () => ({ value: expectedQuantile((forMinutes + 0.25) / 2, 0.1) }) },
    { name: 'p95 just under the threshold: quiet', at: 10, series: histogram(base, labels, always(busy), latency(0.03, 1)) },
    { name: 'every request slow but traffic under the guard: quiet', at: 10, series: histogram(base, labels, always(quiet), latency(1)) },
    { name: 'a 20-second blip: quiet at every evaluation', at: every(5, 9), series: histogram(base, labels, always(busy), blip(5, 20)) },
    { name: 'fault cleared at minute 10: quiet from 30 s after', at: every(10.5, 14), series: histogram(base, labels, always(busy), (le, m) => latency(m >= 5 && m < 10 ? 1 : 0)(le)) },
  ];
  return cases;
}

function errorSeries(route: string, method: string, rps: number, errorShare: (m: number) => number): Series[] {
  return [
    counter('http_server_request_duration_seconds_count', requestLabels(route, '200', method), (m) => rps * (1 - errorShare(m))),
    counter('http_server_request_duration_seconds_count', requestLabels(route, '500', method), (m) => rps * errorShare(m)),
  ];
}

function cacheSeries(rps: number, hitShare: (m: number) => number): Series[] {
  const labels = (result: string) => ({ job: 'orders', cache: 'popular_products', result });
  return [
    counter('cache_requests_total', labels('hit'), (m) => rps * hitShare(m)),
    counter('cache_requests_total', labels('miss'), (m) => rps * (1 - hitShare(m))),
  ];
}

const prometheusStarted = gauge('process_start_time_seconds', { job: 'prometheus' }, always(0));
const lag = (value: (m: number) => number) => gauge('nodejs_eventloop_lag_p99_seconds', { job: 'orders' }, value);
const lagSeries = lag((m) => (m >= 3 ? T.eventLoopLagSeconds * 2 + (m % 1) / 10 : 0.01));

// ---------------------------------------------------------------------------------------------------------------
// SLO burn-rate cases: hours to days of samples, written in promtool's expanding notation (`start+stepxN`).

/** A counter as segments: `perStep` increase per 15 s sample for `steps` samples; `reset` restarts it at 0 (a restart). */
interface Segment {
  perStep: number;
  steps: number;
  reset?: boolean;
  /** Samples missing (the process was down), then it restarts at 0. */
  gap?: boolean;
}

function segmentsSeries(name: string, labels: Record<string, string>, segments: Segment[], step = STEP_SECONDS): Series & { step: number; at: (index: number) => number | undefined } {
  const parts: string[] = [];
  const values: (number | undefined)[] = [];
  let value = 0;
  for (const segment of segments) {
    if (segment.gap) {
      parts.push(`_x${segment.steps}`);
      for (let i = 0; i < segment.steps; i++) values.push(undefined);
      value = 0;
      continue;
    }
    if (segment.reset) value = 0;
    parts.push(`${value}+${segment.perStep}x${segment.steps - 1}`);
    for (let i = 0; i < segment.steps; i++) values.push(value + segment.perStep * i);
    value += segment.perStep * segment.steps;
  }
  return { series: `${name}${selector(labels)}`, values: parts.join(' '), samples: [], step, at: (index) => values[index] };
}

const STEPS_PER_MINUTE = 60 / STEP_SECONDS;
const sloLabels = (status: string, route = '/api/products') => requestLabels(route, status);
/** Requests of one route at `rps`, a share `bad(minute)` of them 5xx, for `minutes`, minute by minute. */
function availabilitySeries(rps: number, bad: (minute: number) => number, minutes: number, route?: string, step = STEP_SECONDS) {
  const perMinute = (share: (m: number) => number) => perInterval(minutes, step, (m) => rps * step * share(m));
  return [
    segmentsSeries('http_server_request_duration_seconds_count', sloLabels('200', route), perMinute((m) => 1 - bad(m)), step),
    segmentsSeries('http_server_request_duration_seconds_count', sloLabels('500', route), perMinute(bad), step),
  ];
}
/** Segments of one sample interval each over `minutes` (merged), with `increase(minute)` per sample. */
const perInterval = (minutes: number, step: number, increase: (minute: number) => number) =>
  merge(Array.from({ length: (minutes * 60) / step }, (_, i) => ({ perStep: increase((i * step) / 60), steps: 1 })));
/** Adjacent segments with the same slope become one (keeps the test file small). */
function merge(segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && !last.gap && !s.gap && !s.reset && last.perStep === s.perStep) last.steps += s.steps;
    else out.push({ ...s });
  }
  return out;
}
/** Δbad / Δtotal between two steps: the oracle for a bad-share recording rule over a window (no extrapolation: aligned samples). */
function badShare(good: ReturnType<typeof segmentsSeries>, bad: ReturnType<typeof segmentsSeries>, minute: number, window: string): number {
  const end = Math.round((minute * 60) / good.step);
  const start = Math.max(0, end - durationSeconds(window) / good.step); // a window not yet full: the samples there are
  const dBad = bad.at(end)! - bad.at(start)!;
  return dBad / (dBad + good.at(end)! - good.at(start)!);
}
/** A latency histogram of one route: `slow(minute)` of `rps` above the threshold bucket, labelled `le` as `thresholdLe`. */
function latencySeries(route: string, rps: number, slow: (minute: number) => number, minutes: number, thresholdLe = '1', step = STEP_SECONDS) {
  const labels = { ...requestLabels(route, '200') };
  const perMinute = (share: (m: number) => number) => perInterval(minutes, step, (m) => rps * step * share(m));
  const fast = segmentsSeries('http_server_request_duration_seconds_bucket', { ...labels, le: thresholdLe }, perMinute((m) => 1 - slow(m)), step);
  const all = segmentsSeries('http_server_request_duration_seconds_count', labels, perMinute(() => 1), step);
  return { fast, all, series: [fast, segmentsSeries('http_server_request_duration_seconds_bucket', { ...labels, le: '+Inf' }, perMinute(() => 1), step), all] };
}
const slowShare = (h: ReturnType<typeof latencySeries>, minute: number, window: string) => {
  const end = Math.round((minute * 60) / h.all.step);
  const start = Math.max(0, end - durationSeconds(window) / h.all.step);
  return 1 - (h.fast.at(end)! - h.fast.at(start)!) / (h.all.at(end)! - h.all.at(start)!);
};

const FAULT = 180; // minutes: the 1 h windows are full (the 6 h ones are not yet, so only the 1 h pair is judged)
const sloCases = (): Record<string, Case[]> => {
  const pageAvail = BURN_RATE_WINDOWS.page;
  const budgetA = 1 - SLOS.availability.objective;
  const budgetL = 1 - SLOS.latency.objective;
  // 100 % errors from FAULT: the 1 h window holds burnRate × budget of bad requests after this many seconds.
  const detectA = durationSeconds(pageAvail[0].long) * pageAvail[0].burnRate * budgetA;
  const detectL = durationSeconds(pageAvail[0].long) * pageAvail[0].burnRate * budgetL;
  const TICKET_STEP = 300;
  const firstStepAfter = (seconds: number) => FAULT + (Math.floor(seconds / STEP_SECONDS) + 1) / STEPS_PER_MINUTE;
  const lastStepBefore = (seconds: number) => FAULT + Math.floor(seconds / STEP_SECONDS) / STEPS_PER_MINUTE;
  const outage = availabilitySeries(1, (m) => (m >= FAULT ? 1 : 0), FAULT + 20);
  const steady = availabilitySeries(1, () => budgetA * 6 * 1.5, 7 * 60 + 10, undefined, 300);
  const ticket = availabilitySeries(1, () => budgetA * 2, 3 * 24 * 60 + 10, undefined, TICKET_STEP);
  const slowAll = latencySeries(POPULAR_ROUTE, 1, (m) => (m >= FAULT ? 1 : 0), FAULT + 20);
  const slowAll3x = latencySeries(STATUS_ROUTE, 1, (m) => (m >= FAULT ? 1 : 0), FAULT + 20, '1.0');
  const latencyTicket = latencySeries(POPULAR_ROUTE, 1, () => budgetL * 2, 3 * 24 * 60 + 10, '1', TICKET_STEP);
  const quietShapes = (route?: string): Case[] => [
    { name: 'a 20-second blip of errors: quiet at every minute after', at: every(FAULT, FAULT + 30).filter((_, i) => i % 4 === 0),
      series: availabilitySeries(1, (m) => (m === FAULT ? 1 / 3 : 0), FAULT + 31, route) },
    { name: '1 request per minute, one of them failing: quiet', at: every(FAULT, FAULT + 10).filter((_, i) => i % 4 === 0),
      series: availabilitySeries(1 / 60, (m) => (m === FAULT ? 1 : 0), FAULT + 11, route) },
    { name: 'a counter reset (restart) in healthy traffic: quiet', at: every(FAULT - 1, FAULT + 10),
      series: [
        segmentsSeries('http_server_request_duration_seconds_count', sloLabels('200', route), [{ perStep: 15, steps: FAULT * STEPS_PER_MINUTE }, { perStep: 15, steps: 20 * STEPS_PER_MINUTE, reset: true }]),
        segmentsSeries('http_server_request_duration_seconds_count', sloLabels('500', route), [{ perStep: 0, steps: FAULT * STEPS_PER_MINUTE }, { perStep: 0, steps: 20 * STEPS_PER_MINUTE, reset: true }]),
      ] },
    { name: 'a restart: a minute without samples, then counters from 0: quiet', at: every(FAULT - 1, FAULT + 10),
      series: [
        segmentsSeries('http_server_request_duration_seconds_count', sloLabels('200', route), [{ perStep: 15, steps: FAULT * STEPS_PER_MINUTE }, { perStep: 0, steps: STEPS_PER_MINUTE, gap: true }, { perStep: 15, steps: 20 * STEPS_PER_MINUTE }]),
        segmentsSeries('http_server_request_duration_seconds_count', sloLabels('500', route), [{ perStep: 0, steps: FAULT * STEPS_PER_MINUTE }, { perStep: 0, steps: STEPS_PER_MINUTE, gap: true }, { perStep: 0, steps: 20 * STEPS_PER_MINUTE }]),
      ] },
  ];
  return {
    OrdersAvailabilityBudgetBurn: [
      { name: `every request failing: quiet ${Math.floor(detectA)} s in, paging at the first evaluation after the workbook's ${detectA.toFixed(1)} s`,
        at: [lastStepBefore(detectA), firstStepAfter(detectA)], series: outage,
        fires: (m) => (m > FAULT + detectA / 60 ? { value: badShare(outage[0]!, outage[1]!, m, '1h'), labels: { slo_window: '1h' } } : undefined) },
      { name: 'errors at 9× the budget for hours: the 6 h & 30 min pair pages once 6 h are recorded', at: [5 * 60 + 55, 7 * 60], step: TICKET_STEP, branch: 1, series: steady,
        fires: (m) => (m >= 6 * 60 ? { value: badShare(steady[0]!, steady[1]!, m, '6h'), labels: { slo_window: '6h' } } : undefined) },
      { name: 'a fresh stack (less than 1 h recorded): every request failing pages no burn alert yet', at: [10, 30], series: availabilitySeries(1, () => 1, 40) },
      ...quietShapes(),
    ],
    OrdersAvailabilityBudgetTicket: [
      { name: 'errors at 2× the budget for 3 days: ticket', at: 3 * 24 * 60 + 5, step: TICKET_STEP, series: ticket,
        fires: (m) => ({ value: badShare(ticket[0]!, ticket[1]!, m, '3d'), labels: { slo_window: '3d' } }) },
      { name: 'errors at half the budget for 3 days: no ticket', at: 3 * 24 * 60 + 5, step: TICKET_STEP, series: availabilitySeries(1, () => budgetA / 2, 3 * 24 * 60 + 10, undefined, TICKET_STEP) },
    ],
    OrdersLatencyBudgetBurn: [
      { name: `every popular request over the line: quiet before, paging at the first evaluation after the workbook's ${detectL.toFixed(1)} s`,
        at: [lastStepBefore(detectL), firstStepAfter(detectL)], series: slowAll.series,
        fires: (m) => (m > FAULT + detectL / 60 ? { value: slowShare(slowAll, m, '1h'), labels: { http_route: POPULAR_ROUTE, slo_window: '1h' } } : undefined) },
      { name: 'the threshold bucket as Prometheus 3 scrapes it (le="1.0"): the same', at: firstStepAfter(detectL), series: slowAll3x.series,
        fires: (m) => ({ value: slowShare(slowAll3x, m, '1h'), labels: { http_route: STATUS_ROUTE, slo_window: '1h' } }) },
      { name: 'slow at 9× the budget for hours: the 6 h & 30 min pair pages', at: 7 * 60, step: TICKET_STEP, branch: 1,
        series: latencySeries(POPULAR_ROUTE, 1, () => budgetL * 9, 7 * 60 + 10, '1', TICKET_STEP).series,
        fires: (m) => ({ value: slowShare(latencySeries(POPULAR_ROUTE, 1, () => budgetL * 9, 7 * 60 + 10, '1', TICKET_STEP), m, '6h'), labels: { http_route: POPULAR_ROUTE, slo_window: '6h' } }) },
      { name: 'a 20-second blip of slow requests: quiet', at: every(FAULT, FAULT + 30).filter((_, i) => i % 4 === 0),
        series: latencySeries(POPULAR_ROUTE, 1, (m) => (m === FAULT ? 1 / 3 : 0), FAULT + 31).series },
      { name: 'a route without an SLO: quiet', at: FAULT + 15, series: latencySeries('/api/products', 1, (m) => (m >= FAULT ? 1 : 0), FAULT + 20).series },
    ],
    OrdersLatencyBudgetTicket: [
      { name: 'slow at 2× the budget for 3 days: ticket', at: 3 * 24 * 60 + 5, step: TICKET_STEP, series: latencyTicket.series,
        fires: (m) => ({ value: slowShare(latencyTicket, m, '3d'), labels: { http_route: POPULAR_ROUTE, slo_window: '3d' } }) },
      { name: 'slow at half the budget for 3 days: quiet', at: 3 * 24 * 60 + 5, step: TICKET_STEP, series: latencySeries(POPULAR_ROUTE, 1, () => budgetL / 2, 3 * 24 * 60 + 10, '1', TICKET_STEP).series },
    ],
  };
};

const CASES: Record<string, Case[]> = {
  ...sloCases(),
  OrdersServiceDown: [
    ...availabilityCases('up', { job: 'orders', instance: 'orders:9464' }),
    { name: 'target absent: fires, stating 0 % success (not absent()\'s 1)', at: 10, branch: 1,
      series: [gauge('up', { job: 'other' }, always(1)), prometheusStarted], fires: () => ({ value: 0, labels: { job: 'orders' } }) },
    { name: 'target absent while Prometheus is starting: quiet', at: [0, 0.5], branch: 1, series: [gauge('up', { job: 'other' }, always(1)), prometheusStarted] },
  ],
  OrdersApiProbeFailing: availabilityCases('probe_success', { job: 'blackbox-api', instance: 'http://host.docker.internal:3000/api/products?limit=1' }),
  OrdersHighErrorRate: [
    { name: 'errors over the line: fires', at: 10, series: errorSeries('/api/products', 'GET', 2, always(T.serviceErrorRatio * 1.5)),
      fires: () => ({ value: T.serviceErrorRatio * 1.5 }) },
    { name: 'errors just under the line: quiet', at: 10, series: errorSeries('/api/products', 'GET', 2, always(T.serviceErrorRatio * 0.9)) },
    { name: 'all failing at negligible traffic: quiet', at: 10, series: errorSeries('/api/products', 'GET', T.minRequestsPerSecond / 2, always(1)) },
    { name: 'a 20-second blip: quiet at every evaluation', at: every(5, 9), series: errorSeries('/api/products', 'GET', 2, during(5, 5 + 1 / 3, 1, 0)) },
    { name: 'fault cleared at minute 10: quiet from 30 s after', at: every(10.5, 14), series: errorSeries('/api/products', 'GET', 2, during(5, 10, 1, 0)) },
  ],
  OrdersDatabaseUnreachable: availabilityCases('db_up', { job: 'orders' }),
  OrdersPopularLatencyHigh: latencyCases('OrdersPopularLatencyHigh', POPULAR_ROUTE),
  OrdersStatusLatencyHigh: latencyCases('OrdersStatusLatencyHigh', STATUS_ROUTE),
  OrdersEndpointErrorRateHigh: [
    { name: 'a key route failing: fires for that route', at: 10,
      series: [...errorSeries(KEY_ROUTES[0]!, 'POST', 1, always(T.routeErrorRatio * 2)), ...errorSeries(STATUS_ROUTE, 'GET', 1, always(0))],
      fires: () => ({ value: T.routeErrorRatio * 2, labels: { http_request_method: 'POST', http_route: KEY_ROUTES[0]! } }) },
    { name: 'just under the line: quiet', at: 10, series: errorSeries(KEY_ROUTES[0]!, 'POST', 1, always(T.routeErrorRatio * 0.8)) },
    { name: 'negligible traffic: quiet', at: 10, series: errorSeries(KEY_ROUTES[0]!, 'POST', T.minRequestsPerSecond / 2, always(1)) },
    { name: 'a route that is not key: quiet', at: 10, series: errorSeries('/api/products', 'GET', 1, always(0.5)) },
    { name: 'a 20-second blip: quiet at every evaluation', at: every(5, 9), series: errorSeries(KEY_ROUTES[0]!, 'POST', 1, during(5, 5 + 1 / 3, 1, 0)) },
    { name: 'fault cleared at minute 10: quiet from 30 s after', at: every(10.5, 14), series: errorSeries(KEY_ROUTES[0]!, 'POST', 1, during(5, 10, 1, 0)) },
  ],
  OrdersDatabasePoolSaturated: [
    { name: 'pool nearly full for long: fires', at: 15,
      series: [gauge('db_pool_connections', { job: 'orders', state: 'in_use' }, always(9)), gauge('db_pool_max_connections', { job: 'orders' }, always(10))],
      fires: () => ({ value: 0.9, labels: { job: 'orders' } }) },
    { name: 'pool at the line: quiet', at: 15,
      series: [gauge('db_pool_connections', { job: 'orders', state: 'in_use' }, always(8)), gauge('db_pool_max_connections', { job: 'orders' }, always(10))] },
    { name: 'a one-minute burst: quiet', at: every(5, 12),
      series: [gauge('db_pool_connections', { job: 'orders', state: 'in_use' }, during(5, 6, 10, 1)), gauge('db_pool_max_connections', { job: 'orders' }, always(10))] },
    { name: 'saturation over at minute 15: quiet from 45 s after', at: every(15.75, 20),
      series: [gauge('db_pool_connections', { job: 'orders', state: 'in_use' }, during(2, 15, 10, 1)), gauge('db_pool_max_connections', { job: 'orders' }, always(10))] },
  ],
  OrdersCacheUnavailable: availabilityCases('redis_connected', { job: 'orders' }),
  OrdersPopularCacheHitRatioLow: [
    { name: 'mostly misses: fires', at: 30, series: cacheSeries(1, always(0.3)), fires: () => ({ value: 0.3 }) },
    { name: 'hit ratio at the line: quiet', at: 30, series: cacheSeries(1, always(T.cacheHitRatio)) },
    { name: 'negligible traffic: quiet', at: 30, series: cacheSeries(T.minRequestsPerSecond / 2, always(0)) },
    { name: 'a short expiry burst: quiet', at: every(10, 20), series: cacheSeries(1, during(10, 12, 0, 0.9)) },
    { name: 'misses over at minute 25: quiet from 2 min after', at: every(27, 32), series: cacheSeries(1, during(5, 25, 0, 0.9)) },
  ],
  OrdersDatabaseQuerySlow: [
    { name: 'popular query slow: fires', at: 15, series: histogram('db_query_duration_seconds', { job: 'orders', query: 'popular_products', outcome: 'ok' }, always(1), (le) => (le >= 0.5 ? 1 : 0)),
      fires: () => ({ value: 0.1 + (0.5 - 0.1) * T.latencyQuantile, labels: { query: 'popular_products' } }) },
    { name: 'a query that is not watched: quiet', at: 15, series: histogram('db_query_duration_seconds', { job: 'orders', query: 'place_order', outcome: 'ok' }, always(1), (le) => (le >= 0.5 ? 1 : 0)) },
    { name: 'fast: quiet', at: 15, series: histogram('db_query_duration_seconds', { job: 'orders', query: 'popular_products', outcome: 'ok' }, always(1), always(1)) },
    // The compose drill of the issue: slow for minutes, then cleared; no page may start after that.
    { name: 'slow queries cleared at minute 10: quiet from 30 s after', at: every(10.5, 16),
      series: histogram('db_query_duration_seconds', { job: 'orders', query: 'popular_products', outcome: 'ok' }, always(1), (le, m) => (m >= 7 && m < 10 ? (le >= 2.5 ? 1 : 0) : 1)) },
  ],
  OrdersEventLoopLagHigh: [
    { name: 'lagging: fires, stating the lowest p99 of the window', at: [8, 10], series: [lagSeries],
      fires: (m) => ({ value: minOverTime(lagSeries, m, W.eventLoop), labels: { job: 'orders' } }) },
    { name: 'a GC pause: quiet', at: every(5, 8), series: [lag(during(5, 6, 1, 0.01))] },
  ],
  MonitoringTargetDown: [
    ...availabilityCases('up', { job: 'redis-exporter', instance: 'redis-exporter:9121' }, W.monitoringAvailability),
    { name: 'the service itself is not this alert: quiet', at: 10, series: [gauge('up', { job: 'orders', instance: 'orders:9464' }, always(0))] },
  ],
  Watchdog: [{ name: 'always fires', at: 1, series: [], fires: () => ({ value: 1 }) }],
};

/** Prometheus' humanizeDuration for the values used here (under a minute). */
function formatDuration(seconds: number): string {
  return seconds >= 1 ? `${fourSignificant(seconds)}s` : `${fourSignificant(seconds * 1000)}ms`;
}
const formatPercent = (ratio: number) => `${fourSignificant(ratio * 100)}%`;
const fourSignificant = (n: number) => String(Number(n.toPrecision(4)));

/** The annotations as the page shows them: `$value` replaced by the oracle's quantity in the template's format. */
function rendered(alert: AlertDefinition, firing: Firing): Record<string, string> {
  const labels = firing.labels ?? {};
  // `{{ if eq $labels.l "a" }}A{{ else if eq $labels.l "b" }}B{{ end }}`: the branch whose value the label has.
  const choose = (text: string) =>
    text.replace(/\{\{ if (eq \$labels\.\w+ "[^"]*" \}\}.*?)\{\{ end \}\}/g, (_, chain: string) => {
      for (const part of chain.split(/\{\{ else if /)) {
        const [, label, value, then] = /^eq \$labels\.(\w+) "([^"]*)" \}\}(.*)$/.exec(part)!;
        if (labels[label!] === value) return then!;
      }
      return '';
    });
  const render = (text: string) =>
    choose(text)
      .replace(/\{\{ \$value \| humanizePercentage \}\}/g, formatPercent(firing.value))
      .replace(/\{\{ \$value \| humanizeDuration \}\}/g, formatDuration(firing.value))
      .replace(/\{\{ \$value \}\}/g, String(firing.value))
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? '');
  return Object.fromEntries(Object.entries(annotations(alert)).map(([key, text]) => [key, render(text)]));
}

/** The top-level `or` branches of a PromQL expression (outside parentheses, braces and strings). */
export function branches(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' && expr[i - 1] !== '\\') quoted = !quoted;
    if (quoted) continue;
    if ('({['.includes(c)) depth++;
    if (')}]'.includes(c)) depth--;
    if (depth === 0 && /\sor\s/.test(expr.slice(i - 1, i + 3)) && c === 'o') {
      parts.push(expr.slice(start, i - 1).trim());
      start = i + 2;
    }
  }
  parts.push(expr.slice(start).trim());
  return parts;
}

/** The 3-day SLO ticket cases, sampled and evaluated every 5 min (promtool's evaluation interval is per file). */
export const RULE_TESTS_LONG_FILE = 'alerting/tests/orders.slo-long.rules.test.yml';

function testGroups(long: boolean) {
  return ALERTS.flatMap((alert) => {
    const cases = CASES[alert.name];
    if (!cases) throw new Error(`${alert.name} has no promtool cases`);
    branches(alert.expr).forEach((_, branch) => {
      if (!cases.some((c) => c.fires && (c.branch ?? 0) === branch)) throw new Error(`${alert.name}: branch ${branch} of its expression has no case where it fires`);
    });
    if (alert.name !== 'Watchdog' && !cases.some((c) => !c.fires)) throw new Error(`${alert.name} has no case where it must stay quiet`);
    return cases.filter((c) => (c.step !== undefined) === long).map((c) => ({
      name: `${alert.name}: ${c.name}`,
      interval: `${c.step ?? STEP_SECONDS}s`,
      input_series: c.series.map(({ series: s, values }) => ({ series: s, values })),
      alert_rule_test: [c.at].flat().map((minute) => {
        const firing = c.fires?.(minute);
        return {
          eval_time: `${Math.round(minute * 60)}s`,
          alertname: alert.name,
          exp_alerts: firing ? [{ exp_labels: { ...ruleLabels(alert), ...firing.labels }, exp_annotations: rendered(alert, firing) }] : [],
        };
      }),
    }));
  });
}

// Without group_eval_order promtool evaluates the groups of a step in random (Go map) order, so an alert read the
// recording rules of the same step on some runs and of the step before on others: a flaky test.
const header = (evaluationInterval: string) => ({ rule_files: ['../rules/orders.rules.yml'], evaluation_interval: evaluationInterval, group_eval_order: [...RULE_GROUPS] });

export function ruleTestsYaml(): string {
  return GENERATED_HEADER + stringify({ ...header(`${STEP_SECONDS}s`), tests: testGroups(false) }, { lineWidth: 0 });
}

export function longRuleTestsYaml(): string {
  return GENERATED_HEADER + stringify({ ...header('5m'), tests: testGroups(true) }, { lineWidth: 0 });
}

export const ALERTS_WITH_CASES = Object.keys(CASES);
