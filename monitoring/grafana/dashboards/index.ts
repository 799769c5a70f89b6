/**
 * Every Orders dashboard, built by the Grafana Foundation SDK, as plain JSON ready for file provisioning.
 * `npm run generate` writes them next to this file; the monitoring tests fail when the committed JSON is stale.
 */
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS, type DashboardKey } from '../../../contract';
import { alertsDashboard } from './alerts';
import { dependenciesDashboard } from './dependencies';
import { incidentsDashboard } from './incidents';
import { loadtestDashboard } from './loadtest';
import { overviewDashboard } from './overview';

export interface GeneratedDashboard {
  /** File name under monitoring/grafana/dashboards/, `<uid>.json`. */
  file: string;
  /** The dashboard model (SDK `.build()`), as JSON would carry it. */
  json: object;
}

const BUILDERS: Record<DashboardKey, () => DashboardBuilder> = {
  overview: overviewDashboard,
  incidents: incidentsDashboard,
  dependencies: dependenciesDashboard,
  alerts: alertsDashboard,
  loadtest: loadtestDashboard,
};

/** The SDK's models carry helper functions on queries; JSON is what Grafana reads, so return exactly that. */
function toJson(model: unknown): object {
  return JSON.parse(JSON.stringify(model)) as object;
}

export function buildDashboards(): GeneratedDashboard[] {
  return (Object.keys(BUILDERS) as DashboardKey[]).map((key) => ({
    file: `${DASHBOARDS[key].uid}.json`,
    json: toJson(BUILDERS[key]().build()),
  }));
}
