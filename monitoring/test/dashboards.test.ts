import { createRunMetrics } from '../../loadtest/src/push';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { INCIDENT_METRICS } from '../../contract/incident';
import { METRICS, THRESHOLDS } from '../../contract';
import { createMetrics } from '../../service/src/telemetry/metrics';
import { buildDashboards } from '../grafana/dashboards';
import { DASHBOARDS_DIR, serialize } from '../grafana/generate';
import { DASHBOARDS, PANELS, type DashboardKey } from '../../contract';
import { dashboardQueries, substituteVariables, type DashboardQuery } from '../grafana/queries';

type Json = Record<string, any>;

const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

/** The service's metric names, from its real registry: histograms expose _bucket, _count and _sum. */
function serviceMetricNames(): string[] {
  return createMetrics().registry.getMetricsAsArray().flatMap((metric) => {
    const { name, type } = metric as unknown as { name: string; type: string };
    return type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : type === 'summary' ? [name, `${name}_count`, `${name}_sum`] : [name];
  });
}

/** Metric names known to exist: the service's registry, the SLO recording rules, Prometheus, blackbox, the exporters, ALERTS. */
const KNOWN_METRICS = new Set([
  ...serviceMetricNames(),
  // the recording rules, as the generated rules file records them
  ...(parse(readFileSync(join(__dirname, '../../alerting/rules/orders.rules.yml'), 'utf8')) as { groups: { rules: { record?: string }[] }[] }).groups
    .flatMap((group) => group.rules.flatMap((rule) => (rule.record ? [rule.record] : []))),
  // every scrape job, blackbox
  'up',
  'probe_success',
  'probe_duration_seconds',
  'probe_http_status_code',
  // postgres_exporter
  'pg_up',
  'pg_stat_database_numbackends',
  'pg_settings_max_connections',
  'pg_stat_database_xact_commit',
  'pg_stat_database_xact_rollback',
  'pg_locks_count',
  'pg_stat_database_blks_hit',
  'pg_stat_database_blks_read',
  'pg_stat_database_deadlocks',
  // redis_exporter
  'redis_up',
  'redis_memory_used_bytes',
  'redis_commands_processed_total',
  'redis_connected_clients',
  'redis_keyspace_hits_total',
  'redis_keyspace_misses_total',
  // Prometheus' alert state
  'ALERTS',
  // the load tests' results (job="loadtest"), as the run's registry pushes them, and the Pushgateway's push time
  ...createRunMetrics([]).registry.getMetricsAsArray()
    .flatMap((m) => (String(m.type) === 'histogram' ? ['_bucket', '_count', '_sum'].map((suffix) => `${m.name}${suffix}`) : [m.name])),
  'push_time_seconds',
  // the incident timeline receiver (job="incident-timeline"), registered under the contract's names
  ...Object.values(INCIDENT_METRICS).flatMap((name) =>
    name === INCIDENT_METRICS.responseDuration ? ['_bucket', '_count', '_sum'].map((suffix) => `${name}${suffix}`) : [name],
  ),
]);

const PROMQL_KEYWORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan',
]);

/**
 * The metric names a PromQL expression selects: identifiers left once strings, label matchers, range windows and
 * grouping label lists are removed, that are neither keywords nor function calls.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:])[a-zA-Z_:][\w:]*/g)) {
    const name = match[0];
    const next = stripped.slice(match.index + name.length).trimStart();
    if (PROMQL_KEYWORDS.has(name.toLowerCase()) || next.startsWith('(')) continue;
    names.add(name);
  }
  return [...names];
}

function allPanels(panels: unknown): Json[] {
  return (Array.isArray(panels) ? (panels as Json[]) : []).flatMap((panel) => [panel, ...allPanels(panel.panels)]);
}

const built = buildDashboards();
const byUid = new Map(built.map(({ json }) => [(json as Json).uid as string, json as Json]));
const queries: DashboardQuery[] = built.flatMap(({ json }) => dashboardQueries(json));

function dashboardOf(key: DashboardKey): Json {
  const json = byUid.get(DASHBOARDS[key].uid);
  if (!json) throw new Error(`no dashboard with uid ${DASHBOARDS[key].uid} (${key}) in buildDashboards()`);
  return json;
}

function panelOf(key: DashboardKey, id: number): Json {
  const panel = allPanels(dashboardOf(key).panels).find((p) => p.id === id);
  if (!panel) throw new Error(`dashboard ${DASHBOARDS[key].uid} has no panel ${id}`);
  return panel;
}

