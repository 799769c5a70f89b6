import type { Transaction } from 'sequelize';
import { createApp } from '../../../service/src/app';
import { POPULAR_PRODUCTS_FROM_ORDERS_SQL } from '../../../service/src/components/orders/repository';
import { loadConfig } from '../../../service/src/config';
import { createDatabase, type Bind, type Database } from '../../../service/src/infra/database';
import { connectInBackground, createRedis } from '../../../service/src/infra/redis';
import { listen } from '../../../service/src/lib/http-server';
import { createLogger } from '../../../service/src/lib/logger';
import { createRequestContextStorage } from '../../../service/src/lib/request-context';
import { createDrills } from '../../../service/src/ops/drills';
import { createMetrics } from '../../../service/src/telemetry/metrics';

/**
 * Bench only: the real service, wired as service/src/main.ts wires it, except that its `popular_products` query
 * ranks from the orders themselves (POPULAR_PRODUCTS_FROM_ORDERS_SQL, the query behind the guide's incident)
 * instead of the daily sales rollup. With the cache-bypass drill on, it is the popular endpoint with both
 * remedies removed. The outer SELECT only adds the window and product names the response shape needs (the same
 * columns POPULAR_PRODUCTS_SQL returns, with the same bound parameters: time zone, days, limit).
 */
export const POPULAR_WITHOUT_ROLLUP_SQL = `
  WITH ranked AS (${POPULAR_PRODUCTS_FROM_ORDERS_SQL}
  ), w AS (
    SELECT ((now() AT TIME ZONE $1)::date - ($2::int - 1))::timestamp AT TIME ZONE $1 AS window_from, now() AS window_to
  )
  SELECT w.window_from, w.window_to, r.product_id, p.name, p.price, r.quantity, r.revenue
    FROM w
    LEFT JOIN (ranked r JOIN products p ON p.id = r.product_id) ON true
   ORDER BY r.quantity DESC NULLS LAST, r.product_id`;

async function main() {
  const config = loadConfig();
  const requestContext = createRequestContextStorage();
  const logger = createLogger({ level: config.log.level, requestContext });
  const metrics = createMetrics();
  const drills = createDrills(metrics, logger, config.admin.faultsEnabled);
  const db = createDatabase(config.database, metrics, drills);
  const withoutRollup: Database = {
    ...db,
    query: <Row>(name: string, sql: string, bind?: Bind, transaction?: Transaction) =>
      db.query<Row>(name, name === 'popular_products' ? POPULAR_WITHOUT_ROLLUP_SQL : sql, bind, transaction),
  };
  const redis = createRedis(config.redis, metrics, logger);
  connectInBackground(redis, logger);
  const app = createApp({ config, db: withoutRollup, redis, metrics, logger, requestContext, drills });
  await listen(app.api, config.http.port);
  await listen(app.ops, config.http.opsPort);
  logger.info('bench: service without the rollup listening', { port: config.http.port, opsPort: config.http.opsPort });
  process.once('SIGTERM', () => {
    void Promise.allSettled([redis.close(), db.close()]).then(() => process.exit(0));
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
