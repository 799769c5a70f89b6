import type { StartedRedisContainer } from '@testcontainers/redis';
import { dockerControl, eventually, freePort } from '../support/docker';
import { fixtures } from '../support/fixtures';
import { get, post } from '../support/http';
import { sample, scrape } from '../support/metrics';
import { startRedis } from '../support/containers';
import { startTestApp, type TestApp } from '../support/test-app';
import { LATENCY_THRESHOLD_SECONDS } from '../../../contract/slo';

// This file stops and pauses Redis, so it has a Redis of its own on a fixed host port that survives a restart.
let redis: StartedRedisContainer;
let control: Awaited<ReturnType<typeof dockerControl>>;
let app: TestApp;
let given: ReturnType<typeof fixtures>;

beforeAll(async () => {
  redis = await startRedis(await freePort());
  control = await dockerControl(redis);
  app = await startTestApp({ REDIS_URL: redis.getConnectionUrl(), POPULAR_CACHE_TTL_SECONDS: '60' });
  given = fixtures(app);
  const userId = await given.user(1_000_000);
  await post(`${app.api}/api/orders`, { userId, items: [{ productId: await given.product(), quantity: 3 }] });
});
afterAll(async () => {
  await app.close();
  await redis.stop();
});

const cacheCount = (text: string, result: string) => sample(text, 'cache_requests_total', { cache: 'popular_products', result }) ?? 0;

async function timedGet(path: string) {
  const started = performance.now();
  const response = await get(`${app.api}${path}`);
  return { ...response, seconds: (performance.now() - started) / 1000 };
}

describe('Redis is a cache, not a dependency', () => {
  test('with Redis stopped, every request still succeeds: from memory what the process holds, the rest from PostgreSQL', async () => {
    const warm = await timedGet('/api/orders/popular?days=1');
    await control.stop();
    await eventually(() => scrape(app.ops), (text) => sample(text, 'redis_connected') === 0);
    const before = await scrape(app.ops);

    const results = [];
    // Rankings this process never computed: each one asks Redis, fails, and is read from PostgreSQL.
    for (let limit = 1; limit <= 20; limit++) results.push(await timedGet(`/api/orders/popular?days=2&limit=${limit}`));
    const remembered = await timedGet('/api/orders/popular?days=1');
    results.push(await timedGet('/api/products?limit=5'));
    results.push(await timedGet(`/api/orders/status?orderId=1`));

    const after = await scrape(app.ops);
    expect([...results, remembered].map((r) => r.status)).toEqual(Array(23).fill(200));
    expect(results[19]!.body.products).toEqual(warm.body.products);
    expect(remembered.body).toEqual(warm.body);
    expect(Math.max(...results.map((r) => r.seconds))).toBeLessThan(LATENCY_THRESHOLD_SECONDS);
    expect(cacheCount(after, 'error') - cacheCount(before, 'error')).toBe(20);
    expect(cacheCount(after, 'hit') - cacheCount(before, 'hit')).toBe(1);
    const ready = await get(`${app.ops}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'degraded', checks: { redis: 'degraded', database: 'ok' } });
  });

  test('when Redis returns, the cache is used again without a restart', async () => {
    await control.start();
    await eventually(() => scrape(app.ops), (text) => sample(text, 'redis_connected') === 1);

    const before = await scrape(app.ops);
    const first = await get(`${app.api}/api/orders/popular?days=3&limit=7`);
    const second = await get(`${app.api}/api/orders/popular?days=3&limit=7`);
    const after = await scrape(app.ops);

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(cacheCount(after, 'miss') - cacheCount(before, 'miss')).toBe(1);
    expect(cacheCount(after, 'hit') - cacheCount(before, 'hit')).toBe(1);
    expect(cacheCount(after, 'error') - cacheCount(before, 'error')).toBe(0);
    expect(await app.redis.ttl('popular:v1:Asia/Seoul:3:7')).toBeGreaterThan(0);
    expect((await get(`${app.ops}/readyz`)).body.status).toBe('ready');
  });

  test('with Redis hung (paused), requests still succeed once the short command timeout fires', async () => {
    await app.redis.flushDb();
    await control.pause();
    try {
      const before = await scrape(app.ops);
      const results = [];
      for (let limit = 1; limit <= 5; limit++) results.push(await timedGet(`/api/orders/popular?days=4&limit=${limit}`));
      const after = await scrape(app.ops);

      expect(results.map((r) => r.status)).toEqual(Array(5).fill(200));
      expect(Math.max(...results.map((r) => r.seconds))).toBeLessThan(LATENCY_THRESHOLD_SECONDS);
      expect(cacheCount(after, 'error') - cacheCount(before, 'error')).toBeGreaterThanOrEqual(1);
      // The unanswered keep-alive PING makes the client drop the hung connection, so later requests skip Redis.
      await eventually(() => scrape(app.ops), (text) => sample(text, 'redis_connected') === 0, 10_000);
    } finally {
      await control.unpause();
    }
    await eventually(() => get(`${app.api}/api/orders/popular?days=5`).then(() => scrape(app.ops)), (text) => sample(text, 'redis_connected') === 1);
  });
});
