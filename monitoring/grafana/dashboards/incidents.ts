/**
 * Orders · Incidents: one row per incident of the response guide, in the order it tells a responder to check, each
 * panel the signal an alert watches with the alert's own window and line. Row titles are for people (Korean);
 * queries are the alert rules' expressions without the comparison.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { withIncidentResponseRow } from '../../../incident/dashboard';
import { POPULAR_ROUTE, STATUS_ROUTE } from '../../../contract';
import { HOT_QUERIES } from '../../../contract';
import { BURN_RATE_WINDOWS, SLO_PERIOD, SLOS, sloRecord, THRESHOLDS, WINDOWS } from '../../../contract';
import { PANELS } from '../../../contract';
import {
  COLORS,
  SERVICE,
  baseDashboard,
  defaultTimeseries,
  latencyTimeseries,
  percent,
  percentile,
  promQuery,
  quantile,
  rate,
  ratioTimeseries,
  row,
  serverErrorRatio,
  thresholdLines,
  thresholds,
  upStat,
} from './common';

const P = PANELS.incidents;

const EXTRA = {
  rowPopular: 200,
  rowStatus: 201,
  rowCommon: 202,
  cacheLookups: 301,
  rowBudget: 203,
} as const;

/** Named queries (db_query_duration_seconds{query}) behind each incident's route. */
export const INCIDENT_QUERIES = HOT_QUERIES;

const POPULAR_CACHE = 'cache="popular_products"';

const routeSelector = (route: string) => `${SERVICE},http_route="${route}"`;

// ---------------------------------------------------------------------------------------------------------------
// Panels shared by the two route incidents

/** p95 of one route against the 1 s line (the alert), with p50 and p99 for shape. */
export function routeLatencyPanel(id: number, route: string): timeseries.PanelBuilder {
  const q = (value: number, refId: string, suffix = '') =>
    promQuery(quantile(value, 'http_server_request_duration_seconds', routeSelector(route), WINDOWS.requests), {
      legend: `${percentile(value)}${suffix}`,
      refId,
    });
  return latencyTimeseries()
    .id(id)
    .title(`GET ${route} latency (${percentile(THRESHOLDS.latencyQuantile)} vs ${THRESHOLDS.latencySeconds} s)`)
    .description(
      `Response time of ${route} over ${WINDOWS.requests}. The incident is ${percentile(THRESHOLDS.latencyQuantile)} ` +
        `above the red ${THRESHOLDS.latencySeconds} s line for ${WINDOWS.requests}.`,
    )
    .withTarget(q(THRESHOLDS.latencyQuantile, 'A', ' (alert)'))
    .withTarget(q(0.5, 'B'))
    .withTarget(q(0.99, 'C'))
    .overrideByName(`${percentile(THRESHOLDS.latencyQuantile)} (alert)`, [{ id: 'custom.lineWidth', value: 3 }]);
}

/** p95 of the named queries behind a route: the early-warning line and the incident's 1 s line. */
export function queryDurationPanel(id: number, queries: readonly string[]): timeseries.PanelBuilder {
  const selector = `${SERVICE},query=~"${queries.join('|')}"`;
  return latencyTimeseries(THRESHOLDS.queryLatencySeconds)
    .id(id)
    .title(`DB query ${percentile(THRESHOLDS.latencyQuantile)}: ${queries.join(', ')}`)
    .description(
      `Execution time of ${queries.join(', ')} over ${WINDOWS.saturation}. ` +
        `Orange: the early warning (${THRESHOLDS.queryLatencySeconds} s, OrdersDatabaseQuerySlow); ` +
        `red: the incident's ${THRESHOLDS.latencySeconds} s. Slow here: check the plan and indexes (npm run db:explain).`,
    )
    .withTarget(
      promQuery(quantile(THRESHOLDS.latencyQuantile, 'db_query_duration_seconds', selector, WINDOWS.saturation, ['query']), {
        legend: '{{query}}',
      }),
    );
}

/** 5xx share of one route against the key-route line. */
export function routeErrorsPanel(id: number, route: string): timeseries.PanelBuilder {
  return ratioTimeseries()
    .id(id)
    .title(`GET ${route} 5xx error ratio`)
    .description(
      `Share of ${route} requests answered with 5xx over ${WINDOWS.requests}; ` +
        `OrdersEndpointErrorRateHigh fires above ${percent(THRESHOLDS.routeErrorRatio)}.`,
    )
    .thresholds(thresholds(COLORS.ok, [{ value: THRESHOLDS.routeErrorRatio, color: COLORS.critical }]))
    .thresholdsStyle(thresholdLines())
    .withTarget(
      promQuery(serverErrorRatio(`http_route="${route}"`, WINDOWS.requests, ['http_request_method']), {
        legend: '{{http_request_method}} 5xx ratio',
      }),
    );
}

// ---------------------------------------------------------------------------------------------------------------
// 인기 상품 조회

