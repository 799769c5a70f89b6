import { createClient } from 'redis';
import type { Config } from '../config';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../telemetry/metrics';

const REDIS_PING_INTERVAL_MS = 1_000;

export type RedisClient = ReturnType<typeof createRedis>;

/**
 * Redis is a cache here, never a dependency: nothing queues while disconnected, a hung server is dropped within
 * seconds, and the client reconnects in the background forever. Callers bound each command's wait themselves.
 */
export function createRedis(config: Config['redis'], metrics: Metrics, logger: Logger) {
  const client = createClient({
    url: config.url,
    disableOfflineQueue: true,
    // node-redis stops timing a command once it is written, so a hung server is found by the socket going
    // quiet: a PING every second keeps a healthy idle socket busy, and a PING left unanswered lets the socket
    // time out, which drops the connection and fails what was waiting on it.
    pingInterval: REDIS_PING_INTERVAL_MS,
    socket: {
      connectTimeout: 1_000,
      socketTimeout: REDIS_PING_INTERVAL_MS * 2,
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
  return client;
}

/** Connects in the background: the service starts and serves from PostgreSQL while Redis is away. */
export function connectInBackground(client: RedisClient, logger: Logger): void {
  client.connect().catch((error: Error) => logger.warn('redis connect failed; retrying in background', { error: error.message }));
}
