/**
 * Building blocks shared by every dashboard: the datasource, query and panel defaults, threshold steps and value
 * mappings. Each dashboard file composes these into one small function per panel (the SDK's red-method style).
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { JOB } from '../../../contract';
import { THRESHOLDS } from '../../../contract';
import { DASHBOARDS, type DashboardKey } from '../../../contract';

/** Provisioned with exactly this uid (monitoring/grafana provisioning). */
export const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: 'prometheus' };

/** The service's scrape job, as the alert rules select it. */
export const SERVICE = `job="${JOB}"`;

/** Grafana picks a window of at least four scrape intervals for plain rate panels; alert-mirroring panels use WINDOWS. */
export const RATE_INTERVAL = '$__rate_interval';

export const COLORS = {
  ok: 'green',
  warning: 'orange',
  critical: 'red',
  minor: 'yellow',
} as const;

export const TAGS = ['orders', 'generated'];

// ---------------------------------------------------------------------------------------------------------------
// Queries

export interface QueryOptions {
  legend?: string;
  refId?: string;
  instant?: boolean;
  table?: boolean;
}

/** One PromQL target on the provisioned Prometheus datasource. */
export function promQuery(expr: string, options: QueryOptions = {}): prometheus.DataqueryBuilder {
  const query = new prometheus.DataqueryBuilder()
    .datasource(DATASOURCE)
    .editorMode(prometheus.QueryEditorMode.Code)
    .expr(expr)
    .refId(options.refId ?? 'A')
    .legendFormat(options.legend ?? '__auto');
  if (options.instant) query.instant();
  else query.range();
  if (options.table) query.format(prometheus.PromQueryFormat.Table);
  return query;
}

/** 0.95 → "p95", for titles and legends. */
export function percentile(q: number): string {
  return `p${Math.round(q * 1000) / 10}`;
}

/** 0.05 → "5%", for descriptions. */
export function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

/** `rate(metric{selector}[window])`, the selector always scoped to one job. */
export function rate(metric: string, selector: string, window: string = RATE_INTERVAL): string {
  return `rate(${metric}{${selector}}[${window}])`;
}

/** A histogram quantile over the buckets of `metric`, kept apart by `by` labels. */
export function quantile(q: number, metric: string, selector: string, window: string, by: string[] = []): string {
  return `histogram_quantile(${q}, sum by (${['le', ...by].join(', ')}) (${rate(`${metric}_bucket`, selector, window)}))`;
}

/**
 * The 5xx share of the service's requests matching `selector`, per `by` labels: 0 where there were requests but never
 * a 5xx (a status series exists only once it has been answered); NaN over a window without requests.
 */
export function serverErrorRatio(selector: string, window: string, by: string[] = []): string {
  const metric = 'http_server_request_duration_seconds_count';
  const grouping = by.length > 0 ? ` by (${by.join(', ')})` : '';
  const scoped = [SERVICE, selector].filter(Boolean).join(',');
  const all = `sum${grouping} (${rate(metric, scoped, window)})`;
  return [`(sum${grouping} (${rate(metric, `${scoped},http_response_status_code=~"5.."`, window)})`, `or ${all} * 0)`, `/ ${all}`].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Thresholds and mappings

export function thresholds(base: string, steps: { value: number; color: string }[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: base }, ...steps]);
}

/** The incident guide's line, red at THRESHOLDS.latencySeconds: drawn on every latency panel. */
export function latencyThresholds(earlyWarningSeconds?: number): dashboard.ThresholdsConfigBuilder {
  const steps = earlyWarningSeconds === undefined ? [] : [{ value: earlyWarningSeconds, color: COLORS.warning }];
  return thresholds(COLORS.ok, [...steps, { value: THRESHOLDS.latencySeconds, color: COLORS.critical }]);
}

export function thresholdLines(mode = common.GraphThresholdsStyleMode.Line): common.GraphThresholdsStyleConfigBuilder {
  return new common.GraphThresholdsStyleConfigBuilder().mode(mode);
}

/** 1 → up (green), 0 → down (red), for `up`-style gauges. */
export function upDownMappings(upText: string, downText: string): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: {
        '0': { text: downText, color: COLORS.critical, index: 0 },
        '1': { text: upText, color: COLORS.ok, index: 1 },
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Panels

/** Time series defaults: legend as a table with last and max (responders compare numbers), shared tooltip. */
export function defaultTimeseries(): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .datasource(DATASOURCE)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .drawStyle(common.GraphDrawStyle.Line)
    .gradientMode(common.GraphGradientMode.Opacity)
    .lineInterpolation(common.LineInterpolation.Linear)
    .spanNulls(false)
    .axisBorderShow(false)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .placement(common.LegendPlacement.Bottom)
        .displayMode(common.LegendDisplayMode.Table)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .thresholdsStyle(thresholdLines(common.GraphThresholdsStyleMode.Off))
    .height(8);
}

/** A time series of durations with the incident guide's 1 s line drawn (and an optional early-warning line). */
export function latencyTimeseries(earlyWarningSeconds?: number): timeseries.PanelBuilder {
  return defaultTimeseries()
    .unit('s')
    .min(0)
    .thresholds(latencyThresholds(earlyWarningSeconds))
    .thresholdsStyle(thresholdLines(common.GraphThresholdsStyleMode.LineAndArea));
}

/** A ratio (0..1) shown as a percentage. */
export function ratioTimeseries(): timeseries.PanelBuilder {
  return defaultTimeseries().unit('percentunit').min(0).max(1);
}

/** The latest value, big. */
export function defaultStat(): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .datasource(DATASOURCE)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Background)
    .textMode(common.BigValueTextMode.Auto)
    .justifyMode(common.BigValueJustifyMode.Auto)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .height(5);
}

/** 1 = up, 0 = down, per series. */
export function upStat(upText = 'UP', downText = 'DOWN'): stat.PanelBuilder {
  return defaultStat()
    .mappings(upDownMappings(upText, downText))
    .thresholds(thresholds(COLORS.critical, [{ value: 1, color: COLORS.ok }]))
    .min(0)
    .max(1);
}

// ---------------------------------------------------------------------------------------------------------------
// Dashboards

/** A row that stays open: the panels added after it (withPanel) belong to it, as in the SDK's red-method example. */
export function row(id: number, title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title).id(id);
}

/** Grafana's own annotations and alert state changes, as Grafana adds to every dashboard it creates. */
export function builtInAnnotations(): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name('Annotations & Alerts')
    .builtIn(1)
    .datasource({ type: 'grafana', uid: '-- Grafana --' })
    .type('dashboard')
    .enable(true)
    .hide(true)
    .iconColor('rgba(0, 211, 255, 1)');
}

/** Title, uid, tags, time and the links to the other Orders dashboards, from the contract in links.ts. */
export function baseDashboard(key: DashboardKey, description: string): dashboard.DashboardBuilder {
  const { uid, title } = DASHBOARDS[key];
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(TAGS)
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .timezone('browser')
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .variables([])
    .annotation(builtInAnnotations())
    .link(
      new dashboard.DashboardLinkBuilder('Orders dashboards')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(['orders'])
        .asDropdown(false)
        .keepTime(true)
        .includeVars(false)
        .targetBlank(false),
    );
}
