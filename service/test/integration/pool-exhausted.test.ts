import { eventually } from '../support/docker';
import { get, post, request } from '../support/http';
import { useTestApp } from '../support/test-app';

const TOKEN = 'overload-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const t = useTestApp({ ADMIN_TOKEN: TOKEN, FAULTS_ENABLED: 'true', DB_POOL_MAX: '2', DB_POOL_ACQUIRE_TIMEOUT_MS: '300' });
const admin = (method: string, path: string, json?: unknown) => request(method, `${t.app.ops}${path}`, { json, headers: auth });

async function timed<T>(work: () => Promise<T>): Promise<T & { ms: number }> {
  const started = performance.now();
  const result = await work();
  return { ...result, ms: performance.now() - started };
}


describe('pool exhausted (more concurrent slow queries than connections)', () => {
  afterEach(() => admin('DELETE', '/admin/drills'));

  test('the excess gets 503 DATABASE_POOL_EXHAUSTED within 1 s, the database still counts as up (db_up 1, ready), nothing is half-written, and it recovers', async () => {
    const userId = await t.given.user(1_000_000);
    const productId = await t.given.product(1_000, 1_000);
    // A ready replica to begin with (its first database check done).
    await eventually(() => get(`${t.app.ops}/readyz`), (r) => r.status === 200);
    await admin('PUT', '/admin/drills', { queryLatencyMs: { status: 2_000 } });

    const slow = Array.from({ length: 8 }, () => timed(() => get(`${t.app.api}/api/orders/status?userId=${userId}`)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [ready, live] = await Promise.all([get(`${t.app.ops}/readyz`), get(`${t.app.ops}/healthz`)]);
    const orders = await Promise.all(Array.from({ length: 6 }, () => timed(() => post(`${t.app.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] }))));
    const statuses = await Promise.all(slow);

    const refused = [...statuses, ...orders].filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(6);
    for (const r of refused) {
      expect(r.body.error.code).toBe('DATABASE_POOL_EXHAUSTED');
      expect(r.headers.get('retry-after')).toBe('1');
      expect(r.ms).toBeLessThan(1_000);
    }
    expect(statuses.filter((r) => r.status === 200)).toHaveLength(2);
    // The database answers (the check has a connection of its own): this replica sheds at once, it is not down.
    expect(ready.status).toBe(200);
    expect(live.status).toBe(200);

    // Nothing half-written: every 201 is one whole order, every refusal left no trace.
    const placed = orders.filter((r) => r.status === 201).length;
    expect(orders.every((r) => r.status === 201 || r.status === 503)).toBe(true);
    expect(await t.given.stockOf(productId)).toBe(1_000 - placed);
    expect(await t.given.balanceOf(userId)).toBe(1_000_000 - placed * 1_000);
    expect(Number((await t.app.sql<{ n: string }>('SELECT count(*) AS n FROM orders WHERE user_id = $1', [userId]))[0]!.n)).toBe(placed);

    await admin('DELETE', '/admin/drills');
    expect((await get(`${t.app.ops}/readyz`)).status).toBe(200);
    expect((await post(`${t.app.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] })).status).toBe(201);
  });
});
