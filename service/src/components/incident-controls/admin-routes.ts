import { createHash, timingSafeEqual } from 'node:crypto';
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { AppError } from '../../lib/app-error';
import { readJsonBody } from '../../lib/http/json-body';
import { validate } from '../../lib/http/validate';
import { DRILL_CACHES, type Drills } from './drills';
import type { RateLimiter } from './rate-limiter';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Bearer-token check in constant time (both sides hashed to the same length first). */
export function requireAdminToken(token: string): Middleware {
  const expected = digest(token);
  return async (ctx, next) => {
    const presented = /^Bearer (.+)$/.exec(ctx.get('authorization'))?.[1] ?? '';
    if (!timingSafeEqual(digest(presented), expected)) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new AppError(401, 'UNAUTHORIZED', 'A valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)');
    }
    await next();
  };
}

const rateLimitBody = z.strictObject({
  requestsPerSecond: z.number().positive().max(1_000_000),
  burst: z.number().int().positive().max(1_000_000).optional(),
});

const routeKey = z.string().regex(/^(\*|(GET|POST|PUT|PATCH|DELETE) \/\S*)$/, 'must be "*" or "METHOD /route/template"');
const drillBody = z.strictObject({
  queryLatencyMs: z
    .strictObject({ popular: z.number().int().min(0).max(60_000).optional(), status: z.number().int().min(0).max(60_000).optional() })
    .optional(),
  cacheBypass: z.array(z.enum(DRILL_CACHES)).max(DRILL_CACHES.length).optional(),
  failingRoutes: z.array(routeKey).max(50).optional(),
});

/**
 * The responders' controls on the ops port: traffic limiting (always available with a token) and incident
 * drills (only with FAULTS_ENABLED=true). Every call needs `Authorization: Bearer <ADMIN_TOKEN>`.
 */
export function registerAdminRoutes(router: Router, deps: { token: string; drills: Drills; rateLimiter: RateLimiter }) {
  const { drills, rateLimiter } = deps;
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
    rateLimiter.set({ requestsPerSecond: body.requestsPerSecond, burst: body.burst ?? Math.max(1, Math.ceil(body.requestsPerSecond)) });
    ctx.body = { rateLimit: rateLimiter.current() };
  });
  router.delete('/admin/rate-limit', auth, (ctx) => {
    rateLimiter.set(null);
    ctx.body = { rateLimit: null };
  });

  router.get('/admin/drills', auth, drillsEnabled, (ctx) => {
    ctx.body = { drills: drills.state(), active: drills.active() };
  });
  router.put('/admin/drills', auth, drillsEnabled, async (ctx) => {
    const body = validate(drillBody, await readJsonBody(ctx), 'body');
    drills.set(body);
    ctx.body = { drills: drills.state(), active: drills.active() };
  });
  router.delete('/admin/drills', auth, drillsEnabled, (ctx) => {
    drills.clear();
    ctx.body = { drills: drills.state(), active: drills.active() };
  });
}
