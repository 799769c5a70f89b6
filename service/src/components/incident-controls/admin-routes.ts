import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { ROUTES } from '../../../../contract/routes';
import { AppError } from '../../lib/app-error';
import { readJsonBody } from '../../lib/http/json-body';
import { validate } from '../../lib/http/validate';
import { actorOf, recordIncidentAction, type IncidentTimelineDeps } from '../incident-timeline/record';
import { DRILL_CACHES, type Drills } from './drills';
import { RATE_LIMIT_BOUNDS, type RateLimiter, type SharedRateLimit } from './rate-limiter';
import { SHARED_SETTING_KEYS, type SharedSettings } from './shared-settings';
import type { JsonCache } from '../../infra/cache';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `Authorization: Bearer <token>` per RFC 9110 §11.6.2 and RFC 6750 §2.1: the scheme is case-insensitive, one or more
 * spaces, then a token68.
 */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** Bearer-token check in constant time (both sides hashed to the same length first). */
export function requireAdminToken(token: string): Middleware {
  const expected = digest(token);
  return async (ctx, next) => {
    const presented = BEARER.exec(ctx.get('authorization'))?.[1] ?? '';
    if (!timingSafeEqual(digest(presented), expected)) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new AppError(401, 'UNAUTHORIZED', 'A valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)');
    }
    await next();
  };
}

const { requestsPerSecond: rps, burst } = RATE_LIMIT_BOUNDS;
const rateLimitBody = z.strictObject({
  requestsPerSecond: z.number().min(rps.min, `must be at least ${rps.min}`).max(rps.max, `must be at most ${rps.max}`),
  burst: z.number().int('must be an integer').min(burst.min, `must be at least ${burst.min}`).max(burst.max, `must be at most ${burst.max}`).optional(),
});

/** What the route-errors drill can fail: every route ("*") or one of the API's routes, as "METHOD /route/template". */
const DRILLABLE_ROUTES = ['*', ...Object.values(ROUTES).map((r) => `${r.method} ${r.route}`)] as const;
const routeKey = z.enum(DRILLABLE_ROUTES, { error: `must be one of ${DRILLABLE_ROUTES.map((r) => `"${r}"`).join(', ')}` });
const drillBody = z.strictObject({
  queryLatencyMs: z
    .strictObject({ popular: z.number().int().min(0).max(60_000).optional(), status: z.number().int().min(0).max(60_000).optional() })
    .optional(),
  cacheBypass: z.array(z.enum(DRILL_CACHES)).max(DRILL_CACHES.length).optional(),
  failingRoutes: z.array(routeKey).max(50).optional(),
});

/**
 * The responders' controls on the ops port: traffic limiting (always available with a token) and incident
 * drills (only with FAULTS_ENABLED=true). Every call needs `Authorization: Bearer <ADMIN_TOKEN>`. A change made on one
 * instance applies to every instance (shared through Redis, see createSharedSettings); the answer's `appliesTo` says
 * `all_instances`, or `this_instance_until_redis_returns` when Redis is unavailable.
 * Bounds (400 VALIDATION_FAILED outside them): requestsPerSecond 0.1–100,000, burst 1–100,000 (RATE_LIMIT_BOUNDS);
 * queryLatencyMs.* 0–60,000 ms; failingRoutes "*" or the API's routes as "METHOD /template", at most 50; cacheBypass only
 * known caches.
 */
export function registerAdminRoutes(
  router: Router,
  deps: { token: string; drills: Drills; rateLimiter: RateLimiter; shared: SharedSettings; popularCache: JsonCache; timeline?: IncidentTimelineDeps },
) {
  const { drills, rateLimiter, shared } = deps;
  // The incident timeline's 임시 조치: stamped now, written in the background so a responder's control never waits
  // on the database it may be rescuing (a failed write is logged by recordIncidentAction).
  const record = (ctx: Parameters<typeof actorOf>[0], action: Parameters<typeof recordIncidentAction>[1]['action'], details?: Record<string, unknown>) => {
    if (deps.timeline) void recordIncidentAction(deps.timeline, { action, actor: actorOf(ctx), details, occurredAt: new Date() });
  };
  const auth = requireAdminToken(deps.token);
  const drillsEnabled: Middleware = async (_ctx, next) => {
    if (!drills.enabled) throw new AppError(404, 'NOT_FOUND', 'Drills are off: start the service with FAULTS_ENABLED=true');
    await next();
  };

  router.get('/admin/rate-limit', auth, (ctx) => {
    ctx.body = { rateLimit: rateLimiter.current() };
  });
  router.put('/admin/rate-limit', auth, async (ctx) => {
    const body = validate(rateLimitBody, await readJsonBody(ctx), 'body');
    const next: SharedRateLimit = {
      requestsPerSecond: body.requestsPerSecond,
      burst: body.burst ?? Math.min(burst.max, Math.max(burst.min, Math.ceil(body.requestsPerSecond))),
      since: Date.now(),
    };
    const appliesTo = await shared.publish(SHARED_SETTING_KEYS.rateLimit, JSON.stringify(next));
    ctx.body = { rateLimit: rateLimiter.current(), appliesTo };
    record(ctx, 'rate_limit_set', { rateLimit: rateLimiter.current(), appliesTo });
  });
  router.delete('/admin/rate-limit', auth, async (ctx) => {
    const appliesTo = await shared.publish(SHARED_SETTING_KEYS.rateLimit, null);
    ctx.body = { rateLimit: null, appliesTo };
    record(ctx, 'rate_limit_cleared', { appliesTo });
  });

  // Purges the popular-products ranking everywhere: its Redis keys (stale copies too), then every instance's memory
  // tier (a new generation shared like the other settings). 503 SERVICE_UNAVAILABLE when Redis cannot be reached:
  // nothing is purged then, and the memory tiers expire on their own within one POPULAR_CACHE_TTL_SECONDS.
  router.delete('/admin/cache/popular', auth, async (ctx) => {
    let purgedKeys: number;
    try {
      purgedKeys = await deps.popularCache.purge();
    } catch (error) {
      ctx.set('Retry-After', '5');
      throw new AppError(503, 'SERVICE_UNAVAILABLE', `Redis is unavailable, nothing was purged: ${(error as Error).message}`);
    }
    const appliesTo = await shared.publish(SHARED_SETTING_KEYS.popularCacheGeneration, `${Date.now()}-${randomUUID()}`);
    ctx.body = { purgedKeys, appliesTo };
    record(ctx, 'cache_purged', { cache: 'popular_products', purgedKeys, appliesTo });
  });

  router.get('/admin/drills', auth, drillsEnabled, (ctx) => {
    ctx.body = { drills: drills.state(), active: drills.active() };
  });
  router.put('/admin/drills', auth, drillsEnabled, async (ctx) => {
    const body = validate(drillBody, await readJsonBody(ctx), 'body');
    const appliesTo = await shared.publish(SHARED_SETTING_KEYS.drills, JSON.stringify(drills.merged(body)));
    ctx.body = { drills: drills.state(), active: drills.active(), appliesTo };
    record(ctx, 'drill_set', { drill: body, active: drills.active(), appliesTo });
  });
  router.delete('/admin/drills', auth, drillsEnabled, async (ctx) => {
    const appliesTo = await shared.publish(SHARED_SETTING_KEYS.drills, null);
    ctx.body = { drills: drills.state(), active: drills.active(), appliesTo };
    record(ctx, 'drill_cleared', { appliesTo });
  });
}
