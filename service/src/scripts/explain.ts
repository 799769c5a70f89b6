import { QueryTypes } from 'sequelize';
import { loadConfig } from '../config';
import {
  ORDER_STATUS_BY_ID_SQL,
  ORDER_STATUS_BY_USER_SQL,
  POPULAR_PRODUCTS_FROM_ORDERS_SQL,
  POPULAR_PRODUCTS_SQL,
} from '../components/orders/repository';
import { createDatabase } from '../infra/database';
import { createMetrics } from '../telemetry/metrics';

/**
 * `npm run db:explain`: EXPLAIN (ANALYZE, BUFFERS) of the hot queries exactly as the service runs them, with and
 * without the indexes that serve them (dropped inside a transaction that is rolled back). The source of
 * service/docs/queries.md.
 */
async function run() {
  const config = loadConfig();
  const db = createDatabase({ ...config.database, acquireTimeoutMs: 10_000, statementTimeoutMs: 600_000 }, createMetrics());
  const tz = config.businessTimeZone;
  const [sample] = (await db.sequelize.query(
    `SELECT (SELECT max(id) FROM orders) / 2 AS order_id,
            (SELECT user_id FROM orders GROUP BY user_id ORDER BY count(*) DESC LIMIT 1) AS user_id`,
    { type: QueryTypes.SELECT },
  )) as { order_id: string; user_id: string }[];

  const cases: { title: string; sql: string; bind: unknown[]; without?: string }[] = [
    { title: 'popular, days=3 limit=5 (daily rollup)', sql: POPULAR_PRODUCTS_SQL, bind: [tz, 3, 5] },
    { title: 'popular, days=30 limit=50 (daily rollup)', sql: POPULAR_PRODUCTS_SQL, bind: [tz, 30, 50] },
    { title: 'popular, days=3, from orders with orders_paid_at_idx', sql: POPULAR_PRODUCTS_FROM_ORDERS_SQL, bind: [tz, 3, 5] },
    {
      title: 'popular, days=3, from orders without orders_paid_at_idx',
      sql: POPULAR_PRODUCTS_FROM_ORDERS_SQL,
      bind: [tz, 3, 5],
      without: 'orders_paid_at_idx',
    },
    { title: 'status by orderId', sql: ORDER_STATUS_BY_ID_SQL, bind: [sample!.order_id] },
    { title: 'status by userId, limit 20 (busiest user)', sql: ORDER_STATUS_BY_USER_SQL, bind: [sample!.user_id, 20] },
    {
      title: 'status by userId, limit 20, without orders_user_id_created_at_idx',
      sql: ORDER_STATUS_BY_USER_SQL,
      bind: [sample!.user_id, 20],
      without: 'orders_user_id_created_at_idx',
    },
  ];

  try {
    for (const c of cases) {
      // Each case runs in a transaction that is always rolled back, so a dropped index comes straight back.
      const transaction = await db.sequelize.transaction();
      try {
        if (c.without) await db.sequelize.query(`DROP INDEX ${c.without}`, { transaction });
        // Run once first so the plan shows the steady state under load, with the pages cached.
        await db.sequelize.query(c.sql, { bind: c.bind, transaction });
        const rows = (await db.sequelize.query(`EXPLAIN (ANALYZE, BUFFERS) ${c.sql}`, {
          bind: c.bind,
          transaction,
          type: QueryTypes.SELECT,
        })) as { 'QUERY PLAN': string }[];
        console.log(`\n### ${c.title}\n\n\`\`\`\n${rows.map((r) => r['QUERY PLAN']).join('\n')}\n\`\`\``);
      } finally {
        await transaction.rollback();
      }
    }
  } finally {
    await db.close();
  }
}

run().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
