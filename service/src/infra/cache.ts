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
  /** True when this is the last value kept past its expiry, served because a fresh one could not be computed. */
  stale?: boolean;
}

export interface JsonCache {
  /**
   * Cache-aside read of a serialized JSON value. Looks in this process's memory, then in Redis, then runs `load`.
   * Concurrent misses of one key share a single `load` (single flight), so an expiry under load costs one database
   * aggregate. Redis failures fall through to `load`.
   */
  getOrLoad(key: string, ttlSeconds: number, load: () => Promise<string>): Promise<CachedJson>;
  /**
   * Forgets every value this process holds in memory (fresh and stale); loads already running are not remembered.
   * Does not touch Redis: see purge.
   */
  invalidateMemory(): void;
  /** Deletes this cache's keys (those starting with its key prefix, stale copies included) from Redis; resolves to how many. */
  purge(): Promise<number>;
}

/** The Redis key of the last value of `key`, kept for the stale-if-error grace period. */
const staleKeyOf = (key: string) => `${key}:stale`;

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
  options: {
    commandTimeoutMs: number;
    /** Every key of this cache starts with it (what purge deletes). */
    keyPrefix: string;
    /**
     * How long past its expiry the last value is still served, marked stale, when `load` fails (RFC 5861
     * stale-if-error), in seconds; 0 or absent = never. The last value is kept in memory and in Redis that long.
     */
    staleIfErrorSeconds?: number;
    bypass?: () => boolean;
    maxRememberedKeys?: number;
  },
  metrics: Metrics,
  logger: Logger,
): JsonCache {
  /** Loads in progress, by key: concurrent misses wait for the same one. */
  const flights = new Map<string, Promise<CachedJson>>();
  const memory = new Map<string, CachedJson>();
  const graceMs = (options.staleIfErrorSeconds ?? 0) * 1000;
  /** Bumped by invalidateMemory: a load that started under an older generation is not remembered. */
  let generation = 0;
  const maxRememberedKeys = options.maxRememberedKeys ?? 1_000;
  const hit = metrics.cacheRequests.labels(name, 'hit');
  const miss = metrics.cacheRequests.labels(name, 'miss');
  const failed = metrics.cacheRequests.labels(name, 'error');
  // Exposed at 0 from the start: a cache that never hits must still have a hit ratio (0), or its alert cannot fire.
  for (const series of [hit, miss, failed]) series.inc(0);

  function remember(key: string, value: CachedJson): void {
    if (value.expiresAt === undefined || value.expiresAt <= performance.now()) return;
    if (memory.size >= maxRememberedKeys && !memory.has(key)) {
      const now = performance.now();
      for (const [k, remembered] of memory) if (remembered.expiresAt! + graceMs <= now) memory.delete(k);
      // Still full of live entries: forget the oldest one.
      if (memory.size >= maxRememberedKeys) memory.delete(memory.keys().next().value!);
    }
    memory.set(key, value);
  }

  /**
   * Runs Redis commands for at most the command timeout; a reply that comes later is dropped. Failures of
   * look-ups (GET) are counted as cache errors; a failed write only means the next request loads again.
   */
  async function bounded<T>(command: 'GET' | 'SET' | 'SCAN', run: () => Promise<T>): Promise<T | undefined> {
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
    const startedIn = generation;
    const flight = load().then((json) => entry(Buffer.from(json), performance.now() + ttlSeconds * 1000));
    flights.set(key, flight);
    // Memory has the value before any waiter resumes, so a request arriving after the load finds it there; Redis
    // gets it in the background (a failed write only means another instance loads again).
    flight
      .then((value) => {
        if (startedIn !== generation) return;
        remember(key, value);
        void bounded('SET', () => redis.set(key, value.bytes, { expiration: { type: 'EX', value: ttlSeconds } }));
        if (graceMs > 0) {
          const keepSeconds = ttlSeconds + Math.ceil(graceMs / 1000);
          void bounded('SET', () => redis.set(staleKeyOf(key), value.bytes, { expiration: { type: 'EX', value: keepSeconds } }));
        }
      })
      .catch(() => undefined)
      .finally(() => flights.delete(key));
    return flight;
  }

  function inMemory(key: string): CachedJson | undefined {
    const remembered = memory.get(key);
    if (!remembered) return undefined;
    if (remembered.expiresAt! <= performance.now()) {
      // Past its expiry it is kept only as the stale copy of the grace period.
      if (remembered.expiresAt! + graceMs <= performance.now()) memory.delete(key);
      return undefined;
    }
    return remembered;
  }

  /** The last value of `key` within the grace period (this process's, else the shared one), marked stale. */
  async function staleCopy(key: string): Promise<CachedJson | undefined> {
    if (graceMs <= 0) return undefined;
    const remembered = memory.get(key);
    if (remembered && remembered.expiresAt! + graceMs > performance.now()) return { ...remembered, expiresAt: undefined, stale: true };
    const shared = await bounded('GET', () => redis.get(staleKeyOf(key)));
    return typeof shared === 'string' ? { ...entry(Buffer.from(shared), undefined), stale: true } : undefined;
  }

  async function freshOrStale(key: string, compute: () => Promise<CachedJson>): Promise<CachedJson> {
    try {
      return await compute();
    } catch (error) {
      const stale = await staleCopy(key);
      if (!stale) throw error;
      logger.debug('serving a stale cached value: the fresh one could not be computed', { cache: name, error: (error as Error).message });
      return stale;
    }
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
        return freshOrStale(key, () => flight);
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
      const now = inMemory(key);
      if (now) return now;
      return freshOrStale(key, () => flights.get(key) ?? loadOnce(key, ttlSeconds, load));
    },
    invalidateMemory() {
      generation++;
      memory.clear();
    },
    async purge() {
      if (!redis.isReady) throw new Error('redis is not connected');
      return deleteKeysWithPrefix(redis, options.keyPrefix);
    },
  };
}

/** Deletes every Redis key starting with `prefix` (SCAN, never KEYS); resolves how many were deleted. */
export async function deleteKeysWithPrefix(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    if (keys.length > 0) deleted += await redis.del(keys);
  }
  return deleted;
}
