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

/**
 * Checks PostgreSQL the way readiness needs it (reachable, schema current) and records the result as `db_up`.
 * The readiness probe calls it, and main.ts runs it every few seconds so `db_up` is fresh between probes.
 */
export function createDatabaseCheck(db: Database, metrics: Metrics) {
  let schemaCurrent = false;
  return async function checkDatabase(): Promise<{ ok: boolean; detail: string }> {
    try {
      await db.query('readiness_ping', 'SELECT 1');
      schemaCurrent ||= await isSchemaCurrent(db.sequelize);
      metrics.dbUp.set(1);
      return schemaCurrent ? { ok: true, detail: 'ok' } : { ok: false, detail: 'migrations pending' };
    } catch (error) {
      metrics.dbUp.set(0);
      return { ok: false, detail: (error as Error).message };
    }
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
