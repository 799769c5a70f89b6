import { createHash } from 'node:crypto';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../telemetry/metrics';
import type { RedisClient } from './redis';

/** A serialized JSON value as the cache holds it: the bytes to send and what HTTP caching needs to know of them. */
export interface CachedJson {
  bytes: Buffer;
  /** Strong entity tag of `bytes` (RFC 9110 §8.8.3, quoted), computed once when the entry is made. */
  etag: string;
  /**
   * performance.now() (ms) at which the shared (Redis) copy expires, or undefined when the value was not cached at all
   * (the cache-bypass drill).
   */
  expiresAt: number | undefined;
}

export interface JsonCache {
  /**
   * Cache-aside read of a serialized JSON value. Looks in this process's memory, then in Redis, then runs `load`.
   * Concurrent misses of one key share a single `load` (single flight), so an expiry under load costs one database
   * aggregate. Redis failures fall through to `load`.
   */
  getOrLoad(key: string, ttlSeconds: number, load: () => Promise<string>): Promise<CachedJson>;
}

/** A strong ETag for a byte string: a quoted SHA-1 of the bytes, base64url (27 characters inside the quotes). */
export function entityTag(bytes: Buffer): string {
  return `"${createHash('sha1').update(bytes).digest('base64url')}"`;
}

const entry = (bytes: Buffer, expiresAt: number | undefined): CachedJson => ({ bytes, etag: entityTag(bytes), expiresAt });

/**
 * Two tiers. Redis is shared by every instance; this process keeps what it read or computed in memory until the
 * moment the Redis copy expires (the remaining TTL is read with the value), so whichever tier serves a value, it
 * is never older than one TTL. A hit in memory costs no round trip, and keeps serving through a Redis outage until
 * that expiry. Each entry carries its ETag and expiry, so HTTP caches downstream can hold it exactly as long.
 */
export function createJsonCache(
  name: string,
  redis: RedisClient,
  options: { commandTimeoutMs: number; bypass?: () => boolean; maxRememberedKeys?: number },
  metrics: Metrics,
  logger: Logger,
): JsonCache {
  /** Loads in progress, by key: concurrent misses wait for the same one. */
  const flights = new Map<string, Promise<CachedJson>>();
  const memory = new Map<string, CachedJson>();
  const maxRememberedKeys = options.maxRememberedKeys ?? 1_000;
  const hit = metrics.cacheRequests.labels(name, 'hit');
  const miss = metrics.cacheRequests.labels(name, 'miss');
  const failed = metrics.cacheRequests.labels(name, 'error');

  function remember(key: string, value: CachedJson): void {
    if (value.expiresAt === undefined || value.expiresAt <= performance.now()) return;
    if (memory.size >= maxRememberedKeys && !memory.has(key)) {
      const now = performance.now();
      for (const [k, remembered] of memory) if (remembered.expiresAt! <= now) memory.delete(k);
      // Still full of live entries: forget the oldest one.
      if (memory.size >= maxRememberedKeys) memory.delete(memory.keys().next().value!);
    }
    memory.set(key, value);
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

  function loadOnce(key: string, ttlSeconds: number, load: () => Promise<string>): Promise<CachedJson> {
    const flight = load().then((json) => entry(Buffer.from(json), performance.now() + ttlSeconds * 1000));
    flights.set(key, flight);
    // Memory has the value before any waiter resumes, so a request arriving after the load finds it there; Redis
    // gets it in the background (a failed write only means another instance loads again).
    flight
      .then((value) => {
        remember(key, value);
        void bounded('SET', () => redis.set(key, value.bytes, { expiration: { type: 'EX', value: ttlSeconds } }));
      })
      .catch(() => undefined)
      .finally(() => flights.delete(key));
    return flight;
  }

  function inMemory(key: string): CachedJson | undefined {
    const remembered = memory.get(key);
    if (!remembered) return undefined;
    if (remembered.expiresAt! <= performance.now()) {
      memory.delete(key);
      return undefined;
    }
    return remembered;
  }

  return {
    async getOrLoad(key, ttlSeconds, load) {
      if (options.bypass?.()) {
        // Caching "not applied" (a drill): every request computes the value, as before the cache existed.
        miss.inc();
        return entry(Buffer.from(await load()), undefined);
      }
      const remembered = inMemory(key);
      if (remembered) {
        hit.inc();
        return remembered;
      }
      const flight = flights.get(key);
      if (flight) {
        miss.inc();
        return flight;
      }
      // Both commands go out in one write, so the remaining TTL costs no extra round trip.
      const cached = await bounded('GET', () => Promise.all([redis.get(key), redis.pTTL(key)]));
      if (cached && typeof cached[0] === 'string') {
        hit.inc();
        const value = entry(Buffer.from(cached[0]), performance.now() + cached[1]);
        remember(key, value);
        return value;
      }
      if (cached) miss.inc();
      // While this request waited for Redis, another may have loaded the value (it is in memory) or be loading it.
      return inMemory(key) ?? flights.get(key) ?? loadOnce(key, ttlSeconds, load);
    },
  };
}
