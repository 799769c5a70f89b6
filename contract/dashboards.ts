/**
 * The contract between alerts and dashboards: which dashboard and panel shows each signal. Alert rules link to
 * these panels (annotation dashboard_url) and the dashboard code places panels with exactly these ids.
 */
export const GRAFANA_URL = process.env.GRAFANA_URL ?? 'http://localhost:9999';

export const DASHBOARDS = {
  overview: { uid: 'orders-overview', title: 'Orders · Service overview' },
  incidents: { uid: 'orders-incidents', title: 'Orders · Incidents' },
  dependencies: { uid: 'orders-dependencies', title: 'Orders · Dependencies' },
  alerts: { uid: 'orders-alerts', title: 'Orders · Alerts' },
  loadtest: { uid: 'orders-loadtest', title: 'Orders · Load tests' },
} as const;

export type DashboardKey = keyof typeof DASHBOARDS;

export const PANELS = {
  overview: {
    requestRate: 1,
    errorRatio: 2,
    latency: 3,
    inFlight: 4,
    eventLoopLag: 5,
    memory: 6,
    targetsUp: 7,
    probe: 8,
  },
  incidents: {
    popularLatency: 11,
    popularCacheHitRatio: 12,
    popularQueryDuration: 13,
    popularErrors: 14,
    statusLatency: 21,
    statusQueryDuration: 22,
    statusErrors: 23,
    poolUsage: 31,
    redisUp: 32,
    databaseUp: 33,
    hotQueryDuration: 300,
    availabilityBudgetBurn: 34,
    latencyBudgetBurn: 35,
  },
  dependencies: {
    postgresUp: 41,
    postgresConnections: 42,
    postgresTransactions: 43,
    postgresLocks: 44,
    redisUp: 51,
    redisMemory: 52,
    redisCommands: 53,
    redisClients: 54,
  },
  alerts: {
    firingCritical: 61,
    firingMajor: 62,
    firingMinor: 63,
    firingTable: 64,
  },
  loadtest: {
    runVerdict: 71,
    lastRun: 72,
    latency: 73,
    serviceLatency: 74,
    arrivalRate: 75,
    failures: 76,
    judgedLatency: 77,
  },
} as const satisfies Record<DashboardKey, Record<string, number>>;

/** One panel of one dashboard, e.g. `{ dashboard: 'incidents', panel: 'popularLatency' }`. */
export type PanelRef = { [D in DashboardKey]: { dashboard: D; panel: keyof (typeof PANELS)[D] } }[DashboardKey];

const slug = (title: string) => title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

export function panelId(ref: PanelRef): number {
  return (PANELS[ref.dashboard] as Record<string, number>)[ref.panel as string]!;
}

/** The URL that opens one panel of a provisioned dashboard. */
export function panelUrl(ref: PanelRef, grafanaUrl = GRAFANA_URL): string {
  const dashboard = DASHBOARDS[ref.dashboard];
  return `${grafanaUrl}/d/${dashboard.uid}/${slug(dashboard.title)}?viewPanel=panel-${panelId(ref)}`;
}
