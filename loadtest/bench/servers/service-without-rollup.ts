import type { Transaction } from 'sequelize';
import { POPULAR_PRODUCTS_FROM_ORDERS_SQL } from '../../../service/src/components/orders/repository';
import type { Bind, Database } from '../../../service/src/infra/database';
import { run } from '../../../service/src/main';

/**
 * Bench only: the real service, except that its `popular_products` query
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

run({
  db: (db): Database => ({
    ...db,
    query: <Row>(name: string, sql: string, bind?: Bind, transaction?: Transaction) =>
      db.query<Row>(name, name === 'popular_products' ? POPULAR_WITHOUT_ROLLUP_SQL : sql, bind, transaction),
  }),
});
