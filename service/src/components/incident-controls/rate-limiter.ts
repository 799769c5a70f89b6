import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import type { RedisClient } from '../../infra/redis';
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

const KEY_PREFIX = 'incident-controls:rate-limit-window';

/**
 * Longest a request waits for the shared window before the per-instance fallback decides, in ms. Longer than the
 * cache's REDIS_COMMAND_TIMEOUT_MS on purpose: the limiter matters most under overload, when the event loop itself
 * lags by tens of milliseconds, and every timeout admits a request outside the global count. A hung Redis costs
 * this at most until the Redis watchdog drops the connection (REDIS_PING_INTERVAL_MS + REDIS_HUNG_AFTER_MS, 2 s,
 * infra/redis.ts), after which the fallback answers at once.
 */
export const RATE_LIMIT_REDIS_TIMEOUT_MS = 500;

export interface RateLimit {
  requestsPerSecond: number;
  burst: number;
}

/**
 * The fixed window that carries a limit: `points` requests per `durationSeconds` (whole seconds, as Redis expiries
 * are). The window is as long as the burst takes to earn at the steady rate, so over any stretch of t seconds under
 * overload about requestsPerSecond·t + burst are admitted (up to one more window's worth across a window boundary).
 * A burst smaller than one second's worth cannot be expressed in whole-second windows: it becomes one second's.
 */
export function windowOf(limit: RateLimit): { points: number; durationSeconds: number } {
  const durationSeconds = Math.max(1, Math.round(limit.burst / limit.requestsPerSecond));
  return { points: Math.max(limit.burst, Math.round(limit.requestsPerSecond * durationSeconds)), durationSeconds };
}

/** Retry-After for a refusal whose window frees a request in `msBeforeNext` ms: whole seconds, 1 to the ceiling. */
export function retryAfterSeconds(msBeforeNext: number): number {
  const seconds = Math.ceil(msBeforeNext / 1000);
  return Number.isFinite(seconds) ? Math.min(RETRY_AFTER_MAX_SECONDS, Math.max(1, seconds)) : RETRY_AFTER_MAX_SECONDS;
}

/** A limit as stored for every instance: `since` (epoch ms) names its windows, so a new setting starts full. */
export interface SharedRateLimit extends RateLimit {
  since: number;
}

/**
 * Traffic limiting, the guide's temporary action, as ONE limit for the whole service however many instances run:
 * rate-limiter-flexible's RateLimiterRedis counts every instance's requests in one Redis key per window (one round
 * trip per admitted request; refusals after an instance has seen the window used up are answered from memory).
 * Admitted requests keep their latency; the excess gets a fast 429.
 *
 * Redis down or slower than RATE_LIMIT_REDIS_TIMEOUT_MS: fail open to a limiter in this process's memory allowing
 * 1/`instances` of the limit (rate-limiter-flexible's insurance limiter), so N instances together still admit about
 * the limit, and no request waits on Redis or fails because of it.
 */
export function createRateLimiter(
  metrics: Metrics,
  logger: Logger,
  options: { redis: RedisClient; instances: number },
) {
  let limit: SharedRateLimit | undefined;
  let limiter: RLWrapperTimeouts | undefined;

  function build(next: SharedRateLimit): RLWrapperTimeouts {
    const { points, durationSeconds } = windowOf(next);
    const keyPrefix = `${KEY_PREFIX}:${next.since}`;
    return new RLWrapperTimeouts({
      limiter: new RateLimiterRedis({
        storeClient: options.redis,
        useRedisPackage: true,
        rejectIfRedisNotReady: true,
        keyPrefix,
        points,
        duration: durationSeconds,
        // Once this instance sees the window used up, it refuses in memory until the window ends: shedding an
        // overload then costs no Redis round trip per refused request.
        inMemoryBlockOnConsumed: points,
      }),
      timeoutMs: RATE_LIMIT_REDIS_TIMEOUT_MS,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix, points: Math.max(1, Math.floor(points / options.instances)), duration: durationSeconds }),
    });
  }

  return {
    /** The limit in force on this instance (the shared one once it has been read), or null when off. */
    current: (): RateLimit | null => (limit ? { requestsPerSecond: limit.requestsPerSecond, burst: limit.burst } : null),
    /** Applies a limit (or null: off) on this instance; the shared settings call it on every instance. */
    apply(next: SharedRateLimit | null): void {
      limit = next ?? undefined;
      limiter = next ? build(next) : undefined;
      metrics.rateLimitRequestsPerSecond.set(next?.requestsPerSecond ?? 0);
      logger.warn(next ? 'traffic limiting on' : 'traffic limiting off', { rateLimit: this.current() });
    },
    /**
     * Takes one request from the global window; resolves 0 when admitted, or the whole seconds to wait before
     * retrying (1 to RETRY_AFTER_MAX_SECONDS). Never rejects.
     */
    async take(): Promise<number> {
      if (!limiter) return 0;
      try {
        await limiter.consume('global');
        return 0;
      } catch (refusal) {
        if (refusal instanceof RateLimiterRes) return retryAfterSeconds(refusal.msBeforeNext);
        // Both the shared and the fallback limiter failed: admit rather than fail the request.
        logger.debug('rate limiter failed; admitting', { error: (refusal as Error).message });
        return 0;
      }
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
