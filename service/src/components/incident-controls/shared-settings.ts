import type { Logger } from '../../lib/logger';
import type { RedisClient } from '../../infra/redis';

/** Redis keys of the settings every instance shares (one string value each; absent = off). */
export const SHARED_SETTING_KEYS = {
  rateLimit: 'incident-controls:rate-limit',
  drills: 'incident-controls:drills',
  popularCacheGeneration: 'incident-controls:cache-generation:popular',
} as const;
export type SharedSettingKey = (typeof SHARED_SETTING_KEYS)[keyof typeof SHARED_SETTING_KEYS];

/** Where a change took effect: every instance (stored in Redis), or only this one until Redis is back. */
export type AppliesTo = 'all_instances' | 'this_instance_until_redis_returns';

/**
 * The responders' settings (traffic limit, drills, cache invalidations) shared by every instance through Redis.
 * A change is applied here at once and stored in Redis; every instance reads all keys with one MGET every
 * `intervalMs` and applies the values that changed, so a change reaches all instances within one interval, and an
 * instance that starts (or reconnects) mid-incident picks up what is in force. A poll rather than pub/sub: nothing
 * is lost while an instance is disconnected, and it costs one command per interval.
 * If Redis is unavailable when a change is made, it applies to this instance only and is written to Redis as soon
 * as Redis answers again (before that instance reads anything back, so the responder's latest change wins).
 */
export function createSharedSettings(redis: RedisClient, logger: Logger, options: { intervalMs: number; commandTimeoutMs: number }) {
  const appliers = new Map<SharedSettingKey, (raw: string | null) => void>();
  const seen = new Map<SharedSettingKey, string | null>();
  /** Changes made while Redis was away, to write when it returns. */
  const pending = new Map<SharedSettingKey, string | null>();
  /** Counts this instance's own changes, so a poll that read Redis before one of them cannot undo it. */
  let changes = 0;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  /**
   * Commands sent and not answered yet. While one is outstanding no poll is sent: a hung Redis must see the socket go
   * quiet, which is how the client detects it (see createRedis), and unanswered polls must not pile up.
   */
  let outstanding = 0;

  async function bounded<T>(run: () => Promise<T>): Promise<T> {
    if (!redis.isReady) throw new Error('redis is not connected');
    let t: NodeJS.Timeout | undefined;
    outstanding++;
    const command = run().finally(() => outstanding--);
    try {
      return await Promise.race([
        command,
        new Promise<never>((_, reject) => {
          t = setTimeout(() => reject(new Error(`redis took over ${options.commandTimeoutMs} ms`)), options.commandTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(t);
    }
  }

  const write = (key: SharedSettingKey, raw: string | null): Promise<unknown> =>
    bounded<unknown>(() => (raw === null ? redis.del(key) : redis.set(key, raw)));

  function apply(key: SharedSettingKey, raw: string | null): void {
    seen.set(key, raw);
    try {
      appliers.get(key)?.(raw);
    } catch (error) {
      logger.error('shared setting could not be applied', { key, error: (error as Error).message });
    }
  }

  /** One round: first write what was changed while Redis was away, then read every key and apply what changed. */
  async function poll(): Promise<void> {
    if (polling || outstanding > 0 || !redis.isReady || appliers.size === 0) return;
    polling = true;
    try {
      for (const [key, raw] of [...pending]) {
        await write(key, raw);
        pending.delete(key);
        logger.warn('shared setting stored after redis returned', { key });
      }
      const keys = [...appliers.keys()];
      const before = changes;
      const values = await bounded(() => redis.mGet(keys));
      if (changes !== before) return;
      keys.forEach((key, i) => {
        const raw = values[i] ?? null;
        if (!pending.has(key) && seen.get(key) !== raw) apply(key, raw);
      });
    } catch (error) {
      logger.debug('shared settings poll failed', { error: (error as Error).message });
    } finally {
      polling = false;
    }
  }

  return {
    /** Registers what to do with a key's value (null when absent); called at start-up and whenever it changes. */
    register(key: SharedSettingKey, applier: (raw: string | null) => void): void {
      appliers.set(key, applier);
      // Absent is what a fresh instance already has in force: only a value found in Redis is applied at start-up.
      seen.set(key, null);
    },
    /**
     * Applies a value here at once and stores it for every instance. Resolves to where it took effect; never throws
     * (a Redis failure keeps the change pending for when Redis returns).
     */
    async publish(key: SharedSettingKey, raw: string | null): Promise<AppliesTo> {
      changes++;
      apply(key, raw);
      try {
        await write(key, raw);
        pending.delete(key);
        return 'all_instances';
      } catch (error) {
        pending.set(key, raw);
        logger.warn('shared setting applied to this instance only: redis unavailable', { key, error: (error as Error).message });
        return 'this_instance_until_redis_returns';
      }
    },
    /** Runs one poll now (start-up, tests). */
    poll,
    start(): void {
      timer ??= setInterval(() => void poll(), options.intervalMs);
      timer.unref();
      redis.on('ready', () => void poll());
    },
    stop(): void {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

export type SharedSettings = ReturnType<typeof createSharedSettings>;
