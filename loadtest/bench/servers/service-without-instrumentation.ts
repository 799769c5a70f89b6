import type { Metrics } from '../../../service/src/telemetry/metrics';
import { run } from '../../../service/src/main';

const noObserver = { observe: () => undefined };
const noCounter = { inc: () => undefined };

/**
 * Bench only: the real service with its per-request instrumentation switched off — request durations, requests in
 * flight and cache look-ups record nothing — run with LOG_LEVEL=error by the bench. The service has no such switch
 * (it always measures); this is the "off" side of the instrumentation comparison (#3).
 */
run({
  metrics: (metrics): Metrics => ({
    ...metrics,
    httpDuration: { labels: () => noObserver, observe: () => undefined } as unknown as Metrics['httpDuration'],
    httpActive: { inc: () => undefined, dec: () => undefined } as unknown as Metrics['httpActive'],
    cacheRequests: { labels: () => noCounter } as unknown as Metrics['cacheRequests'],
  }),
});
