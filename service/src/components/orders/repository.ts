import type { Transaction } from 'sequelize';
import { QUERIES } from '../../../../contract/queries';
import type { Database } from '../../infra/database';
import type { OrderStatus, OrderStatusView, PopularProducts, PricedOrderLine, StoredResponse } from './model';

type Timestamp = Date | string;
const iso = (value: Timestamp) => new Date(value).toISOString();

interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  total_amount: string;
  created_at: Timestamp;
  paid_at: Timestamp | null;
  updated_at: Timestamp;
}

const ORDER_COLUMNS = 'id, user_id, status, total_amount, created_at, paid_at, updated_at';

/** The incident guide's two hot queries, exported so `npm run db:explain` plans exactly what the service runs. */
export const ORDER_STATUS_BY_ID_SQL = `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`;
export const ORDER_STATUS_BY_USER_SQL =
  `SELECT ${ORDER_COLUMNS} FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`;
export const POPULAR_PRODUCTS_SQL = `
  WITH w AS (
    SELECT (now() AT TIME ZONE $1)::date - ($2::int - 1) AS from_date, now() AS window_to
  ), ranked AS (
    SELECT s.product_id, SUM(s.quantity) AS quantity, SUM(s.revenue) AS revenue
      FROM product_daily_sales s, w
     WHERE s.sales_date >= w.from_date
     GROUP BY s.product_id
    HAVING SUM(s.quantity) > 0
     ORDER BY quantity DESC, s.product_id
     LIMIT $3
  )
  SELECT w.from_date::timestamp AT TIME ZONE $1 AS window_from, w.window_to,
         r.product_id, p.name, p.price, r.quantity, r.revenue
    FROM w
    LEFT JOIN (ranked r JOIN products p ON p.id = r.product_id) ON true
   ORDER BY r.quantity DESC NULLS LAST, r.product_id`;

/**
 * The same ranking computed from the orders themselves, as it would be without the rollup: the query behind the
 * guide's "popular is slower than 1 s" incident. Kept for the explain script and the incident benchmarks.
 */
export const POPULAR_PRODUCTS_FROM_ORDERS_SQL = `
  WITH w AS (
    SELECT ((now() AT TIME ZONE $1)::date - ($2::int - 1))::timestamp AT TIME ZONE $1 AS from_ts
  )
  SELECT i.product_id, SUM(i.quantity) AS quantity, SUM(i.quantity * i.unit_price) AS revenue
    FROM orders o JOIN order_items i ON i.order_id = o.id, w
   WHERE o.status = 'PAID' AND o.paid_at >= w.from_ts
   GROUP BY i.product_id
   ORDER BY quantity DESC, i.product_id
   LIMIT $3`;

const toStatusView = (row: OrderRow): OrderStatusView => ({
  orderId: Number(row.id),
  userId: Number(row.user_id),
  status: row.status,
  totalAmount: Number(row.total_amount),
  createdAt: iso(row.created_at),
  paidAt: row.paid_at === null ? null : iso(row.paid_at),
  updatedAt: iso(row.updated_at),
});

export interface LockedProduct {
  id: number;
  price: number;
  stock: number;
}

const unnestLines = (lines: PricedOrderLine[]) => [
  lines.map((line) => line.productId),
  lines.map((line) => line.quantity),
  lines.map((line) => line.unitPrice),
];

