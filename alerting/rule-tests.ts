import { stringify } from 'yaml';
import { KEY_ROUTES, POPULAR_ROUTE, STATUS_ROUTE } from '../contract';
import { ALERTS, type AlertDefinition } from './catalog';
import { annotations, GENERATED_HEADER, ruleLabels } from './rules-yaml';
import { THRESHOLDS as T } from '../contract';

/**
 * promtool unit tests for every alert: a case where it fires, with the exact labels and annotations the page will
 * carry, and cases where it must stay quiet: just under the threshold, too little traffic, a short blip.
 * Inputs are built from the thresholds, so moving a threshold moves the tests with it.
 */
export const RULE_TESTS_FILE = 'alerting/tests/orders.rules.test.yml';

const STEP_SECONDS = 15; // the scrape interval of prometheus.yml
const MINUTES = 40;
const SAMPLES = (MINUTES * 60) / STEP_SECONDS;

interface Series {
  series: string;
  values: string;
}

interface Case {
  name: string;
  series: Series[];
  /** Minutes after the start at which the rule is evaluated. */
  at: number;
  /** The rendered `$value` (and any labels) when the case fires; omitted when it must not fire. */
  fires?: { value: string; labels?: Record<string, string> };
}

const selector = (labels: Record<string, string>) =>
  `{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;

/** A counter whose increase per second follows `ratePerSecond(minute)`. */
function counter(name: string, labels: Record<string, string>, ratePerSecond: (minute: number) => number): Series {
  const values: string[] = [];
  let total = 0;
  for (let i = 0; i <= SAMPLES; i++) {
    values.push(String(Math.round(total * 1000) / 1000));
    total += ratePerSecond((i * STEP_SECONDS) / 60) * STEP_SECONDS;
  }
  return { series: `${name}${selector(labels)}`, values: values.join(' ') };
}

/** A gauge holding `value(minute)` at each scrape. */
function gauge(name: string, labels: Record<string, string>, value: (minute: number) => number): Series {
  const values = Array.from({ length: SAMPLES + 1 }, (_, i) => String(value((i * STEP_SECONDS) / 60)));
  return { series: `${name}${selector(labels)}`, values: values.join(' ') };
}

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
const requestLabels = (route: string, status: string, method = 'GET') => ({
  job: 'orders',
  http_request_method: method,
  http_route: route,
  http_response_status_code: status,
});

function latencyCases(route: string): Case[] {
  const base = 'http_server_request_duration_seconds';
  const labels = requestLabels(route, '200');
  const busy = 1;
  const quiet = T.minRequestsPerSecond / 2;
  return [
    { name: 'slow under steady traffic: fires', at: 10, series: histogram(base, labels, always(busy), latency(0.2)),
      fires: { value: formatDuration(expectedQuantile(0.2, 0.1)) } },
    { name: 'p95 just under the threshold: quiet', at: 10, series: histogram(base, labels, always(busy), latency(0.03, 1)) },
    { name: 'every request slow but traffic under the guard: quiet', at: 10, series: histogram(base, labels, always(quiet), latency(1)) },
    { name: 'a one-minute blip: quiet', at: 12, series: histogram(base, labels, always(busy), (le, m) => latency(m >= 5 && m < 6 ? 1 : 0)(le)) },
  ];
}

function errorSeries(route: string, method: string, rps: number, errorShare: (m: number) => number): Series[] {
  return [
    counter('http_server_request_duration_seconds_count', requestLabels(route, '200', method), (m) => rps * (1 - errorShare(m))),
    counter('http_server_request_duration_seconds_count', requestLabels(route, '500', method), (m) => rps * errorShare(m)),
  ];
}

/** Prometheus' humanizeDuration for the values used here (under a minute). */
function formatDuration(seconds: number): string {
  return seconds >= 1 ? `${fourSignificant(seconds)}s` : `${fourSignificant(seconds * 1000)}ms`;
}

const formatPercent = (ratio: number) => `${fourSignificant(ratio * 100)}%`;
const fourSignificant = (n: number) => String(Number(n.toPrecision(4)));

function cacheSeries(rps: number, hitShare: (m: number) => number): Series[] {
  const labels = (result: string) => ({ job: 'orders', cache: 'popular_products', result });
  return [
    counter('cache_requests_total', labels('hit'), (m) => rps * hitShare(m)),
    counter('cache_requests_total', labels('miss'), (m) => rps * (1 - hitShare(m))),
  ];
}

const CASES: Record<string, Case[]> = {
  OrdersServiceDown: [
    { name: 'target down: fires', at: 10, series: [gauge('up', { job: 'orders', instance: 'orders:9464' }, (m) => (m < 5 ? 1 : 0))],
      fires: { value: '0', labels: { job: 'orders', instance: 'orders:9464' } } },
    { name: 'target absent: fires', at: 10, series: [gauge('up', { job: 'other' }, always(1))], fires: { value: '1', labels: { job: 'orders' } } },
    { name: 'one failed scrape: quiet', at: 10, series: [gauge('up', { job: 'orders', instance: 'orders:9464' }, (m) => (m === 5 ? 0 : 1))] },
  ],
  OrdersApiProbeFailing: [
    { name: 'probe failing: fires', at: 10, series: [gauge('probe_success', { job: 'blackbox-api', instance: 'http://orders:3000/api/products' }, (m) => (m < 5 ? 1 : 0))],
      fires: { value: '0', labels: { job: 'blackbox-api', instance: 'http://orders:3000/api/products' } } },
    { name: 'one failed probe: quiet', at: 10, series: [gauge('probe_success', { job: 'blackbox-api', instance: 'http://orders:3000/api/products' }, (m) => (m === 5 ? 0 : 1))] },
  ],
  OrdersHighErrorRate: [
    { name: 'errors over the line: fires', at: 10, series: errorSeries('/api/products', 'GET', 2, always(T.serviceErrorRatio * 1.5)),
      fires: { value: formatPercent(T.serviceErrorRatio * 1.5) } },
    { name: 'errors just under the line: quiet', at: 10, series: errorSeries('/api/products', 'GET', 2, always(T.serviceErrorRatio * 0.9)) },
    { name: 'all failing at negligible traffic: quiet', at: 10, series: errorSeries('/api/products', 'GET', T.minRequestsPerSecond / 2, always(1)) },
    { name: 'a one-minute blip: quiet', at: 12, series: errorSeries('/api/products', 'GET', 2, during(5, 6, 1, 0)) },
  ],
  OrdersDatabaseUnreachable: [
    { name: 'database down: fires', at: 10, series: [gauge('db_up', { job: 'orders' }, (m) => (m < 5 ? 1 : 0))], fires: { value: '0', labels: { job: 'orders' } } },
    { name: 'one failed check: quiet', at: 10, series: [gauge('db_up', { job: 'orders' }, (m) => (m >= 5 && m < 5.25 ? 0 : 1))] },
  ],
  OrdersPopularLatencyHigh: latencyCases(POPULAR_ROUTE),
  OrdersStatusLatencyHigh: latencyCases(STATUS_ROUTE),
  OrdersEndpointErrorRateHigh: [
    { name: 'a key route failing: fires for that route', at: 10,
      series: [...errorSeries(KEY_ROUTES[0]!, 'POST', 1, always(T.routeErrorRatio * 2)), ...errorSeries(STATUS_ROUTE, 'GET', 1, always(0))],
      fires: { value: formatPercent(T.routeErrorRatio * 2), labels: { http_request_method: 'POST', http_route: KEY_ROUTES[0]! } } },
    { name: 'just under the line: quiet', at: 10, series: errorSeries(KEY_ROUTES[0]!, 'POST', 1, always(T.routeErrorRatio * 0.8)) },
    { name: 'negligible traffic: quiet', at: 10, series: errorSeries(KEY_ROUTES[0]!, 'POST', T.minRequestsPerSecond / 2, always(1)) },
    { name: 'a route that is not key: quiet', at: 10, series: errorSeries('/api/products', 'GET', 1, always(0.5)) },
    { name: 'a one-minute blip: quiet', at: 12, series: errorSeries(KEY_ROUTES[0]!, 'POST', 1, during(5, 6, 1, 0)) },
  ],
  OrdersDatabasePoolSaturated: [
    { name: 'pool nearly full for long: fires', at: 15,
      series: [gauge('db_pool_connections', { job: 'orders', state: 'in_use' }, always(9)), gauge('db_pool_max_connections', { job: 'orders' }, always(10))],
      fires: { value: formatPercent(0.9), labels: { job: 'orders' } } },
    { name: 'pool at the line: quiet', at: 15,
      series: [gauge('db_pool_connections', { job: 'orders', state: 'in_use' }, always(8)), gauge('db_pool_max_connections', { job: 'orders' }, always(10))] },
    { name: 'a one-minute burst: quiet', at: 15,
      series: [gauge('db_pool_connections', { job: 'orders', state: 'in_use' }, during(5, 6, 10, 1)), gauge('db_pool_max_connections', { job: 'orders' }, always(10))] },
  ],
  OrdersCacheUnavailable: [
    { name: 'redis gone: fires', at: 10, series: [gauge('redis_connected', { job: 'orders' }, (m) => (m < 3 ? 1 : 0))], fires: { value: '0', labels: { job: 'orders' } } },
    { name: 'a reconnect blip: quiet', at: 10, series: [gauge('redis_connected', { job: 'orders' }, during(5, 6, 0, 1))] },
  ],
  OrdersPopularCacheHitRatioLow: [
    { name: 'mostly misses: fires', at: 30, series: cacheSeries(1, always(0.3)), fires: { value: formatPercent(0.3) } },
    { name: 'hit ratio at the line: quiet', at: 30, series: cacheSeries(1, always(T.cacheHitRatio)) },
    { name: 'negligible traffic: quiet', at: 30, series: cacheSeries(T.minRequestsPerSecond / 2, always(0)) },
    { name: 'a short expiry burst: quiet', at: 30, series: cacheSeries(1, during(10, 12, 0, 0.9)) },
  ],
  OrdersDatabaseQuerySlow: [
    { name: 'popular query slow: fires', at: 15, series: histogram('db_query_duration_seconds', { job: 'orders', query: 'popular_products', outcome: 'ok' }, always(1), (le) => (le >= 0.5 ? 1 : 0)),
      fires: { value: formatDuration(0.1 + (0.5 - 0.1) * T.latencyQuantile), labels: { query: 'popular_products' } } },
    { name: 'a query that is not watched: quiet', at: 15, series: histogram('db_query_duration_seconds', { job: 'orders', query: 'place_order', outcome: 'ok' }, always(1), (le) => (le >= 0.5 ? 1 : 0)) },
    { name: 'fast: quiet', at: 15, series: histogram('db_query_duration_seconds', { job: 'orders', query: 'popular_products', outcome: 'ok' }, always(1), always(1)) },
  ],
  OrdersEventLoopLagHigh: [
    { name: 'lagging: fires', at: 10, series: [gauge('nodejs_eventloop_lag_p99_seconds', { job: 'orders' }, always(T.eventLoopLagSeconds * 2))],
      fires: { value: formatDuration(T.eventLoopLagSeconds * 2), labels: { job: 'orders' } } },
    { name: 'a GC pause: quiet', at: 10, series: [gauge('nodejs_eventloop_lag_p99_seconds', { job: 'orders' }, during(5, 6, 1, 0.01))] },
  ],
  MonitoringTargetDown: [
    { name: 'exporter down: fires', at: 10, series: [gauge('up', { job: 'redis-exporter', instance: 'redis-exporter:9121' }, always(0))],
      fires: { value: '0', labels: { job: 'redis-exporter', instance: 'redis-exporter:9121' } } },
    { name: 'the service itself is not this alert: quiet', at: 10, series: [gauge('up', { job: 'orders', instance: 'orders:9464' }, always(0))] },
  ],
  Watchdog: [{ name: 'always fires', at: 1, series: [], fires: { value: '1' } }],
};


function rendered(alert: AlertDefinition, fires: NonNullable<Case['fires']>): Record<string, string> {
  const labels = fires.labels ?? {};
  const render = (text: string) =>
    text
      .replace(/\{\{ \$value[^}]*\}\}/g, fires.value)
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? '');
  return Object.fromEntries(Object.entries(annotations(alert)).map(([key, text]) => [key, render(text)]));
}

export function ruleTestsYaml(): string {
  const tests = ALERTS.flatMap((alert) => {
    const cases = CASES[alert.name];
    if (!cases?.some((c) => c.fires)) throw new Error(`${alert.name} has no promtool case where it fires`);
    if (alert.name !== 'Watchdog' && !cases.some((c) => !c.fires)) throw new Error(`${alert.name} has no case where it must stay quiet`);
    return cases.map((c) => ({
      name: `${alert.name}: ${c.name}`,
      interval: `${STEP_SECONDS}s`,
      input_series: c.series,
      alert_rule_test: [
        {
          eval_time: `${c.at}m`,
          alertname: alert.name,
          exp_alerts: c.fires ? [{ exp_labels: { ...ruleLabels(alert), ...c.fires.labels }, exp_annotations: rendered(alert, c.fires) }] : [],
        },
      ],
    }));
  });
  return GENERATED_HEADER + stringify({ rule_files: ['../rules/orders.rules.yml'], evaluation_interval: '15s', tests }, { lineWidth: 0 });
}

export const ALERTS_WITH_CASES = Object.keys(CASES);
