import type { StartedRedisContainer } from '@testcontainers/redis';
import { dockerControl, eventually, freePort } from '../support/docker';
import { fixtures } from '../support/fixtures';
import { get, post } from '../support/http';
import { sample, scrape } from '../support/metrics';
import { startRedis } from '../support/containers';
import { startTestApp, type TestApp } from '../support/test-app';
import { LATENCY_THRESHOLD_SECONDS } from '../../../contract/slo';
import { REDIS_HUNG_AFTER_MS, REDIS_PING_INTERVAL_MS } from '../../src/infra/redis';
import { request } from '../support/http';
import { runLoadOffThread } from '../support/load';

const ADMIN_TOKEN = 'redis-faults-admin-token-0123456789';
const admin = (method: string, path: string, json?: unknown) => request(method, `${app.ops}${path}`, { json, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

// This file stops and pauses Redis, so it has a Redis of its own on a fixed host port that survives a restart.
let redis: StartedRedisContainer;
let control: Awaited<ReturnType<typeof dockerControl>>;
let app: TestApp;
let given: ReturnType<typeof fixtures>;

beforeAll(async () => {
  redis = await startRedis(await freePort());
  control = await dockerControl(redis);
  app = await startTestApp({ REDIS_URL: redis.getConnectionUrl(), POPULAR_CACHE_TTL_SECONDS: '60', ADMIN_TOKEN });
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

  test('with Redis hung (paused) under steady load with traffic limiting on: reported down within the watchdog bound, every request answered, and fast again once it is dropped', async () => {
    await app.redis.flushDb();
    await admin('PUT', '/admin/rate-limit', { requestsPerSecond: 10_000, burst: 10_000 });
    // The load keeps the Redis socket busy the whole time: a socket timeout alone never fires then (issue 19).
    const load = runLoadOffThread({ origin: app.api, path: '/api/orders/popular?days=4', connections: 16, seconds: 12, ratePerSecond: 100, timeoutSeconds: 10 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const pausedAt = performance.now();
    await control.pause();
    let detectedMs: number;
    let during: Awaited<typeof load>;
    try {
      await eventually(() => scrape(app.ops), (text) => sample(text, 'redis_connected') === 0, 10_000);
      detectedMs = performance.now() - pausedAt;
      const ready = await get(`${app.ops}/readyz`);
      expect(ready.body).toMatchObject({ checks: { redis: 'degraded', database: 'ok' } });
      during = await load;
    } finally {
      await control.unpause();
    }
    console.log(
      `redis hung under ${during.requestsPerSecond.toFixed(0)} req/s with traffic limiting on: redis_connected 0 after ${detectedMs.toFixed(0)} ms ` +
        `(bound ${REDIS_PING_INTERVAL_MS + REDIS_HUNG_AFTER_MS} ms + a scrape); answers ${JSON.stringify(during.statuses)}, p50 ${during.p50Ms.toFixed(1)} ms, p99 ${during.p99Ms.toFixed(1)} ms, max ${during.maxMs.toFixed(1)} ms`,
    );
    expect({ errors: during.errors, timeouts: during.timeouts, statuses: during.statuses }).toEqual({ errors: 0, timeouts: 0, statuses: { 200: during.sent } });
    // Contract bound with margin for the 100 ms poll and a loaded runner.
    expect(detectedMs).toBeLessThan(REDIS_PING_INTERVAL_MS + REDIS_HUNG_AFTER_MS + 1_500);
    // Dropped: commands no longer wait on the hung server, so the traffic limiter and the cache answer at once.
    const afterDrop = [];
    await control.pause();
    try {
      await eventually(() => scrape(app.ops), (text) => sample(text, 'redis_connected') === 0, 10_000);
      for (let i = 0; i < 10; i++) afterDrop.push(await timedGet(`/api/orders/popular?days=6&limit=${i + 1}`));
    } finally {
      await control.unpause();
      await admin('DELETE', '/admin/rate-limit');
    }
    expect(afterDrop.map((r) => r.status)).toEqual(Array(10).fill(200));
    console.log(`redis dropped: popular p50 ${(afterDrop.map((r) => r.seconds).sort()[5]! * 1000).toFixed(1)} ms over 10 uncached requests`);
    await eventually(() => get(`${app.api}/api/orders/popular?days=5`).then(() => scrape(app.ops)), (text) => sample(text, 'redis_connected') === 1);
  });
});
