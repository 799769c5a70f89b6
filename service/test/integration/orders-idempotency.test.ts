import { post } from '../support/http';
import { useTestApp } from '../support/test-app';

const t = useTestApp();

const ordersWithKey = async (key: string) =>
  Number((await t.app.sql<{ n: string }>('SELECT count(*) AS n FROM orders WHERE idempotency_key = $1', [key]))[0]!.n);

describe('POST /api/orders with Idempotency-Key', () => {
  test('the same key and body returns the original response and places no second order', async () => {
    const userId = await t.given.user(10_000);
    const productId = await t.given.product(1_000, 10);
    const body = { userId, items: [{ productId, quantity: 2 }] };

    const first = await post(`${t.app.api}/api/orders`, body, { 'Idempotency-Key': 'checkout-1' });
    const again = await post(`${t.app.api}/api/orders`, body, { 'Idempotency-Key': 'checkout-1' });

    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await ordersWithKey('checkout-1')).toBe(1);
    expect(await t.given.balanceOf(userId)).toBe(8_000);
    expect(await t.given.stockOf(productId)).toBe(8);
  });

  test('the same key with a different body is 422 IDEMPOTENCY_KEY_REUSED and changes nothing', async () => {
    const userId = await t.given.user(10_000);
    const productId = await t.given.product(1_000, 10);
    await post(`${t.app.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] }, { 'Idempotency-Key': 'checkout-2' });

    const reused = await post(`${t.app.api}/api/orders`, { userId, items: [{ productId, quantity: 3 }] }, { 'Idempotency-Key': 'checkout-2' });

    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await t.given.stockOf(productId)).toBe(9);
    expect(await ordersWithKey('checkout-2')).toBe(1);
  });

  test('concurrent submissions of one key create exactly one order; the rest replay it or are told it is in progress', async () => {
    const userId = await t.given.user(100_000);
    const productId = await t.given.product(1_000, 100);
    const body = { userId, items: [{ productId, quantity: 1 }] };

    const responses = await Promise.all(
      Array.from({ length: 20 }, () => post(`${t.app.api}/api/orders`, body, { 'Idempotency-Key': 'double-click' })),
    );

    const created = responses.filter((r) => r.status === 201);
    const inProgress = responses.filter((r) => r.status === 409);
    expect(created.length + inProgress.length).toBe(20);
    expect(new Set(created.map((r) => r.body.orderId)).size).toBe(1);
    expect(inProgress.every((r) => r.body.error.code === 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
    expect(await ordersWithKey('double-click')).toBe(1);
    expect(await t.given.stockOf(productId)).toBe(99);
    expect(await t.given.balanceOf(userId)).toBe(99_000);
  });

  test('a refused order does not burn the key: the retry after a top-up succeeds', async () => {
    const userId = await t.given.user(500);
    const productId = await t.given.product(1_000, 10);
    const body = { userId, items: [{ productId, quantity: 1 }] };

    const refused = await post(`${t.app.api}/api/orders`, body, { 'Idempotency-Key': 'retry-after-topup' });
    await post(`${t.app.api}/api/users/${userId}/balance/charge`, { amount: 1_000 });
    const retried = await post(`${t.app.api}/api/orders`, body, { 'Idempotency-Key': 'retry-after-topup' });

    expect(refused.status).toBe(409);
    expect(retried.status).toBe(201);
    expect(await ordersWithKey('retry-after-topup')).toBe(1);
  });

  test('400 for a key that is too long or not printable ASCII', async () => {
    const userId = await t.given.user();
    const productId = await t.given.product();
    const response = await post(`${t.app.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] }, {
      'Idempotency-Key': 'k'.repeat(129),
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details[0].field).toBe('headers.Idempotency-Key');
  });
});
