import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer } from '@testcontainers/redis';

/**
 * Official images by default, so a developer with Docker just runs `npm test`; CI without a registry points these
 * variables at stand-ins built from Debian packages (.ci/images).
 */
export const images = {
  postgres: process.env.POSTGRES_IMAGE ?? 'postgres:15-alpine',
  redis: process.env.REDIS_IMAGE ?? 'redis:7-alpine',
};

export const startPostgres = (options: { database?: string; hostPort?: number; maxConnections?: number } = {}) => {
  const container = new PostgreSqlContainer(images.postgres)
    .withUsername('orders')
    .withPassword('orders')
    .withDatabase(options.database ?? 'orders_template')
    .withCommand(['postgres', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', `max_connections=${options.maxConnections ?? 300}`])
    .withLabels({ 'orders.test': 'true' });
  if (options.hostPort !== undefined) container.withExposedPorts({ container: 5432, host: options.hostPort });
  return container.start();
};

export const startRedis = (hostPort?: number) => {
  const container = new RedisContainer(images.redis).withLabels({ 'orders.test': 'true' });
  if (hostPort !== undefined) container.withExposedPorts({ container: 6379, host: hostPort });
  return container.start();
};
