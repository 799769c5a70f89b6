import type { Middleware } from 'koa';
import { LABELS } from '../../../contract/metrics';
import { UNMATCHED_ROUTE } from '../../../contract/routes';
import type { Logger } from '../lib/logger';
import { bounded } from '../lib/text';
import type { Metrics } from './metrics';

/**
 * The public API's request telemetry, the outermost measuring middleware of the one Koa chain: every request the
 * service answers is counted in `http_server_active_requests` while in flight, observed in
 * `http_server_request_duration_seconds` (seconds; method, route template — `unmatched` for unknown paths, so a
 * scanner cannot create series — and status), and logged when on-call needs it: failed (except 429, which are counted
 * instead) or slower than `slowRequestMs` always, every request at debug level.
 * `activeDrills` names the incident drills on, for the log line, so nobody mistakes a drill for an incident.
 */
export function requestTelemetry(deps: {
  metrics: Metrics;
  logger: Logger;
  slowRequestMs: number;
  activeDrills: () => string[];
}): Middleware {
  const { metrics, logger, slowRequestMs, activeDrills } = deps;
  const accessLog = logger.isDebugEnabled();

  return async (ctx, next) => {
    const started = performance.now();
    metrics.httpActive.inc();
    try {
      await next();
    } finally {
      metrics.httpActive.dec();
      const seconds = (performance.now() - started) / 1000;
      const { method, status } = ctx;
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? UNMATCHED_ROUTE;
      // A clock that went wrong must not poison the histogram's sum.
      // Labels passed per observation: binding a child per label set once measured the same (0.44 µs either way).
      if (Number.isFinite(seconds) && seconds >= 0) {
        metrics.httpDuration.observe({ [LABELS.method]: method, [LABELS.route]: route, [LABELS.status]: status }, seconds);
      }

      const durationMs = Math.round(seconds * 1000);
      const slow = durationMs >= slowRequestMs;
      const failed = status >= 400 && status !== 429;
      if (failed || slow || accessLog) {
        const level = status >= 500 ? 'error' : failed || slow ? 'warn' : 'debug';
        const message = status >= 400 ? 'request failed' : slow ? 'slow request' : 'request';
        const drill = activeDrills();
        logger.log(level, message, {
          method,
          route,
          path: bounded(ctx.path),
          status,
          durationMs,
          requestId: ctx.state.requestId as string | undefined,
          ...(drill.length ? { drill } : {}),
        });
      }
    }
  };
}
