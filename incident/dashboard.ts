/**
 * The incident response row (time to detect / acknowledge / mitigate / recover), for a dashboard built with the
 * project's Grafana SDK helpers. The monitoring code owns the dashboards; it adds this row with
 * `withIncidentResponseRow(builder)` (e.g. at the end of the Incidents dashboard).
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { INCIDENT_METRICS, INCIDENT_PHASES, RESPONSE_TARGETS_SECONDS, type IncidentPhase } from '../contract/incident';
import { COLORS, defaultStat, defaultTimeseries, promQuery, row, thresholds } from '../monitoring/grafana/dashboards/common';

/** Panel ids of the row (free in every Orders dashboard today; move them into contract/dashboards.ts PANELS at merge). */
export const INCIDENT_RESPONSE_PANELS = {
  row: 700,
  lastDetect: 701,
  lastAcknowledge: 702,
  lastMitigate: 703,
  lastRecover: 704,
  open: 705,
  phaseQuantiles: 706,
} as const;

const TITLES: Record<IncidentPhase, string> = {
  detect: '감지까지 (발생 → 감지)',
  acknowledge: '소집까지 (Slack 전달 → 소집)',
  mitigate: '임시 조치까지 (발생 → 조치)',
  recover: '복구까지 (발생 → 복구)',
};

const PANEL_OF: Record<IncidentPhase, number> = {
  detect: INCIDENT_RESPONSE_PANELS.lastDetect,
  acknowledge: INCIDENT_RESPONSE_PANELS.lastAcknowledge,
  mitigate: INCIDENT_RESPONSE_PANELS.lastMitigate,
  recover: INCIDENT_RESPONSE_PANELS.lastRecover,
};

/**
 * Adds the row: four stats of the latest incident's phases (seconds; detect turns red past the Major target),
 * whether an incident is open, and the median and p90 of each phase over the dashboard's time range.
 */
export function withIncidentResponseRow(builder: dashboard.DashboardBuilder): dashboard.DashboardBuilder {
  builder.withRow(row(INCIDENT_RESPONSE_PANELS.row, '장애 대응 시간 (타임라인 기록)'));
  for (const phase of INCIDENT_PHASES) {
    const stat = defaultStat()
      .id(PANEL_OF[phase])
      .title(TITLES[phase])
      .description(`Latest incident, ${phase} phase (contract/incident.ts), from the incident timeline receiver.`)
      .unit('s')
      .withTarget(promQuery(`${INCIDENT_METRICS.lastResponseDuration}{phase="${phase}"}`, { legend: phase, instant: true }))
      .span(4);
    if (phase === 'detect') {
      stat.thresholds(thresholds(COLORS.ok, [{ value: RESPONSE_TARGETS_SECONDS.detect.major, color: COLORS.critical }]));
    }
    builder.withPanel(stat);
  }
  builder.withPanel(
    defaultStat()
      .id(INCIDENT_RESPONSE_PANELS.open)
      .title('진행 중인 장애')
      .unit('short')
      .thresholds(thresholds(COLORS.ok, [{ value: 1, color: COLORS.critical }]))
      .withTarget(promQuery(INCIDENT_METRICS.open, { legend: 'open', instant: true }))
      .span(4),
  );
  const bucket = `${INCIDENT_METRICS.responseDuration}_bucket`;
  builder.withPanel(
    defaultTimeseries()
      .id(INCIDENT_RESPONSE_PANELS.phaseQuantiles)
      .title('단계별 소요 시간 (중앙값, p90)')
      .description('Quantiles of each phase over the incidents recorded in the selected time range.')
      .unit('s')
      .withTarget(promQuery(`histogram_quantile(0.5, sum by (phase, le) (increase(${bucket}[$__range])))`, { legend: '{{phase}} p50', refId: 'A' }))
      .withTarget(promQuery(`histogram_quantile(0.9, sum by (phase, le) (increase(${bucket}[$__range])))`, { legend: '{{phase}} p90', refId: 'B' }))
      .span(20),
  );
  return builder;
}
