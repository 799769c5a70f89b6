import type { Logger } from '../lib/logger';
import type { Metrics } from '../telemetry/metrics';
import type { RedisClient } from './redis';

export interface JsonCache {
  /**
   * Cache-aside read of a serialized JSON value, as bytes ready to send. Looks in this process's memory, then in
   * Redis, then runs `load`. Concurrent misses of one key share a single `load` (single flight), so an expiry under
   * load costs one database aggregate. Redis failures fall through to `load`.
   */
  getOrLoad(key: string, ttlSeconds: number, load: () => Promise<string>): Promise<Buffer>;
  /** The value if this process has it in memory and it has not expired (counted as a hit), else undefined. */
  peek(key: string): Buffer | undefined;
}

interface Remembered {
  bytes: Buffer;
  /** performance.now() at which the Redis copy expires too. */
  expiresAt: number;
}

/**
 * Two tiers. Redis is shared by every instance; this process keeps what it read or computed in memory until the
 * moment the Redis copy expires (the remaining TTL is read with the value), so whichever tier serves a value, it
 * is never older than one TTL. A hit in memory costs no round trip, which is what lets the hot path run close to
 * a bare HTTP server, and keeps serving through a Redis outage until that expiry.
 */
export function createJsonCache(
  name: string,
  redis: RedisClient,
  options: { commandTimeoutMs: number; bypass?: () => boolean; maxRememberedKeys?: number },
  metrics: Metrics,
  logger: Logger,
): JsonCache {
  /** Loads in progress, by key: concurrent misses wait for the same one. */
  const flights = new Map<string, Promise<Buffer>>();
  const memory = new Map<string, Remembered>();
  const maxRememberedKeys = options.maxRememberedKeys ?? 1_000;
  const hit = metrics.cacheRequests.labels(name, 'hit');
  const miss = metrics.cacheRequests.labels(name, 'miss');
  const failed = metrics.cacheRequests.labels(name, 'error');

  function remember(key: string, bytes: Buffer, ttlMs: number): void {
    if (ttlMs <= 0) return;
    if (memory.size >= maxRememberedKeys && !memory.has(key)) {
      const now = performance.now();
      for (const [k, entry] of memory) if (entry.expiresAt <= now) memory.delete(k);
      // Still full of live entries: forget the oldest one.
      if (memory.size >= maxRememberedKeys) memory.delete(memory.keys().next().value!);
    }
    memory.set(key, { bytes, expiresAt: performance.now() + ttlMs });
  }

  /**
   * Runs Redis commands for at most the command timeout; a reply that comes later is dropped. Failures of
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

  function loadOnce(key: string, ttlSeconds: number, load: () => Promise<string>): Promise<Buffer> {
    const flight = load().then((json) => Buffer.from(json));
    flights.set(key, flight);
    // Memory has the value before any waiter resumes, so a request arriving after the load finds it there; Redis
    // gets it in the background (a failed write only means another instance loads again).
    flight
      .then((bytes) => {
        remember(key, bytes, ttlSeconds * 1000);
        void bounded('SET', () => redis.set(key, bytes, { expiration: { type: 'EX', value: ttlSeconds } }));
      })
      .catch(() => undefined)
      .finally(() => flights.delete(key));
    return flight;
  }

  function inMemory(key: string): Buffer | undefined {
    const remembered = memory.get(key);
    if (!remembered) return undefined;
    if (remembered.expiresAt <= performance.now()) {
      memory.delete(key);
      return undefined;
    }
    return remembered.bytes;
  }

  function peek(key: string): Buffer | undefined {
    const bytes = inMemory(key);
    if (bytes) hit.inc();
    return bytes;
  }

  return {
    peek: (key) => (options.bypass?.() ? undefined : peek(key)),
    async getOrLoad(key, ttlSeconds, load) {
      if (options.bypass?.()) {
        // Caching "not applied" (a drill): every request computes the value, as before the cache existed.
        miss.inc();
        return Buffer.from(await load());
      }
      const remembered = peek(key);
      if (remembered) return remembered;
      const flight = flights.get(key);
      if (flight) {
        miss.inc();
        return flight;
      }
      // Both commands go out in one write, so the remaining TTL costs no extra round trip.
      const cached = await bounded('GET', () => Promise.all([redis.get(key), redis.pTTL(key)]));
      if (cached && typeof cached[0] === 'string') {
        hit.inc();
        const bytes = Buffer.from(cached[0]);
        remember(key, bytes, cached[1]);
        return bytes;
      }
      if (cached) miss.inc();
      // While this request waited for Redis, another may have loaded the value (it is in memory) or be loading it.
      return inMemory(key) ?? flights.get(key) ?? loadOnce(key, ttlSeconds, load);
    },
  };
}
