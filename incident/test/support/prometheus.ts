import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { HTTP_DURATION_BUCKETS_SECONDS, DB_QUERY_BUCKETS_SECONDS, JOB } from '../../../contract';
import { freePort } from '../../../alerting/test/support/alertmanager';
import { binary, startDaemon } from '../../../alerting/test/support/tools';

/** The state of the stand-in service during one 15 s step of a recorded history. */
export interface StepState {
  /** Requests per second per route, with their duration (all requests of a step take the same time), seconds. */
  routes: Record<string, { rps: number; seconds: number; errorRatio?: number }>;
  cacheHitRatio: number;
  /** Named query durations, seconds (one call per popular/status request). */
  querySeconds: Record<string, number>;
  poolInUse: number;
  poolMax: number;
  /** Alerts Prometheus' ALERTS series shows firing in this step (name → severity). */
  firing?: Record<string, string>;
}

const STEP_SECONDS = 15;
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(6));
const labelText = (labels: Record<string, string>) => `{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;

/**
 * An OpenMetrics history of the service's metrics (the contract's names) for `steps` steps of 15 s ending at `end`,
 * from a function of the step. Counters and histograms are cumulative, as a real scrape would see them.
 */
export function openMetricsHistory(end: Date, steps: number, stateAt: (minutesBeforeEnd: number) => StepState): string {
  const series = new Map<string, { type: string; samples: Map<string, string[]> }>();
  const add = (family: string, type: string, name: string, labels: Record<string, string>, value: number, t: number) => {
    let f = series.get(family);
    if (!f) series.set(family, (f = { type, samples: new Map() }));
    const key = `${name}${labelText(labels)}`;
    let list = f.samples.get(key);
    if (!list) f.samples.set(key, (list = []));
    list.push(`${key} ${fmt(value)} ${t}`);
  };
  const totals = new Map<string, number>();
  const bump = (key: string, by: number) => {
    const v = (totals.get(key) ?? 0) + by;
    totals.set(key, v);
    return v;
  };
  const job = { job: JOB, instance: 'orders:9464' };
  const endSeconds = Math.floor(end.getTime() / 1000);
  for (let i = steps - 1; i >= 0; i--) {
    const t = endSeconds - i * STEP_SECONDS;
    const s = stateAt((i * STEP_SECONDS) / 60);
    add('up', 'gauge', 'up', job, 1, t);
    for (const [route, r] of Object.entries(s.routes)) {
      const n = r.rps * STEP_SECONDS;
      const errors = Math.round(n * (r.errorRatio ?? 0));
      for (const [status, count] of [['200', n - errors], ['500', errors]] as const) {
        // As a real exposition: a status series appears with its first answer, not before.
        if (count === 0 && !totals.has(`h:${route}:${status}:count`)) continue;
        const labels = { ...job, http_request_method: 'GET', http_route: route, http_response_status_code: status };
        for (const le of HTTP_DURATION_BUCKETS_SECONDS) {
          const key = `h:${route}:${status}:${le}`;
          add('http_server_request_duration_seconds', 'histogram', 'http_server_request_duration_seconds_bucket', { ...labels, le: fmt(le) }, bump(key, r.seconds <= le ? count : 0), t);
        }
        add('http_server_request_duration_seconds', 'histogram', 'http_server_request_duration_seconds_bucket', { ...labels, le: '+Inf' }, bump(`h:${route}:${status}:inf`, count), t);
        add('http_server_request_duration_seconds', 'histogram', 'http_server_request_duration_seconds_count', labels, bump(`h:${route}:${status}:count`, count), t);
        add('http_server_request_duration_seconds', 'histogram', 'http_server_request_duration_seconds_sum', labels, bump(`h:${route}:${status}:sum`, count * r.seconds), t);
      }
    }
    const lookups = (s.routes['/api/orders/popular']?.rps ?? 0) * STEP_SECONDS;
    for (const [result, share] of [['hit', s.cacheHitRatio], ['miss', 1 - s.cacheHitRatio]] as const) {
      add('cache_requests', 'counter', 'cache_requests_total', { ...job, cache: 'popular_products', result }, bump(`c:${result}`, lookups * share), t);
    }
    for (const [query, seconds] of Object.entries(s.querySeconds)) {
      const labels = { ...job, query, outcome: 'ok' };
      const calls = STEP_SECONDS;
      for (const le of DB_QUERY_BUCKETS_SECONDS) {
        add('db_query_duration_seconds', 'histogram', 'db_query_duration_seconds_bucket', { ...labels, le: fmt(le) }, bump(`q:${query}:${le}`, seconds <= le ? calls : 0), t);
      }
      add('db_query_duration_seconds', 'histogram', 'db_query_duration_seconds_bucket', { ...labels, le: '+Inf' }, bump(`q:${query}:inf`, calls), t);
      add('db_query_duration_seconds', 'histogram', 'db_query_duration_seconds_count', labels, bump(`q:${query}:count`, calls), t);
      add('db_query_duration_seconds', 'histogram', 'db_query_duration_seconds_sum', labels, bump(`q:${query}:sum`, calls * seconds), t);
    }
    add('db_pool_connections', 'gauge', 'db_pool_connections', { ...job, state: 'in_use' }, s.poolInUse, t);
    add('db_pool_connections', 'gauge', 'db_pool_connections', { ...job, state: 'waiting' }, 0, t);
    add('db_pool_max_connections', 'gauge', 'db_pool_max_connections', job, s.poolMax, t);
    add('db_up', 'gauge', 'db_up', job, 1, t);
    add('redis_connected', 'gauge', 'redis_connected', job, 1, t);
    const exporter = { job: 'postgres-exporter', instance: 'postgres-exporter:9187' };
    add('pg_stat_activity_count', 'gauge', 'pg_stat_activity_count', { ...exporter, datname: 'orders', state: 'active' }, s.poolInUse, t);
    add('pg_stat_activity_count', 'gauge', 'pg_stat_activity_count', { ...exporter, datname: 'orders', state: 'idle' }, s.poolMax - s.poolInUse, t);
    add('pg_settings_max_connections', 'gauge', 'pg_settings_max_connections', exporter, 200, t);
    add('pg_locks_count', 'gauge', 'pg_locks_count', { ...exporter, datname: 'orders', mode: 'accesssharelock' }, s.poolInUse, t);
    add('redis_up', 'gauge', 'redis_up', { job: 'redis-exporter', instance: 'redis-exporter:9121' }, 1, t);
    for (const [alertname, severity] of Object.entries(s.firing ?? {})) {
      add('ALERTS', 'gauge', 'ALERTS', { alertname, alertstate: 'firing', service: 'orders', severity }, 1, t);
    }
  }
  const out: string[] = [];
  for (const [family, f] of series) {
    out.push(`# TYPE ${family} ${f.type}`);
    for (const list of f.samples.values()) out.push(...list);
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

