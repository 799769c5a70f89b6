import type { Middleware } from 'koa';
import type { Logger } from '../logger';
import type { Metrics } from '../../telemetry/metrics';
import type { Drills } from '../../ops/drills';

type Observer = { observe(value: number): void };

/**
 * Measures every request of the public API and logs the ones on-call needs: failed or slow requests always,
 * every request when the log level is debug. Child histograms are cached so the hot path does no label hashing.
 */
export function requestTelemetry(metrics: Metrics, logger: Logger, slowRequestMs: number, drills: Drills): Middleware {
  const observers = new Map<string, Observer>();
  const observerFor = (method: string, route: string, status: number): Observer => {
    const key = `${method} ${route} ${status}`;
    let observer = observers.get(key);
    if (!observer) {
      observer = metrics.httpDuration.labels(method, route, String(status));
      observers.set(key, observer);
    }
    return observer;
  };
  const accessLog = logger.isDebugEnabled();

  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    metrics.httpActive.inc();
    try {
      await next();
    } finally {
      metrics.httpActive.dec();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Unmatched paths share one label value so a scanner cannot create unbounded series.
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      const status = ctx.status;
      observerFor(ctx.method, route, status).observe(seconds);

      const durationMs = Math.round(seconds * 1000);
      const slow = durationMs >= slowRequestMs;
      // Requests shed by traffic limiting are counted, not logged one by one: a flood of them is the point.
      const failed = status >= 400 && status !== 429;
      if (failed || slow || accessLog) {
        const level = status >= 500 ? 'error' : failed || slow ? 'warn' : 'debug';
        const message = status >= 400 ? 'request failed' : slow ? 'slow request' : 'request';
        const drill = drills.active();
        logger.log(level, message, { method: ctx.method, route, path: ctx.path, status, durationMs, ...(drill.length ? { drill } : {}) });
      }
    }
  };
}
