import { parseArgs } from 'node:util';
import { QueryTypes } from 'sequelize';
import { loadConfig } from '../config';
import { createDatabase } from '../infra/database';
import { migrateUp } from '../infra/migrator';
import { createMetrics } from '../telemetry/metrics';

/**
 * `npm run db:seed -- --users N --products N --orders N --days N [--reset]`
 * Bulk-generates history inside PostgreSQL (generate_series, batches of 100k orders), with skewed demand:
 * each order's first product is drawn from a power-law, so a few products sell far more than the rest.
 */
const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    products: { type: 'string', default: '1000' },
    orders: { type: 'string', default: '100000' },
    days: { type: 'string', default: '30' },
    reset: { type: 'boolean', default: false },
  },
});

const count = (name: keyof typeof values, min: number) => {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} must be an integer >= ${min}`);
    process.exit(2);
  }
  return value;
};

const users = count('users', 1);
const products = count('products', 5);
const orders = count('orders', 0);
const days = count('days', 1);
const BATCH = 100_000;

async function run() {
  const config = loadConfig();
  const db = createDatabase({ ...config.database, acquireTimeoutMs: 10_000, statementTimeoutMs: 3_600_000 }, createMetrics());
  const sql = (text: string, bind: unknown[] = []) => db.sequelize.query(text, { bind, type: QueryTypes.RAW });
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  try {
    await migrateUp(db.sequelize);
    const [[existing]] = (await sql('SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM users) AS n')) as [[{ n: string }], unknown];
    if (Number(existing.n) > 0) {
      if (!values.reset) throw new Error('The database already has data; pass --reset to replace it.');
      await sql('TRUNCATE product_daily_sales, order_items, orders, products, users RESTART IDENTITY CASCADE');
    }

    await sql(
      `INSERT INTO users (name, balance) SELECT 'user-' || g, 100000000 FROM generate_series(1, $1::int) g`,
      [users],
    );
    await sql(
      `INSERT INTO products (name, price, stock)
       SELECT 'product-' || lpad(g::text, 6, '0'), (10 + floor(random() * 990))::int * 100, 1000000
         FROM generate_series(1, $1::int) g`,
      [products],
    );
    process.stderr.write(`seed: ${users} users, ${products} products (${elapsed()})\n`);

    for (let lo = 1; lo <= orders; lo += BATCH) {
      const hi = Math.min(lo + BATCH - 1, orders);
      await db.sequelize.transaction(async (transaction) => {
        const q = (text: string, bind: unknown[] = []) => db.sequelize.query(text, { bind, transaction, type: QueryTypes.RAW });
        await q('SET LOCAL synchronous_commit = off');
        await q(
          `CREATE TEMP TABLE seed_lines ON COMMIT DROP AS
           WITH picks AS (
             SELECT o, floor($3::int * power(random(), 4))::bigint AS base, 1 + floor(random() * 5)::int AS n
               FROM generate_series($1::bigint, $2::bigint) o
           )
           SELECT o AS order_id, 1 + ((base + j * 7919) % $3::int) AS product_id, sum(1 + floor(random() * 3)::int)::int AS quantity
             FROM picks, generate_series(0, n - 1) j
            GROUP BY 1, 2`,
          [lo, hi, products],
        );
        await q(
          `INSERT INTO orders (id, user_id, status, total_amount, created_at, paid_at, updated_at)
           SELECT t.order_id, t.user_id, t.status, t.total, t.ts - interval '2 seconds', t.ts,
                  CASE WHEN t.status = 'CANCELLED' THEN t.ts + interval '1 hour' ELSE t.ts END
             FROM (
               SELECT l.order_id, 1 + floor(random() * $1::int)::bigint AS user_id,
                      CASE WHEN random() < 0.05 THEN 'CANCELLED' ELSE 'PAID' END AS status,
                      sum(l.quantity * p.price) AS total,
                      now() - random() * ($2::int * interval '1 day') AS ts
                 FROM seed_lines l JOIN products p ON p.id = l.product_id
                GROUP BY l.order_id
             ) t`,
          [users, days],
        );
        await q(
          `INSERT INTO order_items (order_id, product_id, quantity, unit_price)
           SELECT l.order_id, l.product_id, l.quantity, p.price FROM seed_lines l JOIN products p ON p.id = l.product_id`,
        );
      });
      process.stderr.write(`seed: orders ${hi}/${orders} (${elapsed()})\n`);
    }

    await sql(`SELECT setval('orders_id_seq', greatest((SELECT max(id) FROM orders), 1))`);
    await sql(
      `INSERT INTO product_daily_sales (sales_date, product_id, quantity, revenue)
       SELECT (o.paid_at AT TIME ZONE $1)::date, i.product_id, sum(i.quantity), sum(i.quantity * i.unit_price)
         FROM orders o JOIN order_items i ON i.order_id = o.id
        WHERE o.status = 'PAID'
        GROUP BY 1, 2`,
      [config.businessTimeZone],
    );
    await sql('ANALYZE');
    const [[totals]] = (await sql(
      'SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM order_items) AS items, (SELECT count(*) FROM product_daily_sales) AS rollup',
    )) as [[Record<string, string>], unknown];
    process.stderr.write(`seed: done: ${JSON.stringify(totals)} in ${elapsed()}\n`);
  } finally {
    await db.close();
  }
}

run().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
