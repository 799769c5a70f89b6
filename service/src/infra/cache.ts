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

export function createJsonCache(
  name: string,
  redis: RedisClient,
  options: { commandTimeoutMs: number },
  metrics: Metrics,
  logger: Logger,
): JsonCache {
  const inFlight = new Map<string, Promise<string>>();
  const hit = metrics.cacheRequests.labels(name, 'hit');
  const miss = metrics.cacheRequests.labels(name, 'miss');
  const failed = metrics.cacheRequests.labels(name, 'error');

  async function read(key: string): Promise<string | null | undefined> {
    if (!redis.isReady) {
      failed.inc();
      return undefined;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      // A hung Redis must cost a request at most this long; the reply that comes too late is dropped.
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`redis GET took over ${options.commandTimeoutMs} ms`)), options.commandTimeoutMs);
      });
      return await Promise.race([redis.get(key), timedOut]);
    } catch (error) {
      failed.inc();
      logger.debug('cache read failed', { cache: name, error: (error as Error).message });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  function write(key: string, value: string, ttlSeconds: number): void {
    if (!redis.isReady) return;
    redis.set(key, value, { expiration: { type: 'EX', value: ttlSeconds } }).catch((error: Error) => {
      failed.inc();
      logger.debug('cache write failed', { cache: name, error: error.message });
    });
  }

  async function loadOnce(key: string, ttlSeconds: number, load: () => Promise<string>): Promise<string> {
    const pending = inFlight.get(key);
    if (pending) return pending;
    const loading = load()
      .then((value) => {
        write(key, value, ttlSeconds);
        return value;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, loading);
    return loading;
  }

  return {
    async getOrLoad(key, ttlSeconds, load) {
      // A load already running means the value is being refreshed: join it instead of asking Redis.
      const pending = inFlight.get(key);
      if (pending) {
        miss.inc();
        return pending;
      }
      const cached = await read(key);
      if (typeof cached === 'string') {
        hit.inc();
        return cached;
      }
      if (cached === null) miss.inc();
      return loadOnce(key, ttlSeconds, load);
    },
  };
}
