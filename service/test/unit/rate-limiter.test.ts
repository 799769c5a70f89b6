import { Writable } from 'node:stream';
import { createRateLimiter, RATE_LIMIT_BOUNDS, RETRY_AFTER_MAX_SECONDS } from '../../src/components/incident-controls/rate-limiter';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/telemetry/metrics';
import fc from 'fast-check';

const logger = createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) });

describe('traffic limiting', () => {
  test('Retry-After is a whole number of seconds from 1 to the ceiling for any limit, even outside the admin bounds', () => {
    const limiter = createRateLimiter(createMetrics(), logger);
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ min: 5e-324, max: RATE_LIMIT_BOUNDS.requestsPerSecond.max * 10, noNaN: true }), fc.constantFrom(5e-324, Number.MIN_VALUE, 1e-9)),
        (requestsPerSecond) => {
          limiter.set({ requestsPerSecond, burst: 1 });
          limiter.take();
          const retryAfter = limiter.take();
          // 0 only when the bucket refilled in between (a very fast limit).
          expect(retryAfter === 0 || (Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= RETRY_AFTER_MAX_SECONDS)).toBe(true);
        },
      ),
    );
    limiter.set({ requestsPerSecond: 5e-324, burst: 1 });
    limiter.take();
    expect(limiter.take()).toBe(RETRY_AFTER_MAX_SECONDS);
  });
});
