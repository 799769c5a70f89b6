import { pastSale } from '../support/fixtures';
import { get, post } from '../support/http';
import { sample, scrape } from '../support/metrics';
import { startTestApp, useTestApp } from '../support/test-app';

const TTL_SECONDS = 2;
const t = useTestApp({ POPULAR_CACHE_TTL_SECONDS: String(TTL_SECONDS), BUSINESS_TIMEZONE: 'Asia/Seoul' });
beforeEach(async () => {
  await t.app.sql('TRUNCATE product_daily_sales, order_items, orders CASCADE');
  await t.app.redis.flushDb();
});

const popular = (query = '') => get(`${t.app.api}/api/orders/popular${query}`);
const order = async (userId: number, items: [number, number][]) => {
  const response = await post(`${t.app.api}/api/orders`, { userId, items: items.map(([productId, quantity]) => ({ productId, quantity })) });
  expect(response.status).toBe(201);
  return response.body.orderId as number;
};

/** Local midnight in Seoul (UTC+9, no daylight saving) `daysAgo` calendar days back, as a UTC instant. */
function seoulMidnight(daysAgo: number): Date {
  const [y, m, d] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Seoul' }).format(new Date()).split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! - daysAgo) - 9 * 3_600_000);
}

describe('GET /api/orders/popular', () => {
  test('ranks products by units sold in PAID orders, ties by productId, with price, name and revenue', async () => {
    const userId = await t.given.user(10_000_000);
    const [a, b, c, d] = [await t.given.product(1_000), await t.given.product(2_000), await t.given.product(3_000), await t.given.product(4_000)];
    await order(userId, [[a, 5], [b, 3]]);
    await order(userId, [[b, 4], [c, 5]]);
    const cancelled = await order(userId, [[d, 50]]);
    await post(`${t.app.api}/api/orders/${cancelled}/cancel`);

    const response = await popular('?days=1&limit=5');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body.products).toEqual([
      { rank: 1, productId: b, name: expect.any(String), price: 2_000, quantity: 7, revenue: 14_000 },
      { rank: 2, productId: a, name: expect.any(String), price: 1_000, quantity: 5, revenue: 5_000 },
      { rank: 3, productId: c, name: expect.any(String), price: 3_000, quantity: 5, revenue: 15_000 },
    ]);
    expect((await popular('?days=1&limit=2')).body.products).toHaveLength(2);
  });

  test('counts the last `days` calendar days of the business time zone, from local midnight up to now', async () => {
    const userId = await t.given.user();
    const [inside, outside, old] = [await t.given.product(), await t.given.product(), await t.given.product()];
    const windowStart = seoulMidnight(2);
    await pastSale(t.app, { userId, productId: inside, quantity: 3, paidAt: new Date(windowStart.getTime() + 60_000) });
    await pastSale(t.app, { userId, productId: outside, quantity: 9, paidAt: new Date(windowStart.getTime() - 60_000) });
    await pastSale(t.app, { userId, productId: old, quantity: 20, paidAt: seoulMidnight(6) });

    const threeDays = await popular('?days=3&limit=10');
    const sevenDays = await popular('?days=7&limit=10');

    expect(threeDays.body.days).toBe(3);
    expect(threeDays.body.from).toBe(windowStart.toISOString());
    expect(Math.abs(new Date(threeDays.body.to).getTime() - Date.now())).toBeLessThan(10_000);
    expect(threeDays.body.products.map((p: { productId: number }) => p.productId)).toEqual([inside]);
    expect(sevenDays.body.products.map((p: { productId: number }) => p.productId)).toEqual([old, outside, inside]);
  });

  test('defaults to days=3, limit=5 and returns an empty ranking when nothing sold', async () => {
    const response = await popular();
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ days: 3, from: seoulMidnight(2).toISOString(), to: expect.any(String), products: [] });
  });

  test.each(['?days=0', '?days=31', '?limit=0', '?limit=51', '?days=x', '?days=3&from=2020-01-01'])('400 for %s', async (query) => {
    const response = await popular(query);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('is cached after the first request, and a cancelled order leaves the ranking within one TTL', async () => {
    const userId = await t.given.user(1_000_000);
    const [top, next] = [await t.given.product(), await t.given.product()];
    const topOrder = await order(userId, [[top, 10]]);
    await order(userId, [[next, 5]]);
    const before = await scrape(t.app.ops);

    const first = await popular('?days=2&limit=4');
    const second = await popular('?days=2&limit=4');
    await post(`${t.app.api}/api/orders/${topOrder}/cancel`);
    const withinTtl = await popular('?days=2&limit=4');
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 200));
    const afterTtl = await popular('?days=2&limit=4');

    const after = await scrape(t.app.ops);
    const delta = (result: string) =>
      sample(after, 'cache_requests_total', { cache: 'popular_products', result })! -
      (sample(before, 'cache_requests_total', { cache: 'popular_products', result }) ?? 0);
    expect(first.body.products[0].productId).toBe(top);
    expect(second.body).toEqual(first.body);
    expect(withinTtl.body).toEqual(first.body);
    expect(afterTtl.body.products.map((p: { productId: number }) => p.productId)).toEqual([next]);
    expect(delta('miss')).toBe(2);
    expect(delta('hit')).toBe(2);
    expect(await t.app.redis.ttl('popular:v1:Asia/Seoul:2:4')).toBeGreaterThan(0);
  });

  test('another instance serves the ranking from Redis, and keeps it in memory only until the Redis copy expires', async () => {
    const userId = await t.given.user(1_000_000);
    await order(userId, [[await t.given.product(), 4]]);
    const other = await startTestApp({
      DATABASE_URL: t.app.config.database.url,
      REDIS_URL: t.app.config.redis.url,
      POPULAR_CACHE_TTL_SECONDS: String(TTL_SECONDS),
      BUSINESS_TIMEZONE: 'Asia/Seoul',
    });
    try {
      const count = async (result: string) =>
        sample(await scrape(other.ops), 'cache_requests_total', { cache: 'popular_products', result }) ?? 0;
      const aggregates = async () =>
        sample(await scrape(other.ops), 'db_query_duration_seconds_count', { query: 'popular_products', outcome: 'ok' }) ?? 0;

      const computed = await popular('?days=4&limit=3');
      await new Promise((resolve) => setTimeout(resolve, (TTL_SECONDS * 1000) / 2));
      const fromRedis = await get(`${other.api}/api/orders/popular?days=4&limit=3`);
      const fromMemory = await get(`${other.api}/api/orders/popular?days=4&limit=3`);
      const [hits, misses, loads] = [await count('hit'), await count('miss'), await aggregates()];
      // Half a TTL later the Redis copy has expired; a copy kept for a full TTL from its own read would not have.
      await new Promise((resolve) => setTimeout(resolve, (TTL_SECONDS * 1000) / 2 + 200));
      await get(`${other.api}/api/orders/popular?days=4&limit=3`);

      expect(fromRedis.body).toEqual(computed.body);
      expect(fromMemory.body).toEqual(computed.body);
      // The ETag is of the bytes, so every instance gives the same one and a CDN in front of several agrees.
      expect(fromRedis.headers.get('etag')).toBe(computed.headers.get('etag'));
      expect([hits, misses, loads]).toEqual([2, 0, 0]);
      expect([await count('miss'), await aggregates()]).toEqual([1, 1]);
    } finally {
      await other.close();
    }
  });

  test('200 concurrent requests as the cached ranking expires run the ranking query once, three times over', async () => {
    const userId = await t.given.user(1_000_000);
    await order(userId, [[await t.given.product(), 2]]);
    const queries = async () =>
      sample(await scrape(t.app.ops), 'db_query_duration_seconds_count', { query: 'popular_products', outcome: 'ok' }) ?? 0;
    const key = 'popular:v1:Asia/Seoul:6:2';

    const aggregates = [];
    for (let trial = 0; trial < 3; trial++) {
      await popular('?days=6&limit=2');
      let pttl = await t.app.redis.pTTL(key);
      while (pttl <= 0) pttl = await new Promise((resolve) => setTimeout(resolve, 10)).then(() => t.app.redis.pTTL(key));
      const before = await queries();
      // Just after both tiers expire: some requests find nothing in memory and still wait on Redis when the load ends.
      await new Promise((resolve) => setTimeout(resolve, pttl + 5));
      const responses = await Promise.all(Array.from({ length: 200 }, () => popular('?days=6&limit=2')));
      expect(responses.every((r) => r.status === 200)).toBe(true);
      aggregates.push((await queries()) - before);
    }

    expect(aggregates).toEqual([1, 1, 1]);
  });

  test('a ranking answered from memory carries the same headers and bytes as the computed one, and is measured alike', async () => {
    const measured = async () =>
      sample(await scrape(t.app.ops), 'http_server_request_duration_seconds_count', {
        http_request_method: 'GET', http_route: '/api/orders/popular', http_response_status_code: '200',
      }) ?? 0;
    const before = await measured();

    const computed = await fetch(`${t.app.api}/api/orders/popular?days=5&limit=2`);
    const remembered = await fetch(`${t.app.api}/api/orders/popular?days=5&limit=2`, { headers: { 'X-Request-Id': 'from-memory' } });

    // Cache-Control counts down (its own test below); everything else is identical.
    const headersOf = (response: Response) =>
      Object.fromEntries([...response.headers].filter(([name]) => !['date', 'x-request-id', 'cache-control'].includes(name)));
    expect(headersOf(remembered)).toEqual(headersOf(computed));
    expect(remembered.headers.get('x-request-id')).toBe('from-memory');
    expect(Buffer.from(await remembered.arrayBuffer())).toEqual(Buffer.from(await computed.arrayBuffer()));
    expect((await measured()) - before).toBe(2);
  });

  test('is cacheable the web\'s way: a strong ETag, and If-None-Match (a tag, a list, a weak tag or *) answers 304 without a body', async () => {
    const first = await fetch(`${t.app.api}/api/orders/popular?days=3&limit=7`);
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);

    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, `"a",${etag} , "b"`, '*']) {
      const response = await fetch(`${t.app.api}/api/orders/popular?days=3&limit=7`, { headers: { 'If-None-Match': ifNoneMatch } });
      expect({ ifNoneMatch, status: response.status, body: await response.text() }).toEqual({ ifNoneMatch, status: 304, body: '' });
      expect(response.headers.get('etag')).toBe(etag);
      expect(response.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    for (const ifNoneMatch of ['"other"', etag.slice(0, -2) + '"', 'W/"x"']) {
      const response = await fetch(`${t.app.api}/api/orders/popular?days=3&limit=7`, { headers: { 'If-None-Match': ifNoneMatch } });
      expect({ ifNoneMatch, status: response.status }).toEqual({ ifNoneMatch, status: 200 });
      expect(((await response.json()) as { days: number }).days).toBe(3);
    }
    // Only the ranking is cacheable; every other answer keeps no-store.
    const other = await get(`${t.app.api}/api/products`);
    expect(other.headers.get('cache-control')).toBe('no-store');
    expect(other.headers.get('etag')).toBeNull();
    const invalid = await popular('?days=99');
    expect(invalid.headers.get('cache-control')).toBe('no-store');
  });

  test('the ETag is stable while the ranking is unchanged and changes with it', async () => {
    const userId = await t.given.user(1_000_000);
    await order(userId, [[await t.given.product(), 3]]);
    const tagOf = async () => (await popular('?days=1&limit=9')).headers.get('etag');

    const [a, b] = [await tagOf(), await tagOf()];
    await order(userId, [[await t.given.product(), 9]]);
    await t.app.redis.flushDb();
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 100));
    const c = await tagOf();

    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  test('max-age is the whole seconds left in the cache, counting down to the expiry', async () => {
    const maxAge = async () => Number(/max-age=(\d+)/.exec((await popular('?days=8&limit=1')).headers.get('cache-control')!)![1]);
    const first = await maxAge();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const later = await maxAge();

    expect(first).toBeLessThanOrEqual(TTL_SECONDS);
    expect(first).toBeGreaterThanOrEqual(TTL_SECONDS - 1);
    expect(later).toBe(first - 1);
  });

  test('200 concurrent requests on an empty cache run the ranking query once (single flight)', async () => {
    const userId = await t.given.user(1_000_000);
    await order(userId, [[await t.given.product(), 2]]);
    const queries = async () =>
      sample(await scrape(t.app.ops), 'db_query_duration_seconds_count', { query: 'popular_products', outcome: 'ok' }) ?? 0;
    const before = await queries();

    const responses = await Promise.all(Array.from({ length: 200 }, () => popular('?days=2&limit=3')));

    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect((await queries()) - before).toBe(1);
  });
});
