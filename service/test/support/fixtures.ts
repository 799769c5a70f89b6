import type { TestApp } from './test-app';

/** Rows the stories start from, written with plain SQL so a test never depends on the API it checks. */
export type Fixtures = ReturnType<typeof fixtures>;

export function fixtures(app: TestApp) {
  let counter = 0;
  return {
    async user(balance = 1_000_000): Promise<number> {
      const [row] = await app.sql<{ id: string }>('INSERT INTO users (name, balance) VALUES ($1, $2) RETURNING id', [
        `user-${++counter}`,
        balance,
      ]);
      return Number(row!.id);
    },
    async product(price = 1_000, stock = 100): Promise<number> {
      const [row] = await app.sql<{ id: string }>(
        'INSERT INTO products (name, price, stock) VALUES ($1, $2, $3) RETURNING id',
        [`product-${++counter}`, price, stock],
      );
      return Number(row!.id);
    },
    async stockOf(productId: number): Promise<number> {
      const [row] = await app.sql<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [productId]);
      return row!.stock;
    },
    async balanceOf(userId: number): Promise<number> {
      const [row] = await app.sql<{ balance: string }>('SELECT balance FROM users WHERE id = $1', [userId]);
      return Number(row!.balance);
    },
    async orderCount(): Promise<number> {
      const [row] = await app.sql<{ n: string }>('SELECT count(*) AS n FROM orders');
      return Number(row!.n);
    },
  };
}

/**
 * A paid sale in the past, written the way the order transaction writes one: the order, its item, and the
 * rollup row of the business-calendar day it was paid on.
 */
export async function pastSale(app: TestApp, sale: { userId: number; productId: number; quantity: number; paidAt: Date }) {
  const [product] = await app.sql<{ price: string }>('SELECT price FROM products WHERE id = $1', [sale.productId]);
  const total = Number(product!.price) * sale.quantity;
  const [order] = await app.sql<{ id: string }>(
    `INSERT INTO orders (user_id, status, total_amount, created_at, paid_at, updated_at)
     VALUES ($1, 'PAID', $2, $3, $3, $3) RETURNING id`,
    [sale.userId, total, sale.paidAt],
  );
  await app.sql('INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, $3, $4)', [
    order!.id, sale.productId, sale.quantity, product!.price,
  ]);
  await app.sql(
    `INSERT INTO product_daily_sales (sales_date, product_id, quantity, revenue)
     VALUES (($1::timestamptz AT TIME ZONE $2)::date, $3, $4, $5)
     ON CONFLICT (sales_date, product_id) DO UPDATE
       SET quantity = product_daily_sales.quantity + EXCLUDED.quantity, revenue = product_daily_sales.revenue + EXCLUDED.revenue`,
    [sale.paidAt, app.config.businessTimeZone, sale.productId, sale.quantity, total],
  );
  return Number(order!.id);
}
