import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../telemetry/metrics';

export interface RateLimit {
  requestsPerSecond: number;
  burst: number;
}

/**
 * Traffic limiting, the guide's temporary action: a token bucket over the whole public API that a responder
 * switches on and adjusts at runtime. Admitted requests keep their latency; the excess gets a fast 429.
 */
export function createRateLimiter(metrics: Metrics, logger: Logger) {
  let limit: RateLimit | undefined;
  let tokens = 0;
  let refilledAt = 0;

  return {
    current: (): RateLimit | null => (limit ? { ...limit } : null),
    set(next: RateLimit | null) {
      limit = next ?? undefined;
      tokens = next?.burst ?? 0;
      refilledAt = performance.now();
      metrics.rateLimitRequestsPerSecond.set(next?.requestsPerSecond ?? 0);
      logger.warn(next ? 'traffic limiting on' : 'traffic limiting off', { rateLimit: next });
    },
    /** Takes a token; returns 0 when admitted, or the seconds to wait before retrying. */
    take(): number {
      if (!limit) return 0;
      const now = performance.now();
      tokens = Math.min(limit.burst, tokens + ((now - refilledAt) / 1000) * limit.requestsPerSecond);
      refilledAt = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - tokens) / limit.requestsPerSecond));
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
