/**
 * Orders · Alerts: what is firing now, by severity, and which alerts. Counts read Prometheus' ALERTS series, so they
 * show the rules' state even when Alertmanager is down. Watchdog (always firing by design) is left out of the counts
 * and the table and shown on its own: it proves the pipeline is alive.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type { Severity } from '../../../contract';
import { PANELS } from '../../../contract';
import { COLORS, DATASOURCE, baseDashboard, defaultStat, defaultTimeseries, promQuery, thresholds } from './common';

const P = PANELS.alerts;

const EXTRA = {
  pending: 600,
  watchdog: 601,
  firingOverTime: 602,
} as const;

const WATCHDOG = 'Watchdog';

const SEVERITY_COLOR: Record<Severity, string> = {
  critical: COLORS.critical,
  major: COLORS.warning,
  minor: COLORS.minor,
};

/** ALERTS in one state, without the Watchdog heartbeat. */
export function alertsSelector(state: 'firing' | 'pending', extra = ''): string {
  return `ALERTS{alertstate="${state}",alertname!="${WATCHDOG}"${extra}}`;
}

/** `count(...) or vector(0)`: nothing firing shows 0, not "No data". */
export function countOrZero(selector: string): string {
  return `count(${selector}) or vector(0)`;
}

export function firingCountPanel(id: number, severity: Severity): stat.PanelBuilder {
  return defaultStat()
    .id(id)
    .title(`Firing: ${severity}`)
    .description(`Alerts of severity ${severity} firing now (instances, Watchdog excluded).`)
    .unit('short')
    .decimals(0)
    .thresholds(thresholds(COLORS.ok, [{ value: 1, color: SEVERITY_COLOR[severity] }]))
    .withTarget(
      promQuery(countOrZero(alertsSelector('firing', `,severity="${severity}"`)), { legend: severity, instant: true }),
    )
    .span(5);
}

export function firingCriticalPanel(): stat.PanelBuilder {
  return firingCountPanel(P.firingCritical, 'critical');
}

export function firingMajorPanel(): stat.PanelBuilder {
  return firingCountPanel(P.firingMajor, 'major');
}

export function firingMinorPanel(): stat.PanelBuilder {
  return firingCountPanel(P.firingMinor, 'minor');
}

export function pendingPanel(): stat.PanelBuilder {
  return defaultStat()
    .id(EXTRA.pending)
    .title('Pending')
    .description('Alerts whose condition holds but not yet for their `for` duration: likely to fire next.')
    .unit('short')
    .decimals(0)
    .thresholds(thresholds(COLORS.ok, [{ value: 1, color: COLORS.minor }]))
    .withTarget(promQuery(countOrZero(alertsSelector('pending')), { legend: 'pending', instant: true }))
    .span(5);
}

export function watchdogPanel(): stat.PanelBuilder {
  return defaultStat()
    .id(EXTRA.watchdog)
    .title('Alert pipeline (Watchdog)')
    .description('Watchdog always fires. 0 means Prometheus is not evaluating the rules: no alert can reach anyone.')
    .mappings([
      {
        type: dashboard.MappingType.ValueToText,
        options: {
          '0': { text: 'BROKEN', color: COLORS.critical, index: 0 },
          '1': { text: 'ALIVE', color: COLORS.ok, index: 1 },
        },
      },
    ])
    .thresholds(thresholds(COLORS.critical, [{ value: 1, color: COLORS.ok }]))
    .withTarget(
      promQuery(countOrZero(`ALERTS{alertname="${WATCHDOG}",alertstate="firing"}`), { legend: 'watchdog', instant: true }),
    )
    .span(4);
}

export function firingTablePanel(): table.PanelBuilder {
  const severityMappings: dashboard.ValueMapping[] = [
    {
      type: dashboard.MappingType.ValueToText,
      options: Object.fromEntries(
        Object.entries(SEVERITY_COLOR).map(([severity, color], index) => [severity, { color, index }]),
      ),
    },
  ];
  return new table.PanelBuilder()
    .datasource(DATASOURCE)
    .id(P.firingTable)
    .title('Firing alerts')
    .description(
      'Every firing alert instance (Watchdog excluded), most severe first; ' +
        'extra columns are the labels that tell instances apart.',
    )
    .withTarget(promQuery(alertsSelector('firing'), { instant: true, table: true }))
    .withTransformation({
      id: 'organize',
      options: {
        excludeByName: { Time: true, Value: true, __name__: true, alertstate: true },
        indexByName: { alertname: 0, severity: 1, service: 2 },
        renameByName: {},
      },
    })
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('severity').desc(false)])
    .cellHeight(common.TableCellHeight.Sm)
    .filterable(true)
    .noValue('Nothing firing')
    .overrideByName('severity', [
      { id: 'mappings', value: severityMappings },
      { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorText } },
    ])
    .height(10)
    .span(24);
}

export function firingOverTimePanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(EXTRA.firingOverTime)
    .title('Firing alerts over time by severity')
    .description('When alerts fired during the selected range (Watchdog excluded).')
    .unit('short')
    .decimals(0)
    .min(0)
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
    .withTarget(promQuery(`count by (severity) (${alertsSelector('firing')})`, { legend: '{{severity}}' }))
    .overrides(
      Object.entries(SEVERITY_COLOR).map(([severity, color]) => ({
        matcher: { id: 'byName', options: severity },
        properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }],
      })),
    )
    .span(24);
}

export function alertsDashboard(): dashboard.DashboardBuilder {
  return baseDashboard('alerts', 'What is firing now, by severity, and which alerts.')
    .withPanel(firingCriticalPanel())
    .withPanel(firingMajorPanel())
    .withPanel(firingMinorPanel())
    .withPanel(pendingPanel())
    .withPanel(watchdogPanel())
    .withPanel(firingTablePanel())
    .withPanel(firingOverTimePanel());
}
