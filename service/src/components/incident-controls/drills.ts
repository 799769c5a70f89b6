import type { Logger } from '../../lib/logger';
import { CACHES, HOT_QUERIES } from '../../../../contract/queries';
import type { Metrics } from '../../telemetry/metrics';

/**
 * Incident drills: reproduce the guide's incidents on demand (slow popular/status queries, the popular cache not
 * applied, failing routes). Off unless FAULTS_ENABLED=true; every active drill shows in `fault_drill_active`
 * and on the log lines of the requests it touches, so nobody mistakes a drill for a real incident. A drill set on one
 * instance is in force on every instance started with FAULTS_ENABLED=true (shared through Redis).
 */
export interface DrillState {
  /** Extra time each named query holds its database connection, in ms. */
  queryLatencyMs: Partial<Record<DrillQuery, number>>;
  /** Caches whose look-ups are skipped, as if caching were not applied. */
  cacheBypass: DrillCache[];
  /** Routes answering 500, as "METHOD /template", or "*" for every route. */
  failingRoutes: string[];
}

export const DRILL_QUERIES = HOT_QUERIES;
export type DrillQuery = keyof typeof DRILL_QUERIES;
export const DRILL_CACHES = [CACHES.popular] as const;
export type DrillCache = (typeof DRILL_CACHES)[number];

const empty = (): DrillState => ({ queryLatencyMs: {}, cacheBypass: [], failingRoutes: [] });

export function createDrills(metrics: Metrics, logger: Logger, enabled: boolean) {
  let state = empty();
  const delayByQueryName = new Map<string, number>();

  function publish() {
    delayByQueryName.clear();
    for (const target of Object.keys(DRILL_QUERIES) as DrillQuery[]) {
      const ms = state.queryLatencyMs[target] ?? 0;
      if (ms > 0) for (const query of DRILL_QUERIES[target]) delayByQueryName.set(query, ms);
      metrics.faultDrillActive.labels(`${target}_latency`).set(ms > 0 ? 1 : 0);
    }
    metrics.faultDrillActive.labels('popular_cache_bypass').set(state.cacheBypass.includes(CACHES.popular) ? 1 : 0);
    metrics.faultDrillActive.labels('route_errors').set(state.failingRoutes.length > 0 ? 1 : 0);
  }
  if (enabled) publish();

  return {
    enabled,
    state: (): DrillState => structuredClone(state),
    /** The state after merging `change` into the current one (what PUT /admin/drills shares with every instance). */
    merged: (change: Partial<DrillState>): DrillState => structuredClone({ ...state, ...change }),
    /**
     * Puts a whole drill state (or null: none) in force on this instance; the shared settings call it on every
     * instance. An instance started without FAULTS_ENABLED keeps it but never acts on it.
     */
    apply(next: DrillState | null): DrillState {
      state = next ? structuredClone(next) : empty();
      if (enabled) {
        publish();
        logger.warn(next ? 'drill changed: this is an exercise, not an incident' : 'drill cleared', { drill: state });
      }
      return structuredClone(state);
    },
    /** Names of the active drills, for log lines; empty when none. */
    active(): string[] {
      if (!enabled) return [];
      const names = Object.entries(state.queryLatencyMs).filter(([, ms]) => ms! > 0).map(([target]) => `${target}_latency`);
      if (state.cacheBypass.length) names.push('popular_cache_bypass');
      if (state.failingRoutes.length) names.push('route_errors');
      return names;
    },
    queryDelayMs: (queryName: string): number => (enabled ? delayByQueryName.get(queryName) ?? 0 : 0),
    bypassCache: (cache: string): boolean => enabled && state.cacheBypass.includes(cache as DrillCache),
    /** Whether the route-errors drill names any route (false costs the request path nothing more). */
    failsAnyRoute: (): boolean => enabled && state.failingRoutes.length > 0,
    failsRoute: (method: string, route: string): boolean =>
      enabled && state.failingRoutes.some((r) => r === '*' || r === `${method} ${route}`),
  };
}

export type Drills = ReturnType<typeof createDrills>;