const exprsOf = (panel: Json): string[] =>
  dashboardQueries({ uid: 'x', panels: [panel] }).map((q) => q.expr);

describe('generated dashboard JSON', () => {
  test('the committed files are what buildDashboards() produces now', () => {
    const stale: string[] = [];
    for (const { file, json } of built) {
      const path = join(DASHBOARDS_DIR, file);
      if (!existsSync(path)) stale.push(`${file} is missing: run \`npm run generate\``);
      else if (readFileSync(path, 'utf8') !== serialize(json)) stale.push(`${file} is stale: run \`npm run generate\``);
    }
    const expected = new Set(built.map(({ file }) => file));
    for (const file of readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json'))) {
      if (!expected.has(file)) stale.push(`${file} is no longer generated (Grafana would still provision it): delete it`);
    }
    expect(stale).toEqual([]);
  });

  test('one dashboard per links.ts entry, with its uid and title, for Grafana 12 (schemaVersion 42)', () => {
    expect(built.map(({ file }) => file).sort()).toEqual(
      Object.values(DASHBOARDS).map(({ uid }) => `${uid}.json`).sort(),
    );
    for (const key of Object.keys(DASHBOARDS) as DashboardKey[]) {
      const json = dashboardOf(key);
      expect(json.title).toBe(DASHBOARDS[key].title);
      expect(json.schemaVersion).toBe(42);
    }
  });

  test('every panel and query reads the provisioned Prometheus datasource', () => {
    for (const json of byUid.values()) {
      for (const panel of allPanels(json.panels).filter((p) => p.type !== 'row')) {
        expect({ panel: panel.id, datasource: panel.datasource }).toEqual({
          panel: panel.id,
          datasource: { type: 'prometheus', uid: 'prometheus' },
        });
        expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
      }
    }
  });
});

describe('panel ids (the alerts link to them)', () => {
  test.each(Object.keys(PANELS) as DashboardKey[])('%s: every PANELS id exists, ids are unique', (key) => {
    const panels = allPanels(dashboardOf(key).panels);
    const ids = panels.map((p) => p.id as number);
    const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(duplicates).toEqual([]);
    const missing = Object.entries(PANELS[key])
      .filter(([, id]) => !panels.some((p) => p.id === id && p.type !== 'row'))
      .map(([name, id]) => `${name} (${id})`);
    expect(missing).toEqual([]);
  });

  /** What each linked panel must query, so a panel id never ends up showing something else. */
  const SHOWS = {
    overview: {
      requestRate: ['http_server_request_duration_seconds_count'],
      errorRatio: ['http_server_request_duration_seconds_count', 'http_response_status_code=~"5.."'],
      latency: ['http_server_request_duration_seconds_bucket', 'histogram_quantile'],
      inFlight: ['http_server_active_requests'],
      eventLoopLag: ['nodejs_eventloop_lag_p99_seconds'],
      memory: ['process_resident_memory_bytes'],
      targetsUp: ['up'],
      probe: ['probe_success{job="blackbox-api"}'],
    },
    incidents: {
      popularLatency: ['http_server_request_duration_seconds_bucket', 'http_route="/api/orders/popular"'],
      popularCacheHitRatio: ['cache_requests_total', 'cache="popular_products"', 'result="hit"'],
      popularQueryDuration: ['db_query_duration_seconds_bucket', 'popular_products'],
      popularErrors: ['http_route="/api/orders/popular"', 'http_response_status_code=~"5.."'],
      statusLatency: ['http_server_request_duration_seconds_bucket', 'http_route="/api/orders/status"'],
      statusQueryDuration: ['db_query_duration_seconds_bucket', 'order_status_by_id', 'order_status_by_user'],
      statusErrors: ['http_route="/api/orders/status"', 'http_response_status_code=~"5.."'],
      poolUsage: ['db_pool_connections', 'db_pool_max_connections'],
      redisUp: ['redis_connected'],
      databaseUp: ['db_up'],
      hotQueryDuration: ['db_query_duration_seconds_bucket', 'sum by (le, query)'],
      availabilityBudgetBurn: ['slo:http_requests_errors:ratio_rate1h', 'slo:http_requests_errors:ratio_rate6h'],
      latencyBudgetBurn: ['slo:http_requests_slow:ratio_rate1h', 'slo:http_requests_slow:ratio_rate6h'],
    },
    dependencies: {
      postgresUp: ['pg_up'],
      postgresConnections: ['pg_stat_database_numbackends', 'pg_settings_max_connections'],
      postgresTransactions: ['pg_stat_database_xact_commit', 'pg_stat_database_xact_rollback'],
      postgresLocks: ['pg_locks_count'],
      redisUp: ['redis_up'],
      redisMemory: ['redis_memory_used_bytes'],
      redisCommands: ['redis_commands_processed_total'],
      redisClients: ['redis_connected_clients'],
    },
    alerts: {
      firingCritical: ['ALERTS{', 'alertstate="firing"', 'severity="critical"', 'or vector(0)'],
      firingMajor: ['ALERTS{', 'alertstate="firing"', 'severity="major"', 'or vector(0)'],
      firingMinor: ['ALERTS{', 'alertstate="firing"', 'severity="minor"', 'or vector(0)'],
      firingTable: ['ALERTS{', 'alertstate="firing"'],
    },
    loadtest: {
      runVerdict: ['loadtest_run_passed{job="loadtest"}'],
      lastRun: ['push_time_seconds{job="loadtest"}'],
      latency: ['loadtest_request_duration_seconds_bucket', 'histogram_quantile'],
      serviceLatency: ['http_server_request_duration_seconds_bucket', 'job="orders"'],
      arrivalRate: ['loadtest_request_duration_seconds_count', 'loadtest_target_rate_requests_per_second'],
      failures: ['loadtest_responses_total', 'http_response_status_code=~"5.."', 'loadtest_requests_unanswered_total'],
      judgedLatency: ['loadtest_judged_latency_seconds'],
    },
  } satisfies { [K in DashboardKey]: Record<keyof (typeof PANELS)[K], string[]> };

  const cases = (Object.keys(SHOWS) as DashboardKey[]).flatMap((key) =>
    Object.entries(SHOWS[key] as Record<string, string[]>).map(([name, parts]) => ({ key, name, parts })),
  );

  test.each(cases)('$key panel $name queries what its name says', ({ key, name, parts }) => {
    const panel = panelOf(key, (PANELS[key] as Record<string, number>)[name] as number);
    const text = exprsOf(panel).join('\n');
    expect(parts.filter((part) => !text.includes(part))).toEqual([]);
  });

  test('the firing table lists alertname, severity and service first', () => {
    const table = panelOf('alerts', PANELS.alerts.firingTable);
    expect(table.type).toBe('table');
    expect(table.targets[0]).toMatchObject({ instant: true, format: 'table' });
    const organize = (table.transformations as Json[]).find((t) => t.id === 'organize');
    expect(organize?.options.indexByName).toEqual({ alertname: 0, severity: 1, service: 2 });
  });
});

