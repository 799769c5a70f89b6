import type { RequestListener } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { REQUEST_RECEIVE_TIMEOUT_MS } from '../../contract/edge';
import { CACHES } from '../../contract/queries';
import Koa from 'koa';
import Router from '@koa/router';
import type { Config } from './config';
import { createCancelOrder } from './components/orders/cancel-order';
import { createOrderQueries, POPULAR_CACHE_KEY_PREFIX } from './components/orders/order-queries';
import { createPlaceOrder } from './components/orders/place-order';
import { createOrderRepository } from './components/orders/repository';
import { registerOrderRoutes } from './components/orders/routes';
import { createProductRepository } from './components/products/repository';
import { registerProductRoutes } from './components/products/routes';
import { createUserRepository } from './components/users/repository';
import { registerUserRoutes } from './components/users/routes';
import { createJsonCache } from './infra/cache';
import { createDatabase, type Database } from './infra/database';
import { connectInBackground, createRedis, type RedisClient } from './infra/redis';
import { AppError } from './lib/app-error';
import { errorHandler } from './lib/http/error-handler';
import { requestId } from './lib/http/request-id';
import { securityHeaders } from './lib/http/security-headers';
import { createLogger, type Logger } from './lib/logger';
import { createRequestContextStorage } from './lib/request-context';
import { createMetrics, type Metrics } from './telemetry/metrics';
import { requestTelemetry } from './telemetry/http';
import { registerAdminRoutes } from './components/incident-controls/admin-routes';
import { createDrills, type DrillState } from './components/incident-controls/drills';
import { createDatabaseCheck, createOpsApp, DATABASE_CHECK_INTERVAL_MS, type DatabaseCheck, type Readiness } from './ops/ops-app';
import { createRateLimiter, type SharedRateLimit } from './components/incident-controls/rate-limiter';
import { createSharedSettings, SHARED_SETTING_KEYS } from './components/incident-controls/shared-settings';
import { drillFailures, trafficLimit } from './components/incident-controls/middleware';
import { declaresTooLarge } from './lib/http/json-body';
import { createServerEdge, PARSER_REJECTION_STATUSES, type ServerEdge } from './lib/http/server-edge';

/** What a caller may swap in the service it gets; everything else is wired as in production. */
export interface ServiceOverrides {
  /** Where the JSON log lines go (default: stdout). */
  logStream?: NodeJS.WritableStream;
  /** Wraps the database before the service uses it (the bench swaps one query). */
  db?: (db: Database) => Database;
  /** Wraps the metrics before the service uses them (the bench switches instrumentation off). */
  metrics?: (metrics: Metrics) => Metrics;
  /** How often db_up is refreshed between readiness probes, in ms (default DATABASE_CHECK_INTERVAL_MS). */
  databaseCheckIntervalMs?: number;
}

export interface Service {
  /** The public API's request listener: one Koa middleware chain. */
  api: RequestListener;
  /** The operators' port: metrics, probes and, with an admin token, the incident controls' admin routes. */
  ops: RequestListener;
  /** What the public API's server answers before the app (parser rejections, 100-continue): pass to listen(). */
  apiEdge: ServerEdge;
  opsEdge: ServerEdge;
  readiness: Readiness;
  checkDatabase: DatabaseCheck;
  config: Config;
  db: Database;
  redis: RedisClient;
  metrics: Metrics;
  logger: Logger;
  /** Resolves true once Redis is connected, false after `timeoutMs` without it (the service runs without Redis). */
  redisReady(timeoutMs: number): Promise<boolean>;
  /** Stops the periodic database check and closes Redis and PostgreSQL. The caller closes its servers first. */
  close(): Promise<void>;
}

/**
 * The one place the service is assembled, from a validated config (loadConfig) and optional overrides: main.ts,
 * the tests, the e2e suite and the benchmark all call it. It never listens: main.ts (and the test harnesses) do.
 * Redis connects in the background; the service serves from PostgreSQL until it is there.
 */
