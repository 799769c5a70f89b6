import type { Logger } from '../lib/logger';
import type { Metrics } from '../telemetry/metrics';
import type { RedisClient } from './redis';

export interface JsonCache {
  /**
   * Cache-aside read of a serialized JSON value. Concurrent misses of one key share a single `load`
   * (single flight), so an expiry under load costs one database aggregate. Redis failures fall through to `load`.
   */
  getOrLoad(key: string, ttlSeconds: number, load: () => Promise<string>): Promise<string>;
}

interface Flight {
  value: Promise<string>;
  settled: boolean;
}

export function createJsonCache(
  name: string,
  redis: RedisClient,
  options: { commandTimeoutMs: number; bypass?: () => boolean },
  metrics: Metrics,
  logger: Logger,
): JsonCache {
  const flights = new Map<string, Flight>();
  const hit = metrics.cacheRequests.labels(name, 'hit');
  const miss = metrics.cacheRequests.labels(name, 'miss');
  const failed = metrics.cacheRequests.labels(name, 'error');

  /**
   * Runs a Redis command for at most the command timeout; a reply that comes later is dropped. Failures of
   * look-ups (GET) are counted as cache errors; a failed write only means the next request loads again.
   */
  async function bounded<T>(command: 'GET' | 'SET', run: () => Promise<T>): Promise<T | undefined> {
    if (!redis.isReady) {
      if (command === 'GET') failed.inc();
      return undefined;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis ${command} took over ${options.commandTimeoutMs} ms`)), options.commandTimeoutMs);
    });
    try {
      return await Promise.race([run(), timedOut]);
    } catch (error) {
      if (command === 'GET') failed.inc();
      logger.debug('cache command failed', { cache: name, command, error: (error as Error).message });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  function loadOnce(key: string, ttlSeconds: number, load: () => Promise<string>): Promise<string> {
    const flight: Flight = { value: load(), settled: false };
    flights.set(key, flight);
    // Waiters get the value as soon as it is loaded; the flight stays until Redis has it (or the write gives up),
    // so a request arriving between the load and the write reuses this value instead of loading again.
    flight.value
      .then(async (value) => {
        flight.settled = true;
        await bounded('SET', () => redis.set(key, value, { expiration: { type: 'EX', value: ttlSeconds } }));
      })
      .catch(() => undefined)
      .finally(() => flights.delete(key));
    return flight.value;
  }

  return {
    async getOrLoad(key, ttlSeconds, load) {
      if (options.bypass?.()) {
        // Caching "not applied" (a drill): every request computes the value, as before the cache existed.
        miss.inc();
        return load();
      }
      const flight = flights.get(key);
      if (flight) {
        (flight.settled ? hit : miss).inc();
        return flight.value;
      }
      const cached = await bounded('GET', () => redis.get(key));
      if (typeof cached === 'string') {
        hit.inc();
        return cached;
      }
      if (cached === null) miss.inc();
      // Another request may have started the load while this one waited for Redis.
      return flights.get(key)?.value ?? loadOnce(key, ttlSeconds, load);
    },
  };
}
