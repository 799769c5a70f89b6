import fc from 'fast-check';
import { RATE_LIMIT_BOUNDS, RETRY_AFTER_MAX_SECONDS, retryAfterSeconds, windowOf } from '../../src/components/incident-controls/rate-limiter';

const { requestsPerSecond: rps, burst } = RATE_LIMIT_BOUNDS;

describe('traffic limiting', () => {
  test('Retry-After is a whole number of seconds from 1 to the ceiling for any wait, even absurd ones', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(0, -1, Infinity, NaN, 5e-324, 59_001, 1e12)), (ms) => {
        const seconds = retryAfterSeconds(ms);
        expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= RETRY_AFTER_MAX_SECONDS).toBe(true);
      }),
    );
    expect(retryAfterSeconds(1_500)).toBe(2);
  });

  test('every limit inside the admin bounds maps to whole-second windows keeping the burst and the steady rate', () => {
    fc.assert(
      fc.property(
        fc.double({ min: rps.min, max: rps.max, noNaN: true }),
        fc.integer({ min: burst.min, max: burst.max }),
        (requestsPerSecond, requests) => {
          const { points, durationSeconds } = windowOf({ requestsPerSecond, burst: requests });
          expect(Number.isInteger(durationSeconds) && durationSeconds >= 1).toBe(true);
          expect(Number.isInteger(points) && points >= requests).toBe(true);
          // The steady rate is kept to within rounding to whole windows, or (a burst under one second's worth) exactly.
          const rate = points / durationSeconds;
          if (requests >= requestsPerSecond) expect(Math.abs(rate - requestsPerSecond)).toBeLessThanOrEqual(requestsPerSecond / 2 + 1);
          else expect(points).toBe(Math.round(requestsPerSecond));
        },
      ),
    );
    expect(windowOf({ requestsPerSecond: 0.1, burst: 1 })).toEqual({ points: 1, durationSeconds: 10 });
    expect(windowOf({ requestsPerSecond: 100, burst: 100 })).toEqual({ points: 100, durationSeconds: 1 });
  });
});
