import { get, post } from '../support/http';
import { useTestApp } from '../support/test-app';

const t = useTestApp();

const status = (query: string) => get(`${t.app.api}/api/orders/status?${query}`);

describe('GET /api/orders/status', () => {
  test('by orderId: the order with its status and times', async () => {
    const userId = await t.given.user(10_000);
    const productId = await t.given.product(2_500, 5);
    const placed = await post(`${t.app.api}/api/orders`, { userId, items: [{ productId, quantity: 2 }] });

    const response = await status(`orderId=${placed.body.orderId}`);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      orderId: placed.body.orderId,
      userId,
      status: 'PAID',
      totalAmount: 5_000,
      createdAt: placed.body.createdAt,
      paidAt: placed.body.paidAt,
      updatedAt: expect.stringMatching(/Z$/),
    });
  });

  test('shows a cancellation at once (status is never cached)', async () => {
    const userId = await t.given.user(10_000);
    const productId = await t.given.product(1_000, 5);
    const placed = await post(`${t.app.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] });
    await status(`orderId=${placed.body.orderId}`);
    await post(`${t.app.api}/api/orders/${placed.body.orderId}/cancel`);

    const response = await status(`orderId=${placed.body.orderId}`);

    expect(response.body.status).toBe('CANCELLED');
  });

  test('by userId: newest first, limited', async () => {
    const userId = await t.given.user(100_000);
    const productId = await t.given.product(1_000, 50);
    const placed = [];
    for (let i = 0; i < 4; i++) placed.push((await post(`${t.app.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] })).body.orderId);

    const response = await status(`userId=${userId}&limit=3`);

    expect(response.status).toBe(200);
    expect(response.body.userId).toBe(userId);
    expect(response.body.orders.map((o: { orderId: number }) => o.orderId)).toEqual([placed[3], placed[2], placed[1]]);
    expect(response.body.orders[0]).toEqual({
      orderId: placed[3], userId, status: 'PAID', totalAmount: 1_000,
      createdAt: expect.any(String), paidAt: expect.any(String), updatedAt: expect.any(String),
    });
  });

  test('by userId: an empty list for a user with no orders, 404 for an unknown user', async () => {
    const userId = await t.given.user();
    expect((await status(`userId=${userId}`)).body).toEqual({ userId, orders: [] });
    const unknown = await status('userId=77777777');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('USER_NOT_FOUND');
  });

  test('404 ORDER_NOT_FOUND for an unknown order', async () => {
    const response = await status('orderId=88888888');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('ORDER_NOT_FOUND');
  });

  test.each(['', 'orderId=1&userId=1', 'orderId=abc', 'userId=0', 'userId=1&limit=0', 'userId=1&limit=101', 'orderId=1&verbose=1', 'orderId=1&limit=5'])(
    '400 VALIDATION_FAILED for ?%s',
    async (query) => {
      const response = await status(query);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
    },
  );
});