export function popularLatencyPanel(): timeseries.PanelBuilder {
  return routeLatencyPanel(P.popularLatency, POPULAR_ROUTE).span(6);
}

export function popularCacheHitRatioPanel(): timeseries.PanelBuilder {
  const all = `sum(${rate('cache_requests_total', `${SERVICE},${POPULAR_CACHE}`, WINDOWS.cache)})`;
  const share = (result: string) =>
    `sum(${rate('cache_requests_total', `${SERVICE},${POPULAR_CACHE},result="${result}"`, WINDOWS.cache)})\n/ ${all}`;
  return ratioTimeseries()
    .id(P.popularCacheHitRatio)
    .title('Popular ranking cache hit ratio')
    .description(
      `Share of popular-ranking look-ups served from Redis over ${WINDOWS.cache}; the alert fires below ${percent(THRESHOLDS.cacheHitRatio)}. ` +
        'A rising error share means Redis is unreachable or slower than its read timeout.',
    )
    .thresholds(thresholds(COLORS.critical, [{ value: THRESHOLDS.cacheHitRatio, color: COLORS.ok }]))
    .thresholdsStyle(thresholdLines())
    .withTarget(promQuery(share('hit'), { legend: 'hit ratio', refId: 'A' }))
    .withTarget(promQuery(share('error'), { legend: 'error share', refId: 'B' }))
    .overrideByName('error share', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLORS.critical } }])
    .span(6);
}

export function popularQueryDurationPanel(): timeseries.PanelBuilder {
  return queryDurationPanel(P.popularQueryDuration, INCIDENT_QUERIES.popular).span(6);
}

export function popularErrorsPanel(): timeseries.PanelBuilder {
  return routeErrorsPanel(P.popularErrors, POPULAR_ROUTE).span(6);
}

// ---------------------------------------------------------------------------------------------------------------
// 주문 상태 조회

export function statusLatencyPanel(): timeseries.PanelBuilder {
  return routeLatencyPanel(P.statusLatency, STATUS_ROUTE).span(8);
}

export function statusQueryDurationPanel(): timeseries.PanelBuilder {
  return queryDurationPanel(P.statusQueryDuration, INCIDENT_QUERIES.status).span(8);
}

export function statusErrorsPanel(): timeseries.PanelBuilder {
  return routeErrorsPanel(P.statusErrors, STATUS_ROUTE).span(8);
}

// ---------------------------------------------------------------------------------------------------------------
// 공통 점검: DB 부하, Redis

export function poolUsagePanel(): timeseries.PanelBuilder {
  const connections = [
    { id: 'unit', value: 'short' },
    { id: 'decimals', value: 0 },
    { id: 'custom.axisPlacement', value: common.AxisPlacement.Right },
    { id: 'custom.axisLabel', value: 'connections' },
    { id: 'custom.thresholdsStyle', value: { mode: common.GraphThresholdsStyleMode.Off } },
  ];
  return defaultTimeseries()
    .id(P.poolUsage)
    .title('PostgreSQL pool: usage vs max')
    .description(
      `Left: share of the pool in use (${WINDOWS.saturation} average, as OrdersDatabasePoolSaturated computes it) ` +
        `against ${percent(THRESHOLDS.poolUsageRatio)}. ` +
        'Right: connections in use, idle and waiting, and the pool size. Any waiting means requests queue for a connection.',
    )
    .unit('percentunit')
    .min(0)
    .axisSoftMax(1)
    .thresholds(thresholds(COLORS.ok, [{ value: THRESHOLDS.poolUsageRatio, color: COLORS.critical }]))
    .thresholdsStyle(thresholdLines())
    .withTarget(
      promQuery(
        `avg_over_time(db_pool_connections{${SERVICE},state="in_use"}[${WINDOWS.saturation}])\n/ ignoring(state) db_pool_max_connections{${SERVICE}}`,
        { legend: 'in use / max', refId: 'A' },
      ),
    )
    .withTarget(promQuery(`sum by (state) (db_pool_connections{${SERVICE}})`, { legend: '{{state}}', refId: 'B' }))
    .withTarget(promQuery(`sum(db_pool_max_connections{${SERVICE}})`, { legend: 'max', refId: 'C' }))
    .overrideByQuery('B', connections)
    .overrideByQuery('C', [...connections, { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }])
    .overrideByName('in use / max', [{ id: 'custom.lineWidth', value: 3 }])
    .span(12);
}

export function redisUpPanel(): stat.PanelBuilder {
  return upStat('CONNECTED', 'DISCONNECTED')
    .id(P.redisUp)
    .title('Redis connected (service)')
    .description('1 when the service\'s Redis client is ready. Down: popular ranking is computed in PostgreSQL on every request.')
    .graphMode(common.BigValueGraphMode.Area)
    .withTarget(promQuery(`redis_connected{${SERVICE}}`, { legend: '{{instance}}' }))
    .span(6);
}

