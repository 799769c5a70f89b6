import type { Middleware } from 'koa';
import type { Drills } from './drills';
import type { RateLimiter } from './rate-limiter';
import type { Metrics } from '../../telemetry/metrics';
import { AppError } from '../../lib/app-error';

const RATE_LIMITED_BODY = JSON.stringify(
  new AppError(429, 'RATE_LIMITED', 'Too many requests: traffic is being limited; retry later').toBody(),
);

interface MatchedLayer {
  path: string;
  methods: string[];
}

/** The route template of the request, known to the router before the route's own handler runs. */
function routeTemplate(ctx: { method: string; matched?: MatchedLayer[] }): string | undefined {
  const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
  return ctx.matched?.filter((layer) => layer.methods.includes(method)).at(-1)?.path;
}

/**
 * Runs inside the router, before each route: traffic limiting first (a refused request costs nothing),
 * then drilled route failures. Both are recorded under the route they hit.
 */
export function incidentControls(rateLimiter: RateLimiter, drills: Drills, metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const route = routeTemplate(ctx as never);
    if (!route) return next();
    const retryAfter = rateLimiter.take();
    if (retryAfter > 0) {
      // Shedding must cost far less than serving: no exception, a body serialized once.
      (ctx as { _matchedRoute?: string })._matchedRoute = route;
      metrics.rateLimitedRequests.labels(route).inc();
      ctx.status = 429;
      ctx.set('Retry-After', String(retryAfter));
      ctx.type = 'application/json';
      ctx.body = RATE_LIMITED_BODY;
      return;
    }
    if (drills.failsRoute(ctx.method, route)) {
      (ctx as { _matchedRoute?: string })._matchedRoute = route;
      throw new AppError(500, 'INTERNAL_ERROR', 'Internal server error (injected by an incident drill)');
    }
    await next();
  };
}
