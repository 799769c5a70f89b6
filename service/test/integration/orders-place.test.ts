import { post } from '../support/http';
import { sample, scrape } from '../support/metrics';
import { useTestApp } from '../support/test-app';

// Order rules, not load shedding: on a loaded machine a request may wait long for a pooled connection.
const t = useTestApp({ DB_POOL_ACQUIRE_TIMEOUT_MS: '10000' });

const placeOrder = (body: unknown, headers?: Record<string, string>) => post(`${t.app.api}/api/orders`, body, headers);

describe('POST /api/orders', () => {
  test('charges the balance, takes the stock, and answers 201 with the paid order', async () => {
    const userId = await t.given.user(100_000);
    const keyboard = await t.given.product(30_000, 5);
    const mouse = await t.given.product(12_500, 10);
    const before = await scrape(t.app.ops);

    const response = await placeOrder({ userId, items: [{ productId: keyboard, quantity: 2 }, { productId: mouse, quantity: 1 }] });

    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      orderId: expect.any(Number),
      userId,
      status: 'PAID',
      totalAmount: 72_500,
      items: [
        { productId: keyboard, quantity: 2, unitPrice: 30_000 },
        { productId: mouse, quantity: 1, unitPrice: 12_500 },
      ],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      paidAt: expect.stringMatching(/Z$/),
    });
    expect(await t.given.balanceOf(userId)).toBe(27_500);
    expect(await t.given.stockOf(keyboard)).toBe(3);
    expect(await t.given.stockOf(mouse)).toBe(9);
    const [order] = await t.app.sql('SELECT status, total_amount FROM orders WHERE id = $1', [response.body.orderId]);
    expect(order).toEqual({ status: 'PAID', total_amount: '72500' });
    const after = await scrape(t.app.ops);
    expect(sample(after, 'orders_created_total')! - sample(before, 'orders_created_total')!).toBe(1);
  });

  test('409 OUT_OF_STOCK changes nothing', async () => {
    const userId = await t.given.user(1_000_000);
    const plenty = await t.given.product(100, 50);
    const scarce = await t.given.product(100, 2);

    const response = await placeOrder({ userId, items: [{ productId: plenty, quantity: 5 }, { productId: scarce, quantity: 3 }] });

    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('OUT_OF_STOCK');
    expect(response.body.error.details).toEqual([expect.objectContaining({ productId: scarce, requested: 3, available: 2 })]);
    expect(await t.given.stockOf(plenty)).toBe(50);
    expect(await t.given.stockOf(scarce)).toBe(2);
    expect(await t.given.balanceOf(userId)).toBe(1_000_000);
    const scraped = await scrape(t.app.ops);
    expect(sample(scraped, 'orders_rejected_total', { reason: 'OUT_OF_STOCK' })).toBeGreaterThanOrEqual(1);
  });

  test('409 INSUFFICIENT_BALANCE changes nothing', async () => {
    const userId = await t.given.user(999);
    const productId = await t.given.product(1_000, 10);
    const orders = await t.given.orderCount();

    const response = await placeOrder({ userId, items: [{ productId, quantity: 1 }] });

    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('INSUFFICIENT_BALANCE');
    expect(await t.given.stockOf(productId)).toBe(10);
    expect(await t.given.balanceOf(userId)).toBe(999);
    expect(await t.given.orderCount()).toBe(orders);
  });

  test('404 for an unknown user or product', async () => {
    const userId = await t.given.user();
    const productId = await t.given.product();

    const noUser = await placeOrder({ userId: 99_999_999, items: [{ productId, quantity: 1 }] });
    const noProduct = await placeOrder({ userId, items: [{ productId, quantity: 1 }, { productId: 99_999_999, quantity: 1 }] });

    expect(noUser.status).toBe(404);
    expect(noUser.body.error.code).toBe('USER_NOT_FOUND');
    expect(noProduct.status).toBe(404);
    expect(noProduct.body.error.code).toBe('PRODUCT_NOT_FOUND');
    expect(await t.given.stockOf(productId)).toBe(100);
  });

  test.each([
    ['no items', { items: [] }],
    ['21 items', { items: Array.from({ length: 21 }, (_, i) => ({ productId: i + 1, quantity: 1 })) }],
    ['a repeated product', { items: [{ productId: 1, quantity: 1 }, { productId: 1, quantity: 2 }] }],
    ['quantity 0', { items: [{ productId: 1, quantity: 0 }] }],
    ['quantity 101', { items: [{ productId: 1, quantity: 101 }] }],
    ['a string id', { items: [{ productId: '1', quantity: 1 }] }],
    ['an unknown item field', { items: [{ productId: 1, quantity: 1, price: 0 }] }],
    ['an unknown top-level field', { items: [{ productId: 1, quantity: 1 }], coupon: 'FREE' }],
    ['items not an array', { items: { productId: 1, quantity: 1 } }],
  ])('400 VALIDATION_FAILED for %s', async (_case, partial) => {
    const userId = await t.given.user();
    const orders = await t.given.orderCount();
    const response = await placeOrder({ userId, ...partial });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.details[0].field).toMatch(/^body/);
    expect(await t.given.orderCount()).toBe(orders);
  });

  test('50 concurrent orders for a stock of 10: exactly 10 succeed, stock and money add up', async () => {
    const productId = await t.given.product(1_000, 10);
    const users = await Promise.all(Array.from({ length: 50 }, () => t.given.user(5_000)));

    const responses = await Promise.all(users.map((userId) => placeOrder({ userId, items: [{ productId, quantity: 1 }] })));

    const outcomes: Record<string, number> = {};
    for (const r of responses) {
      const key = r.status === 201 ? '201' : `${r.status} ${r.body?.error?.code}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    expect(outcomes).toEqual({ '201': 10, '409 OUT_OF_STOCK': 40 });
    expect(await t.given.stockOf(productId)).toBe(0);
    const balances = await Promise.all(users.map((userId) => t.given.balanceOf(userId)));
    expect(balances.reduce((sum, b) => sum + b, 0)).toBe(50 * 5_000 - 10 * 1_000);
  });
});