export function databaseUpPanel(): stat.PanelBuilder {
  return upStat()
    .id(P.databaseUp)
    .title('Database up (service)')
    .description('Last readiness check of PostgreSQL by the service. Down: every request answers 503.')
    .graphMode(common.BigValueGraphMode.Area)
    .withTarget(promQuery(`db_up{${SERVICE}}`, { legend: '{{instance}}' }))
    .span(6);
}

export function queryLatencyAllPanel(): timeseries.PanelBuilder {
  return latencyTimeseries(THRESHOLDS.queryLatencySeconds)
    .id(P.hotQueryDuration)
    .title(`DB query ${percentile(THRESHOLDS.latencyQuantile)} by query (all)`)
    .description(`Every named query and transaction over ${WINDOWS.saturation}: which one is slow when the pool fills up.`)
    .withTarget(
      promQuery(quantile(THRESHOLDS.latencyQuantile, 'db_query_duration_seconds', SERVICE, WINDOWS.saturation, ['query']), {
        legend: '{{query}}',
      }),
    )
    .span(12);
}

export function cacheLookupsPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(EXTRA.cacheLookups)
    .title('Cache look-ups by result')
    .description('Look-ups per second by cache and result (hit, miss, error).')
    .unit('ops')
    .min(0)
    .withTarget(
      promQuery(`sum by (cache, result) (${rate('cache_requests_total', SERVICE)})`, { legend: '{{cache}} {{result}}' }),
    )
    .span(12);
}

/**
 * Error-budget burn rate of an SLO (bad share over a window ÷ the budget 1 − objective), from the same recording
 * rules the burn-rate alerts read; the lines are the workbook's page (14.4×, 6×) and ticket (1×) rates.
 */
function budgetBurnPanel(id: number, sli: 'availability' | 'latency', title: string, legendPrefix: string): timeseries.PanelBuilder {
  const budget = 1 - SLOS[sli].objective;
  const rates = [...new Set(Object.values(BURN_RATE_WINDOWS).flat().map((w) => w.burnRate))].sort((a, b) => a - b);
  let panel = defaultTimeseries()
    .id(id)
    .title(title)
    .description(
      `Burn rate of the ${SLOS[sli].objective * 100}% ${sli} SLO: bad share over each window ÷ the error budget (${budget * 100}%). ` +
        `1× spends the ${SLO_PERIOD} budget in ${SLO_PERIOD}; the alerts page at ${BURN_RATE_WINDOWS.page.map((w) => `${w.burnRate}× over ${w.long} & ${w.short}`).join(', ')}.`,
    )
    .unit('x')
    .min(0)
    .thresholds(thresholds(COLORS.ok, rates.map((value) => ({ value, color: value >= 6 ? COLORS.critical : COLORS.warning }))))
    .thresholdsStyle(thresholdLines());
  ['5m', '1h', '6h', '3d'].forEach((window, i) => {
    panel = panel.withTarget(promQuery(`${sloRecord(sli, window)} / ${budget}`, { legend: `${legendPrefix}${window}`, refId: String.fromCharCode(65 + i) }));
  });
  return panel.span(12);
}

export function incidentsDashboard(): dashboard.DashboardBuilder {
  const builder = baseDashboard(
    'incidents',
    'The incident guide, panel by panel: 인기 상품 조회, 주문 상태 조회, then what both depend on (PostgreSQL pool, Redis).',
  )
    .withRow(row(EXTRA.rowPopular, `인기 상품 조회 (GET ${POPULAR_ROUTE})`))
    .withPanel(popularLatencyPanel())
    .withPanel(popularCacheHitRatioPanel())
    .withPanel(popularQueryDurationPanel())
    .withPanel(popularErrorsPanel())
    .withRow(row(EXTRA.rowStatus, `주문 상태 조회 (GET ${STATUS_ROUTE})`))
    .withPanel(statusLatencyPanel())
    .withPanel(statusQueryDurationPanel())
    .withPanel(statusErrorsPanel())
    .withRow(row(EXTRA.rowCommon, '공통 점검 (DB 부하, Redis)'))
    .withPanel(poolUsagePanel())
    .withPanel(redisUpPanel().height(8))
    .withPanel(databaseUpPanel().height(8))
    .withPanel(queryLatencyAllPanel())
    .withPanel(cacheLookupsPanel())
    .withRow(row(EXTRA.rowBudget, '오류 예산 (SLO)'))
    .withPanel(budgetBurnPanel(P.availabilityBudgetBurn, 'availability', 'Availability error budget burn rate (non-5xx)', ''))
    .withPanel(budgetBurnPanel(P.latencyBudgetBurn, 'latency', `Latency error budget burn rate (≤ ${THRESHOLDS.latencySeconds} s, per route)`, '{{http_route}} '));
  // The guide's response times from the incident timeline (incident/README.md): detect, acknowledge, mitigate, recover.
  return withIncidentResponseRow(builder);
}