/**
 * A real Prometheus (Debian's 2.42 binary) over a TSDB built from `history` with `promtool tsdb
 * create-blocks-from openmetrics`, evaluating `rules` (a rule file object) every second.
 */
export async function startPrometheusWithHistory(
  history: string | undefined,
  rules?: object,
  options: { scrape?: { job: string; target: string }[]; alertmanager?: string } = {},
) {
  const dir = mkdtempSync(path.join(tmpdir(), 'incident-prom-'));
  const data = path.join(dir, 'data');
  if (history !== undefined) {
    writeFileSync(path.join(dir, 'history.om'), history);
    const created = spawnSync(binary('promtool'), ['tsdb', 'create-blocks-from', 'openmetrics', path.join(dir, 'history.om'), data], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`promtool failed: ${created.stderr}${created.stdout}`);
  }
  const config: Record<string, unknown> = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: (options.scrape ?? []).map((s) => ({ job_name: s.job, static_configs: [{ targets: [s.target] }] })),
  };
  if (options.alertmanager) config.alerting = { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] };
  if (rules) {
    writeFileSync(path.join(dir, 'rules.yml'), stringify(rules));
    config.rule_files = [path.join(dir, 'rules.yml')];
  }
  writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const daemon = await startDaemon(
    binary('prometheus'),
    [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${data}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=30d'],
    `http://127.0.0.1:${port}`,
  ).catch((error) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    url: daemon.url,
    log: daemon.log,
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
