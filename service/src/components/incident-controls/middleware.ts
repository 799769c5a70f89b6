import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { HTTP_ROUTE_LABEL_VALUES, UNMATCHED_ROUTE } from '../../../../contract/routes';
import type { Metrics } from '../../telemetry/metrics';
import { AppError } from '../../lib/app-error';
import type { Drills } from './drills';
import type { RateLimiter } from './rate-limiter';

const RATE_LIMITED_BODY = JSON.stringify(
  new AppError(429, 'RATE_LIMITED', 'Too many requests: traffic is being limited; retry later').toBody(),
);

type WithRoute = { _matchedRoute?: string };

/** The route template a request will match, or undefined for a path or method no route serves. */
function routeOf(router: Router, path: string, method: string): string | undefined {
  const layers = router.match(path, method).pathAndMethod;
  for (let i = layers.length - 1; i >= 0; i--) {
    const { methods, path: template } = layers[i]!;
    if (methods.length > 0 && typeof template === 'string') return template;
  }
  return undefined;
}

/**
 * Traffic limiting over every public request, before anything else is done for it (routing, reading a body): known
 * routes, unknown paths and wrong methods alike spend a token, and a refused one gets a fast 429 with `Retry-After`
 * (whole seconds, capped), counted in `http_server_rate_limited_total` under the route template it would have hit
 * (`unmatched` for none) and never logged one by one.
 */
export function trafficLimit(rateLimiter: RateLimiter, router: Router, metrics: Metrics): Middleware {
  for (const route of HTTP_ROUTE_LABEL_VALUES) metrics.rateLimitedRequests.labels(route).inc(0);
  return async (ctx, next) => {
    const retryAfter = await rateLimiter.take();
    if (retryAfter === 0) return next();
    // Shedding must cost far less than serving: no exception, a body serialized once, the route looked up only now.
    const route = routeOf(router, ctx.path, ctx.method);
    if (route) (ctx as WithRoute)._matchedRoute = route;
    metrics.rateLimitedRequests.labels(route ?? UNMATCHED_ROUTE).inc();
    ctx.status = 429;
    ctx.set('Retry-After', String(retryAfter));
    ctx.type = 'application/json';
    ctx.body = RATE_LIMITED_BODY;
    return undefined;
  };
}

/**
 * Just before routing (after traffic limiting and the 413 check): the route-errors drill answers 500 on the routes it
 * names. The route is looked up only while that drill is on; otherwise this costs one boolean. As a router-level
 * `router.use()` it cost every request a second router layer (the service with no other middleware: 0.65x of a
 * minimal Koa app with it, 0.87x without; loadtest/README.md).
 */
export function drillFailures(drills: Drills, router: Router): Middleware {
  return async (ctx, next) => {
    if (drills.failsAnyRoute()) {
      const route = routeOf(router, ctx.path, ctx.method);
      if (route && drills.failsRoute(ctx.method, route)) {
        (ctx as WithRoute)._matchedRoute = route;
        throw new AppError(500, 'INTERNAL_ERROR', 'Internal server error (injected by an incident drill)');
      }
    }
    await next();
  };
}
