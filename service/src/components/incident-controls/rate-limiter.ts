import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../telemetry/metrics';

/**
 * The bounds of what a responder may set (PUT /admin/rate-limit answers 400 outside them): requests per second from
 * 0.1 (one request every 10 s) to 100,000, and a burst (whole requests) from 1 to 100,000.
 */
export const RATE_LIMIT_BOUNDS = {
  requestsPerSecond: { min: 0.1, max: 100_000 },
  burst: { min: 1, max: 100_000 },
} as const;

/** Retry-After of a refused request is a whole number of seconds from 1 to this. */
export const RETRY_AFTER_MAX_SECONDS = 60;

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
    /** Takes a token; returns 0 when admitted, or the whole seconds to wait before retrying (1 to RETRY_AFTER_MAX_SECONDS). */
    take(): number {
      if (!limit) return 0;
      const now = performance.now();
      tokens = Math.min(limit.burst, tokens + ((now - refilledAt) / 1000) * limit.requestsPerSecond);
      refilledAt = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      const wait = Math.ceil((1 - tokens) / limit.requestsPerSecond);
      return Number.isFinite(wait) ? Math.min(RETRY_AFTER_MAX_SECONDS, Math.max(1, wait)) : RETRY_AFTER_MAX_SECONDS;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
