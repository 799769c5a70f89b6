import Koa from 'koa';
import Router from '@koa/router';
import type { Database } from '../infra/database';
import { isSchemaCurrent } from '../infra/migrator';
import type { RedisClient } from '../infra/redis';
import { errorHandler } from '../lib/http/error-handler';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../telemetry/metrics';

export interface Readiness {
  /** False from the moment shutdown begins, so the load balancer stops routing here while requests drain. */
  accepting: boolean;
}

/** How long the database check waits for `SELECT 1`, in ms: past it PostgreSQL counts as not answering (hung). */
export const DATABASE_CHECK_TIMEOUT_MS = 1_000;
/** How often the service checks PostgreSQL between readiness probes, in ms (createService). */
export const DATABASE_CHECK_INTERVAL_MS = 1_000;
/** Failed checks in a row (not pool pressure) after which requests fail fast with DATABASE_UNAVAILABLE. */
export const NOT_ANSWERING_AFTER_CHECKS = 2;

/**
 * Checks PostgreSQL the way readiness needs it (answering within DATABASE_CHECK_TIMEOUT_MS, schema current) and
 * records the result as `db_up`. The readiness probe calls it, and createService every DATABASE_CHECK_INTERVAL_MS, so
 * a database that stops answering (stopped, frozen, a network that drops everything) is `db_up` 0 within
 * DATABASE_CHECK_INTERVAL_MS + DATABASE_CHECK_TIMEOUT_MS (2 s); after NOT_ANSWERING_AFTER_CHECKS such checks in a row
 * (3 s) requests fail fast with DATABASE_UNAVAILABLE until a check succeeds (`db.setAnswering`). The check runs on a
 * connection of its own (db.ping), so a full pool does not fail it and it never takes a pooled connection; a check
 * still waiting is shared, never doubled.
 */
export function createDatabaseCheck(db: Database, metrics: Metrics) {
  let schemaCurrent = false;
  let misses = 0;
  let inFlight: Promise<{ ok: boolean; detail: string }> | undefined;
  async function check(): Promise<{ ok: boolean; detail: string }> {
    try {
      await db.ping(DATABASE_CHECK_TIMEOUT_MS);
    } catch (error) {
      metrics.dbUp.set(0);
      // One slow check (a pause, a failover's first second) is not enough to refuse every request.
      if (++misses >= NOT_ANSWERING_AFTER_CHECKS) db.setAnswering(false);
      return { ok: false, detail: (error as Error).message };
    }
    misses = 0;
    metrics.dbUp.set(1);
    db.setAnswering(true);
    try {
      // Through the pool, once: a full pool fails it with the pool's answer, not as a database that is down.
      schemaCurrent ||= await isSchemaCurrent(db.sequelize);
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    }
    return schemaCurrent ? { ok: true, detail: 'ok' } : { ok: false, detail: 'migrations pending' };
  }
  return function checkDatabase(): Promise<{ ok: boolean; detail: string }> {
    inFlight ??= check().finally(() => (inFlight = undefined));
    return inFlight;
  };
}

export type DatabaseCheck = ReturnType<typeof createDatabaseCheck>;

/**
 * The operators' port: metrics, liveness and readiness. It is never published as part of the public API.
 */
export function createOpsApp(deps: {
  checkDatabase: DatabaseCheck;
  db: Database;
  redis: RedisClient;
  metrics: Metrics;
  logger: Logger;
  readiness: Readiness;
  /** Adds the responders' admin routes (traffic limiting, drills) when an admin token is configured. */
  registerAdmin?: (router: Router) => void;
}): Koa {
  const { checkDatabase, db, redis, metrics, logger, readiness } = deps;
  const app = new Koa();
  const router = new Router();

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const database = await checkDatabase();
    const cache = redis.isReady ? 'ok' : 'degraded';
    const ready = readiness.accepting && database.ok;
    ctx.status = ready ? 200 : 503;
    ctx.body = {
      status: ready ? (cache === 'ok' ? 'ready' : 'degraded') : 'not_ready',
      checks: { accepting: readiness.accepting, database: database.detail, redis: cache },
    };
  });

  router.get('/metrics', async (ctx) => {
    const pool = db.poolStats();
    metrics.dbPoolConnections.labels('in_use').set(pool.inUse);
    metrics.dbPoolConnections.labels('idle').set(pool.idle);
    metrics.dbPoolConnections.labels('waiting').set(pool.waiting);
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });

  deps.registerAdmin?.(router);
  app.use(errorHandler(logger));
  app.use(router.routes());
  app.silent = true;
  return app;
}
