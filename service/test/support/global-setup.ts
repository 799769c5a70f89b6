import { Sequelize } from 'sequelize';
import { migrateUp } from '../../src/infra/migrator';
import { startPostgres, startRedis } from './containers';

/**
 * Starts one PostgreSQL and one Redis for the whole run and builds the schema with the real migrations into a
 * template database; each test file clones it, so files run in parallel on isolated data.
 */
export default async function globalSetup() {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  (globalThis as { __containers__?: unknown[] }).__containers__ = [postgres, redis];

  const templateUrl = postgres.getConnectionUri();
  const sequelize = new Sequelize(templateUrl, { dialect: 'postgres', logging: false });
  await migrateUp(sequelize);
  await sequelize.close();

  const admin = new URL(templateUrl);
  admin.pathname = '/postgres';
  process.env.TEST_PG_ADMIN_URL = admin.toString();
  process.env.TEST_PG_TEMPLATE = 'orders_template';
  process.env.TEST_REDIS_URL = redis.getConnectionUrl();
}