/** SQL for orders; every value is a bound parameter, every result a plain object. */
export function createOrderRepository(db: Database) {
  return {
    /**
     * Takes the transaction-scoped lock of one caller's key without waiting: false when another transaction (in this
     * instance or another one on the same database) holds it, i.e. a request with this key is still being processed.
     */
    async tryLockIdempotencyKey(t: Transaction, userId: number, key: string): Promise<boolean> {
      const [row] = await db.query<{ locked: boolean }>(
        'idempotency_lock',
        `SELECT pg_try_advisory_xact_lock(hashtextextended($1::text || ':' || $2, 0)) AS locked`,
        [userId, key],
        t,
      );
      return row?.locked === true;
    },

    /** Forgets the caller's keys older than the retention (hours), so an expired key counts as never used. */
    async forgetExpiredIdempotencyKeys(t: Transaction, userId: number, retentionHours: number): Promise<void> {
      await db.query(
        'idempotency_forget_expired',
        'DELETE FROM idempotency_keys WHERE user_id = $1 AND created_at < now() - make_interval(hours => $2)',
        [userId, retentionHours],
        t,
      );
    },

    /** The fingerprint of the request that first used the caller's key and the response it got, if kept. */
    async findIdempotentResponse(
      t: Transaction,
      userId: number,
      key: string,
    ): Promise<{ requestHash: string; response: StoredResponse } | undefined> {
      const [row] = await db.query<{ request_hash: string; response_status: number; response_content_type: string; response_body: string }>(
        'idempotency_find',
        `SELECT request_hash, response_status, response_content_type, response_body
           FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
        [userId, key],
        t,
      );
      return row && {
        requestHash: row.request_hash,
        response: { status: row.response_status, contentType: row.response_content_type, body: row.response_body },
      };
    },

    /** Keeps the response sent for the caller's key; the primary key (user_id, key) refuses a second one. */
    async storeIdempotentResponse(
      t: Transaction,
      entry: { userId: number; key: string; requestHash: string; orderId: number; response: StoredResponse },
    ): Promise<void> {
      await db.query(
        'idempotency_store',
        `INSERT INTO idempotency_keys (user_id, key, request_hash, order_id, response_status, response_content_type, response_body)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [entry.userId, entry.key, entry.requestHash, entry.orderId, entry.response.status, entry.response.contentType, entry.response.body],
        t,
      );
    },

    async userExists(userId: number, t?: Transaction): Promise<boolean> {
      const rows = await db.query('user_exists', 'SELECT 1 FROM users WHERE id = $1', [userId], t);
      return rows.length > 0;
    },

    /** Locks the products in id order, the one lock order every writer uses, so orders never deadlock. */
    async lockProducts(t: Transaction, productIds: number[]): Promise<LockedProduct[]> {
      const rows = await db.query<{ id: string; price: string; stock: number }>(
        'products_lock',
        'SELECT id, price, stock FROM products WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE',
        [productIds],
        t,
      );
      return rows.map((row) => ({ id: Number(row.id), price: Number(row.price), stock: row.stock }));
    },

    async adjustStock(t: Transaction, lines: { productId: number; quantity: number }[], sign: 1 | -1): Promise<void> {
      await db.query(
        'products_adjust_stock',
        `UPDATE products p SET stock = p.stock + $3::int * v.quantity, updated_at = now()
           FROM unnest($1::bigint[], $2::int[]) AS v(product_id, quantity)
          WHERE p.id = v.product_id`,
        [lines.map((l) => l.productId), lines.map((l) => l.quantity), sign],
        t,
      );
    },

    /** Debits only when the balance covers the amount; false when it does not. */
    async debitBalance(t: Transaction, userId: number, amount: number): Promise<boolean> {
      const rows = await db.query(
        'user_debit',
        'UPDATE users SET balance = balance - $2, updated_at = now() WHERE id = $1 AND balance >= $2 RETURNING id',
        [userId, amount],
        t,
      );
      return rows.length > 0;
    },

    async creditBalance(t: Transaction, userId: number, amount: number): Promise<void> {
      await db.query(
        'user_credit',
        'UPDATE users SET balance = balance + $2, updated_at = now() WHERE id = $1',
        [userId, amount],
        t,
      );
    },

    async insertPaidOrder(
      t: Transaction,
      order: { userId: number; totalAmount: number },
    ): Promise<{ id: number; createdAt: string; paidAt: string }> {
      const [row] = await db.query<{ id: string; created_at: Timestamp; paid_at: Timestamp }>(
        'order_insert',
        `INSERT INTO orders (user_id, status, total_amount, paid_at)
         VALUES ($1, 'PAID', $2, now()) RETURNING id, created_at, paid_at`,
        [order.userId, order.totalAmount],
        t,
      );
      return { id: Number(row!.id), createdAt: iso(row!.created_at), paidAt: iso(row!.paid_at) };
    },

    async insertItems(t: Transaction, orderId: number, lines: PricedOrderLine[]): Promise<void> {
      await db.query(
        'order_items_insert',
        `INSERT INTO order_items (order_id, product_id, quantity, unit_price)
         SELECT $1, v.product_id, v.quantity, v.unit_price
           FROM unnest($2::bigint[], $3::int[], $4::bigint[]) AS v(product_id, quantity, unit_price)`,
        [orderId, ...unnestLines(lines)],
        t,
      );
    },

    async findItems(orderId: number, t?: Transaction): Promise<PricedOrderLine[]> {
      const rows = await db.query<{ product_id: string; quantity: number; unit_price: string }>(
        'order_items_by_order',
        'SELECT product_id, quantity, unit_price FROM order_items WHERE order_id = $1 ORDER BY product_id',
        [orderId],
        t,
      );
      return rows.map((r) => ({ productId: Number(r.product_id), quantity: r.quantity, unitPrice: Number(r.unit_price) }));
    },

    /**
     * Keeps the daily sales rollup that serves the popular ranking in step with the order, in the same transaction.
     * The sale counts on the business-time-zone calendar day on which it was paid.
     */
    async addDailySales(t: Transaction, paidAt: string, timeZone: string, lines: PricedOrderLine[]): Promise<void> {
      await db.query(
        'daily_sales_add',
        `INSERT INTO product_daily_sales AS s (sales_date, product_id, quantity, revenue)
         SELECT ($1::timestamptz AT TIME ZONE $2)::date, v.product_id, v.quantity, v.quantity * v.unit_price
           FROM unnest($3::bigint[], $4::int[], $5::bigint[]) AS v(product_id, quantity, unit_price)
         ON CONFLICT (sales_date, product_id) DO UPDATE
           SET quantity = s.quantity + EXCLUDED.quantity, revenue = s.revenue + EXCLUDED.revenue`,
        [paidAt, timeZone, ...unnestLines(lines)],
        t,
      );
    },

    /** Takes a cancelled order's sales back out of the day it was counted on. */
    async removeDailySales(t: Transaction, paidAt: string, timeZone: string, lines: PricedOrderLine[]): Promise<void> {
      await db.query(
        'daily_sales_remove',
        `UPDATE product_daily_sales AS s
            SET quantity = s.quantity - v.quantity, revenue = s.revenue - v.quantity * v.unit_price
           FROM unnest($3::bigint[], $4::int[], $5::bigint[]) AS v(product_id, quantity, unit_price)
          WHERE s.sales_date = ($1::timestamptz AT TIME ZONE $2)::date AND s.product_id = v.product_id`,
        [paidAt, timeZone, ...unnestLines(lines)],
        t,
      );
    },

    async lockOrder(t: Transaction, orderId: number): Promise<OrderStatusView | undefined> {
      const [row] = await db.query<OrderRow>(
        'order_lock',
        `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`,
        [orderId],
        t,
      );
      return row && toStatusView(row);
    },

    async markCancelled(t: Transaction, orderId: number): Promise<void> {
      await db.query(
        'order_mark_cancelled',
        `UPDATE orders SET status = 'CANCELLED', updated_at = now() WHERE id = $1`,
        [orderId],
        t,
      );
    },

    async statusById(orderId: number): Promise<OrderStatusView | undefined> {
      const [row] = await db.query<OrderRow>(QUERIES.orderStatusById, ORDER_STATUS_BY_ID_SQL, [orderId]);
      return row && toStatusView(row);
    },

    async statusByUser(userId: number, limit: number): Promise<OrderStatusView[]> {
      const rows = await db.query<OrderRow>(
        QUERIES.orderStatusByUser,
        ORDER_STATUS_BY_USER_SQL,
        [userId, limit],
      );
      return rows.map(toStatusView);
    },

    /** Ranks products by units sold in PAID orders over the last `days` business-calendar days, up to now. */
    async popularProducts(days: number, limit: number, timeZone: string): Promise<PopularProducts> {
      const rows = await db.query<{
        window_from: Timestamp;
        window_to: Timestamp;
        product_id: string | null;
        name: string;
        price: string;
        quantity: string;
        revenue: string;
      }>(
        QUERIES.popularProducts,
        POPULAR_PRODUCTS_SQL,
        [timeZone, days, limit],
      );
      const first = rows[0]!;
      return {
        days,
        from: iso(first.window_from),
        to: iso(first.window_to),
        products: rows
          .filter((row) => row.product_id !== null)
          .map((row, index) => ({
            rank: index + 1,
            productId: Number(row.product_id),
            name: row.name,
            price: Number(row.price),
            quantity: Number(row.quantity),
            revenue: Number(row.revenue),
          })),
      };
    },
  };
}

export type OrderRepository = ReturnType<typeof createOrderRepository>;
