import type { RequestListener } from 'node:http';
import { CACHES } from '../../contract/queries';
import Koa from 'koa';
import Router from '@koa/router';
import type { Config } from './config';
import { createCancelOrder } from './components/orders/cancel-order';
import { createOrderQueries } from './components/orders/order-queries';
import { createPlaceOrder } from './components/orders/place-order';
import { createOrderRepository } from './components/orders/repository';
import { registerOrderRoutes } from './components/orders/routes';
import { createProductRepository } from './components/products/repository';
import { registerProductRoutes } from './components/products/routes';
import { createUserRepository } from './components/users/repository';
import { registerUserRoutes } from './components/users/routes';
import { createJsonCache } from './infra/cache';
import type { Database } from './infra/database';
import type { RedisClient } from './infra/redis';
import { AppError } from './lib/app-error';
import { errorHandler } from './lib/http/error-handler';
import { requestId } from './lib/http/request-id';
import { securityHeaders } from './lib/http/security-headers';
import type { Logger } from './lib/logger';
import type { RequestContextStorage } from './lib/request-context';
import type { Metrics } from './telemetry/metrics';
import { requestTelemetry } from './telemetry/http';
import { registerAdminRoutes } from './ops/admin-routes';
import type { Drills } from './ops/drills';
import { createDatabaseCheck, createOpsApp, type DatabaseCheck, type Readiness } from './ops/ops-app';
import { createRateLimiter } from './ops/rate-limiter';
import { incidentControls } from './lib/http/incident-controls';

export interface AppDeps {
  config: Config;
  db: Database;
  redis: RedisClient;
  metrics: Metrics;
  logger: Logger;
  requestContext: RequestContextStorage;
  /** Incident drills; the database was created with them so drilled queries slow down for real. */
  drills: Drills;
}

export interface App {
  /** The public API's request listener: one Koa middleware chain. */
  api: RequestListener;
  ops: RequestListener;
  readiness: Readiness;
  checkDatabase: DatabaseCheck;
}

/** Wires the service by hand from its dependencies. It never listens: main.ts and the tests do that. */
export function createApp(deps: AppDeps): App {
  const { config, db, redis, metrics, logger, requestContext, drills } = deps;
  const readiness: Readiness = { accepting: true };
  const rateLimiter = createRateLimiter(metrics, logger);

  const orders = createOrderRepository(db);
  const useCaseDeps = { db, orders, metrics, businessTimeZone: config.businessTimeZone };
  const router = new Router();
  router.use(incidentControls(rateLimiter, drills, metrics));
  registerProductRoutes(router, createProductRepository(db));
  registerUserRoutes(router, createUserRepository(db));
  registerOrderRoutes(router, {
    placeOrder: createPlaceOrder(useCaseDeps),
    cancelOrder: createCancelOrder(useCaseDeps),
    queries: createOrderQueries({
      orders,
      popularCache: createJsonCache(
        CACHES.popular,
        redis,
        { commandTimeoutMs: config.redis.commandTimeoutMs, bypass: () => drills.bypassCache(CACHES.popular) },
        metrics,
        logger,
      ),
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
  api.use(router.routes());
  api.use(
    router.allowedMethods({
      throw: true,
      methodNotAllowed: () => new AppError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed on this route'),
      notImplemented: () => new AppError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed on this route'),
    }),
  );
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
    registerAdmin: adminToken ? (opsRouter) => registerAdminRoutes(opsRouter, { token: adminToken, drills, rateLimiter }) : undefined,
  });
  return { api: api.callback(), ops: ops.callback(), readiness, checkDatabase };
}
