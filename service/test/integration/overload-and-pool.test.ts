import { get, post, request } from '../support/http';
import { sample, scrape } from '../support/metrics';
import { measureCapacity, openLoad, percentile } from '../support/load';
import { useTestApp } from '../support/test-app';
import { LATENCY_THRESHOLD_SECONDS } from '../../../contract/slo';

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

  test('the excess gets 503 DATABASE_POOL_EXHAUSTED within 1 s, readiness fails, liveness holds, nothing is half-written, and it recovers', async () => {
    const userId = await t.given.user(1_000_000);
    const productId = await t.given.product(1_000, 1_000);
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
    expect(ready.status).toBe(503);
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

describe('overload', () => {
  afterEach(() => admin('DELETE', '/admin/rate-limit'));

  test('at twice the measured capacity, traffic limiting sheds the excess fast with 429 and admitted requests keep p99 under the threshold', async () => {
    const url = `${t.app.api}/api/products?limit=5`;
    // Capacity: what the service answers when offered more than it can take, measured on this machine now.
    const capacity = await measureCapacity(url);

    // Limit to half of capacity, then offer twice capacity for 4 s.
    const limit = Math.max(1, Math.floor(capacity / 2));
    await admin('PUT', '/admin/rate-limit', { requestsPerSecond: limit, burst: Math.max(1, Math.floor(limit / 10)) });
    const { offered, results } = await openLoad(url, Math.ceil(capacity * 2), 4_000);

    const admitted = results.filter((r) => r.status === 200).map((r) => r.ms);
    const shed = results.filter((r) => r.status === 429);
    console.log(
      `overload: capacity ${capacity.toFixed(0)} req/s; limit ${limit} req/s; offered ${offered} requests in 4 s (2x capacity); ` +
        `admitted ${admitted.length} (p99 ${percentile(admitted, 0.99).toFixed(1)} ms); ` +
        `shed ${shed.length} with 429 (p99 ${percentile(shed.map((r) => r.ms), 0.99).toFixed(1)} ms)`,
    );
    expect(results.filter((r) => r.status !== 200 && r.status !== 429)).toEqual([]);
    expect(shed.length).toBeGreaterThan(offered / 4);
    expect(shed.every((r) => Number(r.retryAfter) >= 1)).toBe(true);
    expect(percentile(admitted, 0.99)).toBeLessThan(LATENCY_THRESHOLD_SECONDS * 1000);
    expect(sample(await scrape(t.app.ops), 'http_server_rate_limited_total', { http_route: '/api/products' })).toBe(shed.length);
  });
});