describe('thresholds', () => {
  // Request and query durations: the panels that must show the guide's line (not the incident timeline's phases).
  const DURATION = new RegExp(`^(?:${METRICS.httpDuration}|${METRICS.dbQueryDuration})(?:_bucket)?$`);
  const latencyPanels = [...byUid.values()].flatMap((json) =>
    allPanels(json.panels)
      .filter((panel) => exprsOf(panel).some((expr) => metricNames(expr).some((name) => DURATION.test(name))))
      .map((panel) => ({ dashboard: json.uid as string, panel })),
  );

  test('the latency panels linked from alerts are recognised as latency panels', () => {
    const found = latencyPanels.map(({ dashboard, panel }) => `${dashboard}#${panel.id}`);
    for (const [key, name] of [
      ['overview', 'latency'],
      ['incidents', 'popularLatency'],
      ['incidents', 'statusLatency'],
      ['incidents', 'popularQueryDuration'],
      ['incidents', 'statusQueryDuration'],
    ] as const) {
      expect(found).toContain(`${DASHBOARDS[key].uid}#${(PANELS[key] as Record<string, number>)[name]}`);
    }
  });

  test.each(latencyPanels.map(({ dashboard, panel }) => [`${dashboard}#${panel.id} ${panel.title}`, panel] as const))(
    'latency panel %s draws the 1 s line',
    (_name, panel) => {
      const defaults = panel.fieldConfig?.defaults ?? {};
      expect(defaults.unit).toBe('s');
      const steps = (defaults.thresholds?.steps ?? []) as { value: number | null }[];
      expect(steps.map((s) => s.value)).toContain(THRESHOLDS.latencySeconds);
      expect(['line', 'line+area']).toContain(defaults.custom?.thresholdsStyle?.mode);
    },
  );

  test.each([
    ['overview', PANELS.overview.errorRatio, [THRESHOLDS.routeErrorRatio, THRESHOLDS.serviceErrorRatio]],
    ['overview', PANELS.overview.eventLoopLag, [THRESHOLDS.eventLoopLagSeconds]],
    ['incidents', PANELS.incidents.popularCacheHitRatio, [THRESHOLDS.cacheHitRatio]],
    ['incidents', PANELS.incidents.popularQueryDuration, [THRESHOLDS.queryLatencySeconds]],
    ['incidents', PANELS.incidents.statusQueryDuration, [THRESHOLDS.queryLatencySeconds]],
    ['incidents', PANELS.incidents.popularErrors, [THRESHOLDS.routeErrorRatio]],
    ['incidents', PANELS.incidents.statusErrors, [THRESHOLDS.routeErrorRatio]],
    ['incidents', PANELS.incidents.poolUsage, [THRESHOLDS.poolUsageRatio]],
  ] as const)('%s panel %d draws the alert lines %j', (key, id, values) => {
    const defaults = panelOf(key, id).fieldConfig.defaults;
    const steps = (defaults.thresholds.steps as { value: number | null }[]).map((s) => s.value);
    for (const value of values) expect(steps).toContain(value);
    expect(['line', 'line+area']).toContain(defaults.custom?.thresholdsStyle?.mode);
  });
});

