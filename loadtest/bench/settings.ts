import { THRESHOLDS } from '../../contract';
import { SetupError } from '../src/service-api';

/**
 * Every number `npm run bench` judges or drives its runs by, defined once. The incident line (1 s) is the
 * guide's, read from contract/thresholds.ts; the other targets are this benchmark's own.
 */
export const TARGETS = {
  /** The guide's incident line: with the remedies removed p99 should exceed it, with them it must stay under. */
  incidentLatencyMs: THRESHOLDS.latencySeconds * 1000,
  /** Cached popular throughput through the service as a fraction of a minimal Koa app sending the same bytes (issue 13). */
  minimalKoaFraction: 0.85,
  /** Throughput lost to metrics and default logging, against the same service with them off. */
  instrumentationLoss: 0.05,
  /** p99 of popular when every request misses the cache and reads the rollup. */
  coldPathP99Ms: 100,
  /** Database aggregates run for one burst of concurrent requests right after the cache key expired. */
  stampedeAggregates: 1,
  /** p99 of status by orderId and by userId under the mixed load. */
  statusP99Ms: 20,
  /** Time to render the ops /metrics page. */
  metricsRenderMs: 10,
  /** Series (non-comment lines) on the ops /metrics page. */
  metricsSeries: 1_000,
} as const;

/** Load shapes. `--quick` shrinks the durations for trial runs (the figures are then not comparable). */
export const LOAD = {
  /** Measured runs per case; the reported figure is the median of the runs. */
  runs: 3,
  /** Rounds of the throughput comparisons (2, 3): every server once per round; five servers on a noisy machine. */
  throughputRuns: 5,
  runSeconds: 5,
  warmupSeconds: 2,
  /** Closed-loop connections for the throughput comparisons (2, 3). */
  ceilingConnections: 50,
  incident: {
    /** Popular without cache or rollup: each request aggregates ~260k order items, so a few shoppers suffice. */
    popularConnections: 4,
    /**
     * Status by userId without its index: each request scans the 1M orders (~40 ms alone). Twice the service's
     * pool (DB_POOL_MAX default 10): half the shoppers wait for a connection, under the 500 ms acquire limit
     * beyond which the service answers 503 instead of waiting longer.
     */
    statusConnections: 20,
    /** With the remedies, runs of this many seconds. */
    runSeconds: 8,
    /** Without them, runs of this many answers per connection (every request answered; about 8 s each). */
    answersPerConnection: { popular: 3, status: 8 },
  },
  /** Concurrent shoppers on popular while every request misses the cache (4). */
  coldConnections: 4,
  /**
   * Requests fired at once as the cached ranking expires, how many times, the TTL of the instance that serves
   * them, and how long after the expiry the burst is written (5).
   */
  stampede: { requests: 200, trials: 3, ttlSeconds: 2, afterExpiryMs: 5 },
  /**
   * Mixed load (6): popular (cached), status by orderId and status by userId at once, each at this fixed rate
   * (requests evenly spaced, an open model) over at most this many keep-alive connections. About half of what
   * the service can serve on its one core. A p99 over 5 s is the most noise-prone figure of the bench (one stall
   * of this shared VM moves it), so it takes the median of more runs than the others.
   */
  mixed: { connectionsPerEndpoint: 20, ratePerEndpoint: 300, runs: 5 },
  /** Sequential renders of the ops /metrics page (7). */
  metricsRenders: 20,
  /** autocannon gives up on a response after this long. */
  timeoutSeconds: 15,
} as const;

/** The seeded volume the bench measures at (the queries.md volume). */
export const SEED = { users: 100_000, products: 2_000, orders: 1_000_000, days: 30 } as const;

/** Ports of the processes the bench starts; away from the defaults (3000/9464) and the load tests (3100/9565). */
export const PORTS = {
  service: { api: 4711, ops: 4712 },
  serviceUninstrumented: { api: 4721, ops: 4722 },
  serviceLogDebug: { api: 4731, ops: 4732 },
  serviceDrills: { api: 4741, ops: 4742 },
  serviceShortTtl: { api: 4791, ops: 4792 },
  withoutRollup: { api: 4751, ops: 4752 },
  ceiling: 4761,
  minimalKoa: 4765,
  peer: 4771,
} as const;

/** CPU cores: every server under test on one, this process (autocannon) on the other. */
export const CORES = { server: 0, loadGenerator: 1 } as const;

/** The popular query every comparison uses (the route's defaults). */
export const POPULAR = { days: 3, limit: 5 } as const;
export const POPULAR_PATH = `/api/orders/popular?days=${POPULAR.days}&limit=${POPULAR.limit}`;

/**
 * Whether to seed before measuring, given the orders present: only with `--reset-data` (which replaces ALL data).
 * Without it the bench never writes data: with fewer than SEED.orders it stops with a SetupError saying how to seed.
 */
export function seedPlan(existingOrders: number, resetData: boolean): { seed: boolean; reason: string } {
  const have = existingOrders.toLocaleString('en-US');
  if (resetData) return { seed: true, reason: `--reset-data (${have} orders were present)` };
  if (existingOrders >= SEED.orders) return { seed: false, reason: `${have} orders already present` };
  throw new SetupError(
    `the database has ${have} orders and the bench measures at ${SEED.orders.toLocaleString('en-US')}: ` +
      'run `npm run bench -- --reset-data` to DELETE ALL DATA and seed them (about a minute), or seed a database of your own',
  );
}