export function createService(config: Config, overrides: ServiceOverrides = {}): Service {
  const requestContext = createRequestContextStorage();
  const logger = createLogger({ level: config.log.level, requestContext, stream: overrides.logStream });
  const metrics = (overrides.metrics ?? ((m) => m))(createMetrics());
  const drills = createDrills(metrics, logger, config.admin.faultsEnabled);
  const db = (overrides.db ?? ((d) => d))(createDatabase(config.database, metrics, drills));
  const redis = createRedis(config.redis, metrics, logger);
  connectInBackground(redis, logger);

  const readiness: Readiness = { accepting: true };
  const shared = createSharedSettings(redis, logger, { intervalMs: config.controls.syncIntervalMs, commandTimeoutMs: config.redis.commandTimeoutMs });
  const rateLimiter = createRateLimiter(metrics, logger, { redis, instances: config.controls.rateLimitInstances });
  shared.register(SHARED_SETTING_KEYS.drills, (raw) => drills.apply(raw === null ? null : (JSON.parse(raw) as DrillState)));
  shared.register(SHARED_SETTING_KEYS.rateLimit, (raw) => rateLimiter.apply(raw === null ? null : (JSON.parse(raw) as SharedRateLimit)));
  const orders = createOrderRepository(db);
  const useCaseDeps = { db, orders, metrics, businessTimeZone: config.businessTimeZone };
  const router = new Router();
  registerProductRoutes(router, createProductRepository(db));
  registerUserRoutes(router, createUserRepository(db));
  const popularCache = createJsonCache(
    CACHES.popular,
    redis,
    {
      commandTimeoutMs: config.redis.commandTimeoutMs,
      keyPrefix: POPULAR_CACHE_KEY_PREFIX,
      staleIfErrorSeconds: config.popular.staleIfErrorSeconds,
      bypass: () => drills.bypassCache(CACHES.popular),
    },
    metrics,
    logger,
  );
  // An invalidation (DELETE /admin/cache/popular on any instance) empties every instance's memory tier.
  shared.register(SHARED_SETTING_KEYS.popularCacheGeneration, () => popularCache.invalidateMemory());
  registerOrderRoutes(router, {
    placeOrder: createPlaceOrder(useCaseDeps),
    cancelOrder: createCancelOrder(useCaseDeps),
    queries: createOrderQueries({
      orders,
      popularCache,
      popularCacheTtlSeconds: config.popular.cacheTtlSeconds,
      businessTimeZone: config.businessTimeZone,
    }),
  });

  const api = new Koa({ asyncLocalStorage: requestContext as never, proxy: false });
  api.use(requestId());
  api.use((ctx, next) => {
    // While draining for a shutdown, tell keep-alive clients to reconnect elsewhere.
    if (!readiness.accepting) ctx.set('Connection', 'close');
    return next();
  });
  api.use(requestTelemetry({ metrics, logger, slowRequestMs: config.http.slowRequestMs, activeDrills: drills.active }));
  api.use(securityHeaders());
  api.use(errorHandler(logger));
  api.use(trafficLimit(rateLimiter, router, metrics));
  api.use((ctx, next) => {
    // A declared body larger than any route takes is refused before a byte of it is read, and the connection closed
    // (the client is still sending it).
    if (declaresTooLarge(ctx.req.headers)) {
      ctx.set('Connection', 'close');
      throw new AppError(413, 'PAYLOAD_TOO_LARGE', 'Request body is larger than any route accepts');
    }
    return next();
  });
  api.use(drillFailures(drills, router));
  api.use(router.routes());
  // Marks a wrong method on a known path (405, or 501 for a method no route has) with `Allow` (RFC 9110 §15.5.6); the
  // error handler answers it as 405 METHOD_NOT_ALLOWED in the contract's body, keeping the header (404 on no path).
  api.use(router.allowedMethods());
  // Koa logs every error it sees by default; the error handler has already logged what matters.
  api.silent = true;

  const checkDatabase = createDatabaseCheck(db, metrics);
  const adminToken = config.admin.token;
  const ops = createOpsApp({
    checkDatabase,
    db,
    redis,
    metrics,
    logger,
    readiness,
    registerAdmin: adminToken
      ? (opsRouter) => registerAdminRoutes(opsRouter, { token: adminToken, drills, rateLimiter, shared, popularCache, timeline: { db, logger } })
      : undefined,
  });
  // Keeps db_up current between readiness probes, for the database alert.
  shared.start();
  const databaseCheck = setInterval(() => void checkDatabase(), overrides.databaseCheckIntervalMs ?? DATABASE_CHECK_INTERVAL_MS);
  databaseCheck.unref();

  for (const status of PARSER_REJECTION_STATUSES) metrics.parserRejected.labels(String(status)).inc(0);
  const apiListener = api.callback();
  const opsListener = ops.callback();
  return {
    api: apiListener,
    ops: opsListener,
    apiEdge: createServerEdge({
      handler: apiListener,
      logger,
      receiveTimeoutMs: REQUEST_RECEIVE_TIMEOUT_MS,
      onRejected: (status) => metrics.parserRejected.labels(String(status)).inc(),
    }),
    opsEdge: createServerEdge({ handler: opsListener, logger, receiveTimeoutMs: REQUEST_RECEIVE_TIMEOUT_MS }),
    readiness,
    checkDatabase,
    config,
    db,
    redis,
    metrics,
    logger,
    async redisReady(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (!redis.isReady && performance.now() < deadline) await sleep(20);
      return redis.isReady;
    },
    async close() {
      clearInterval(databaseCheck);
      shared.stop();
      if (redis.isOpen) await redis.close().catch(() => redis.destroy());
      await db.close();
    },
  };
}
