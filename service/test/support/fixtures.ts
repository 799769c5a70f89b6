import type { TestApp } from './test-app';

/** Rows the stories start from, written with plain SQL so a test never depends on the API it checks. */
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
