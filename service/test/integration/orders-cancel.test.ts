import { post } from '../support/http';
import { sample, scrape } from '../support/metrics';
import { useTestApp } from '../support/test-app';

// Cancellation rules, not load shedding: on a loaded machine a request may wait long for a pooled connection.
const t = useTestApp({ DB_POOL_ACQUIRE_TIMEOUT_MS: '10000' });

describe('POST /api/orders/:id/cancel', () => {
  test('restores stock and balance, takes the sale out of the rollup, and marks the order CANCELLED', async () => {
    const userId = await t.given.user(50_000);
    const productId = await t.given.product(7_000, 10);
    const placed = await post(`${t.app.api}/api/orders`, { userId, items: [{ productId, quantity: 3 }] });

    const response = await post(`${t.app.api}/api/orders/${placed.body.orderId}/cancel`);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ orderId: placed.body.orderId, status: 'CANCELLED' });
    expect(await t.given.stockOf(productId)).toBe(10);
    expect(await t.given.balanceOf(userId)).toBe(50_000);
    const [rollup] = await t.app.sql('SELECT quantity, revenue FROM product_daily_sales WHERE product_id = $1', [productId]);
    expect(rollup).toEqual({ quantity: '0', revenue: '0' });
    const [order] = await t.app.sql<{ status: string; updated_at: Date; created_at: Date }>(
      'SELECT status, updated_at, created_at FROM orders WHERE id = $1',
      [placed.body.orderId],
    );
    expect(order!.status).toBe('CANCELLED');
    expect(order!.updated_at.getTime()).toBeGreaterThanOrEqual(order!.created_at.getTime());
    expect(sample(await scrape(t.app.ops), 'orders_cancelled_total')).toBe(1);
  });

  test('409 ORDER_NOT_CANCELLABLE the second time, with nothing restored twice', async () => {
    const userId = await t.given.user(50_000);
    const productId = await t.given.product(7_000, 10);
    const placed = await post(`${t.app.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] });
    await post(`${t.app.api}/api/orders/${placed.body.orderId}/cancel`);

    const again = await post(`${t.app.api}/api/orders/${placed.body.orderId}/cancel`);

    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ORDER_NOT_CANCELLABLE');
    expect(await t.given.stockOf(productId)).toBe(10);
    expect(await t.given.balanceOf(userId)).toBe(50_000);
  });

  test('concurrent cancels of one order restore it exactly once', async () => {
    const userId = await t.given.user(50_000);
    const productId = await t.given.product(1_000, 10);
    const placed = await post(`${t.app.api}/api/orders`, { userId, items: [{ productId, quantity: 4 }] });

    const responses = await Promise.all(Array.from({ length: 10 }, () => post(`${t.app.api}/api/orders/${placed.body.orderId}/cancel`)));

    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(9);
    expect(await t.given.stockOf(productId)).toBe(10);
    expect(await t.given.balanceOf(userId)).toBe(50_000);
  });

  test('404 ORDER_NOT_FOUND for an unknown order, 400 for a malformed id', async () => {
    const unknown = await post(`${t.app.api}/api/orders/424242424/cancel`);
    const malformed = await post(`${t.app.api}/api/orders/abc/cancel`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('ORDER_NOT_FOUND');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_FAILED');
  });
});