describe('queries', () => {
  test('every panel query is extracted, variables substituted', () => {
    expect(queries.length).toBeGreaterThan(0);
    for (const json of byUid.values()) {
      const targets = allPanels(json.panels).flatMap((p) => (p.targets ?? []) as unknown[]);
      expect(dashboardQueries(json)).toHaveLength(targets.length);
    }
    expect(queries.filter((q) => q.expr.includes('$'))).toEqual([]);
  });

  test('dashboardQueries reads panels inside collapsed rows and substitutes variables', () => {
    const json = {
      uid: 'd',
      templating: { list: [{ name: 'route', current: { value: ['/a', '/b'] } }] },
      panels: [
        {
          type: 'row',
          id: 100,
          collapsed: true,
          panels: [{ id: 7, title: 'p', targets: [{ expr: 'rate(x{r=~"${route}"}[$__rate_interval]) / $__range_s' }] }],
        },
      ],
    };
    expect(dashboardQueries(json)).toEqual([
      { dashboard: 'd', panelId: 7, title: 'p', expr: 'rate(x{r=~"/a|/b"}[1m]) / 3600' },
    ]);
    expect(substituteVariables('increase(x[$__range]) [[__interval]] ${__interval}')).toBe('increase(x[1h]) 1m 1m');
    expect(() => substituteVariables('x{a="$nope"}')).toThrow(/\$nope/);
  });

  test('every query parses as PromQL (promtool check rules)', () => {
    if (!existsSync(PROMTOOL)) {
      throw new Error(`promtool not found at ${PROMTOOL}: install Debian's \`prometheus\` package (apt-get install prometheus)`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'dashboards-promql-'));
    try {
      const file = join(dir, 'rules.yml');
      const rules = queries.map((q, n) => ({ record: `panel:q${n}`, expr: q.expr }));
      writeFileSync(file, stringify({ groups: [{ name: 'dashboards', rules }] }));
      const result = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
      if (result.error) throw result.error;
      const legend = queries.map((q, n) => `q${n} = ${q.dashboard}#${q.panelId} ${q.title}`).join('\n');
      if (result.status !== 0) {
        throw new Error(`promtool check rules failed (exit ${result.status}):\n${result.stdout}${result.stderr}\n${legend}`);
      }
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('metricNames finds selectors and skips functions, keywords, labels and windows', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, query) (rate(a_bucket{job="x",q=~"b|c"}[5m]))) > 1e-3\n' +
          '/ ignoring(state) b_total and on (job) c or vector(0) offset 5m',
      ).sort(),
    ).toEqual(['a_bucket', 'b_total', 'c']);
    // A typo is not a known metric, so the allow-list test below fails on it.
    const typo = metricNames('rate(http_server_request_duraton_seconds_count{job="orders"}[1m])');
    expect(typo.filter((n) => !KNOWN_METRICS.has(n))).toEqual(['http_server_request_duraton_seconds_count']);
  });

  test('every metric a query selects is a known metric', () => {
    const unknown: string[] = [];
    for (const q of queries) {
      const names = metricNames(q.expr);
      if (names.length === 0) unknown.push(`${q.dashboard}#${q.panelId}: selects no metric: ${q.expr}`);
      for (const name of names) if (!KNOWN_METRICS.has(name)) unknown.push(`${q.dashboard}#${q.panelId} ${q.title}: ${name}`);
    }
    expect(unknown).toEqual([]);
  });
});
