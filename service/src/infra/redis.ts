import { createClient } from 'redis';
import type { Config } from '../config';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../telemetry/metrics';

/** How often the connection is checked with a PING, in ms. */
export const REDIS_PING_INTERVAL_MS = 1_000;
/**
 * How long a PING may go unanswered before Redis counts as hung, in ms: the connection is then dropped (every command
 * waiting on it fails at once, `redis_connected` is 0, `/readyz` says the cache is degraded, and the cache, the
 * traffic limiter and the shared settings skip Redis) and a new one is opened in the background, which becomes ready
 * only once Redis answers again. So a hung Redis is reported and skipped within REDIS_PING_INTERVAL_MS +
 * REDIS_HUNG_AFTER_MS (2 s) of its last answer, however busy the socket is. A Redis slower than that for a PING (a
 * long command ahead of it, a fork) is treated the same: for a cache, skipping it is the right answer either way.
 */
export const REDIS_HUNG_AFTER_MS = 1_000;

export type RedisClient = ReturnType<typeof createRedis>;

/**
 * Redis is a cache here, never a dependency: nothing queues while disconnected, a hung server is dropped within
 * seconds (a PING watchdog, REDIS_HUNG_AFTER_MS), and the client reconnects in the background forever. Callers bound
 * each command's wait themselves.
 */
export function createRedis(config: Config['redis'], metrics: Metrics, logger: Logger) {
  const client = createClient({
    url: config.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 1_000,
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000),
    },
  });
  let connected = false;
  const setConnected = (value: boolean) => {
    if (value !== connected) logger.log(value ? 'info' : 'warn', value ? 'redis connected' : 'redis disconnected');
    connected = value;
    metrics.redisConnected.set(value ? 1 : 0);
  };
  metrics.redisConnected.set(0);
  client.on('ready', () => setConnected(true));
  client.on('end', () => setConnected(false));
  client.on('reconnecting', () => setConnected(false));
  // Without an error listener node-redis would crash the process; the cache counts failures where they happen.
  client.on('error', (error: Error) => {
    if (connected) logger.warn('redis error', { error: error.message });
    setConnected(false);
  });

  // node-redis stops timing a command once it is written, and a socket busy with traffic never times out: only an
  // unanswered PING tells a hung server (stopped, frozen, or a network that drops everything) from a slow reply.
  let probing = false;
  const watchdog = setInterval(() => {
    if (probing || !client.isReady) return;
    probing = true;
    const hung = setTimeout(() => {
      // Closed by the service meanwhile (shutdown): nothing to drop or reopen.
      if (!client.isOpen) return;
      logger.warn('redis not answering: connection dropped, reconnecting', { hungAfterMs: REDIS_HUNG_AFTER_MS });
      setConnected(false);
      client.destroy();
      connectInBackground(client, logger);
    }, REDIS_HUNG_AFTER_MS);
    hung.unref();
    client
      .ping()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(hung);
        probing = false;
      });
  }, REDIS_PING_INTERVAL_MS);
  // Once the service closes the client, it is never ready again and the watchdog does nothing.
  watchdog.unref();
  return client;
}

/** Connects in the background: the service starts and serves from PostgreSQL while Redis is away. */
export function connectInBackground(client: RedisClient, logger: Logger): void {
  client.connect().catch((error: Error) => logger.warn('redis connect failed; retrying in background', { error: error.message }));
}
