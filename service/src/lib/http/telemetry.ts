import type { Middleware } from 'koa';
import type { Logger } from '../logger';
import type { Metrics } from '../../telemetry/metrics';
import type { Drills } from '../../ops/drills';

type Observer = { observe(value: number): void };

export interface AnsweredRequest {
  method: string;
  /** The route template; unmatched paths share one value so a scanner cannot create unbounded series. */
  route: string;
  path: string;
  status: number;
  seconds: number;
  requestId: string | undefined;
}

/**
 * Measures every answered request of the public API and logs the ones on-call needs: failed or slow requests
 * always, every request when the log level is debug. Shared by the Koa middleware and the hot path, so both are
 * measured and logged alike. Child histograms are cached so recording does no label hashing.
 */
export function createRequestRecorder(metrics: Metrics, logger: Logger, slowRequestMs: number, drills: Drills) {
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

  return {
    record(request: AnsweredRequest): void {
      const { method, route, status, seconds } = request;
      observerFor(method, route, status).observe(seconds);

      const durationMs = Math.round(seconds * 1000);
      const slow = durationMs >= slowRequestMs;
      // Requests shed by traffic limiting are counted, not logged one by one: a flood of them is the point.
      const failed = status >= 400 && status !== 429;
      if (failed || slow || accessLog) {
        const level = status >= 500 ? 'error' : failed || slow ? 'warn' : 'debug';
        const message = status >= 400 ? 'request failed' : slow ? 'slow request' : 'request';
        const drill = drills.active();
        logger.log(level, message, {
          method,
          route,
          path: request.path,
          status,
          durationMs,
          requestId: request.requestId,
          ...(drill.length ? { drill } : {}),
        });
      }
    },
  };
}

export type RequestRecorder = ReturnType<typeof createRequestRecorder>;

/** The Koa side of the recorder: wraps everything below it, so errors turned into responses are recorded as such. */
export function requestTelemetry(recorder: RequestRecorder, metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    metrics.httpActive.inc();
    try {
      await next();
    } finally {
      metrics.httpActive.dec();
      recorder.record({
        method: ctx.method,
        route: (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched',
        path: ctx.path,
        status: ctx.status,
        seconds: (performance.now() - started) / 1000,
        requestId: ctx.state.requestId as string | undefined,
      });
    }
  };
}
