import { get, post, request } from '../support/http';
import { sample, scrape } from '../support/metrics';
import { startTestApp, useTestApp } from '../support/test-app';

const TOKEN = 'test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const ENV = { ADMIN_TOKEN: TOKEN, FAULTS_ENABLED: 'true', SLOW_REQUEST_MS: '200', CONTROLS_SYNC_INTERVAL_MS: '100' };
const t = useTestApp(ENV);

const admin = (method: string, path: string, json?: unknown, headers: Record<string, string> = auth) =>
  request(method, `${t.app.ops}${path}`, { json, headers });

describe('admin authentication', () => {
  test('without the token, or with a wrong one, admin calls get 401 and change nothing', async () => {
    const missing = await admin('PUT', '/admin/rate-limit', { requestsPerSecond: 1 }, {});
    const wrong = await admin('PUT', '/admin/rate-limit', { requestsPerSecond: 1 }, { authorization: `Bearer ${TOKEN}x` });
    const drill = await admin('PUT', '/admin/drills', { failingRoutes: ['*'] }, { authorization: 'Basic abc' });

    for (const response of [missing, wrong, drill]) {
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('UNAUTHORIZED');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await admin('GET', '/admin/rate-limit')).body).toEqual({ rateLimit: null });
    expect((await get(`${t.app.api}/api/products`)).status).toBe(200);
  });

  test('with no ADMIN_TOKEN configured there are no admin routes at all, and drills stay off without FAULTS_ENABLED', async () => {
    const plain = await startTestApp();
    const noFaults = await startTestApp({ ADMIN_TOKEN: TOKEN });
    try {
      expect((await request('PUT', `${plain.ops}/admin/rate-limit`, { json: { requestsPerSecond: 1 }, headers: auth })).status).toBe(404);
      const drills = await request('PUT', `${noFaults.ops}/admin/drills`, { json: { failingRoutes: ['*'] }, headers: auth });
      expect(drills.status).toBe(404);
      expect(drills.body.error.message).toContain('FAULTS_ENABLED=true');
      expect((await get(`${noFaults.api}/api/products`)).status).toBe(200);
    } finally {
      await Promise.all([plain.close(), noFaults.close()]);
    }
  });

  test('admin routes are not on the public API port', async () => {
    expect((await request('PUT', `${t.app.api}/admin/rate-limit`, { json: { requestsPerSecond: 1 }, headers: auth })).status).toBe(404);
  });
});

describe('traffic limiting', () => {
  afterEach(() => admin('DELETE', '/admin/rate-limit'));

  test('refuses the excess with 429 and Retry-After, counts it per route, and switches off in one call', async () => {
    const set = await admin('PUT', '/admin/rate-limit', { requestsPerSecond: 2, burst: 5 });
    expect(set.body).toEqual({ rateLimit: { requestsPerSecond: 2, burst: 5 }, appliesTo: 'all_instances' });

    const responses = await Promise.all(Array.from({ length: 30 }, () => get(`${t.app.api}/api/products`)));
    const limited = responses.filter((r) => r.status === 429);
    const admitted = responses.filter((r) => r.status === 200);

    expect(admitted.length).toBeGreaterThanOrEqual(5);
    expect(admitted.length).toBeLessThanOrEqual(7);
    expect(limited.length + admitted.length).toBe(30);
    expect(limited[0]!.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const text = await scrape(t.app.ops);
    expect(sample(text, 'http_server_rate_limited_total', { http_route: '/api/products' })).toBe(limited.length);
    expect(sample(text, 'rate_limit_requests_per_second')).toBe(2);
    expect(sample(text, 'http_server_request_duration_seconds_count', {
      http_request_method: 'GET', http_route: '/api/products', http_response_status_code: '429',
    })).toBe(limited.length);
    expect(t.app.logs.some((line) => line.message === 'traffic limiting on')).toBe(true);

    await admin('DELETE', '/admin/rate-limit');
    const after = await Promise.all(Array.from({ length: 30 }, () => get(`${t.app.api}/api/products`)));
    expect(after.every((r) => r.status === 200)).toBe(true);
    expect(sample(await scrape(t.app.ops), 'rate_limit_requests_per_second')).toBe(0);
  });

  test('also limits a ranking the process holds in memory, and a drill fails it too', async () => {
    const warm = [await get(`${t.app.api}/api/orders/popular?days=6`), await get(`${t.app.api}/api/orders/popular?days=6`)];
    expect(warm.map((r) => r.status)).toEqual([200, 200]);

    await admin('PUT', '/admin/rate-limit', { requestsPerSecond: 1, burst: 2 });
    try {
      const limited = await Promise.all(Array.from({ length: 10 }, () => get(`${t.app.api}/api/orders/popular?days=6`)));
      expect(limited.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(7);
    } finally {
      await admin('DELETE', '/admin/rate-limit');
    }

    await admin('PUT', '/admin/drills', { failingRoutes: ['GET /api/orders/popular'] });
    try {
      expect((await get(`${t.app.api}/api/orders/popular?days=6`)).status).toBe(500);
    } finally {
      await admin('DELETE', '/admin/drills');
    }
    expect((await get(`${t.app.api}/api/orders/popular?days=6`)).body).toEqual(warm[0]!.body);
  });

  test.each([{ requestsPerSecond: 0 }, { requestsPerSecond: -1 }, { requestsPerSecond: '5' }, { rps: 5 }])('rejects %j with 400', async (body) => {
    const response = await admin('PUT', '/admin/rate-limit', body);
    expect(response.status).toBe(400);
    expect((await admin('GET', '/admin/rate-limit')).body.rateLimit).toBeNull();
  });
});

describe('incident drills', () => {
  afterEach(() => admin('DELETE', '/admin/drills'));

  test('slow popular query with the cache bypassed: every request pays the delay, is marked as a drill, and clears in one call', async () => {
    const drill = await admin('PUT', '/admin/drills', { queryLatencyMs: { popular: 300 }, cacheBypass: ['popular_products'] });
    expect(drill.body.active).toEqual(['popular_latency', 'popular_cache_bypass']);

    const started = performance.now();
    const responses = await Promise.all([1, 2, 3].map(() => get(`${t.app.api}/api/orders/popular`, { 'X-Request-Id': 'drill-popular' })));
    const elapsed = performance.now() - started;

    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(300);
    const text = await scrape(t.app.ops);
    expect(sample(text, 'fault_drill_active', { drill: 'popular_latency' })).toBe(1);
    expect(sample(text, 'fault_drill_active', { drill: 'popular_cache_bypass' })).toBe(1);
    expect(sample(text, 'fault_drill_active', { drill: 'status_latency' })).toBe(0);
    expect(sample(text, 'db_query_duration_seconds_count', { query: 'popular_products', outcome: 'ok' })).toBeGreaterThanOrEqual(3);
    expect(t.app.logs.find((line) => line.requestId === 'drill-popular' && line.message === 'slow request')).toMatchObject({
      drill: ['popular_latency', 'popular_cache_bypass'],
    });

    const cleared = await admin('DELETE', '/admin/drills');
    expect(cleared.body.active).toEqual([]);
    expect(sample(await scrape(t.app.ops), 'fault_drill_active', { drill: 'popular_latency' })).toBe(0);
  });

  test('slow status queries hold a database connection for the delay', async () => {
    await admin('PUT', '/admin/drills', { queryLatencyMs: { status: 250 } });
    const started = performance.now();
    const response = await get(`${t.app.api}/api/orders/status?orderId=1`);
    expect(response.status).toBe(404);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  test('failing routes answer 500 and are recorded as 500 on their route; "*" fails every route', async () => {
    await admin('PUT', '/admin/drills', { failingRoutes: ['GET /api/orders/status'] });
    const failing = await get(`${t.app.api}/api/orders/status?orderId=1`);
    const other = await get(`${t.app.api}/api/products`);
    expect(failing.status).toBe(500);
    expect(failing.body.error.code).toBe('INTERNAL_ERROR');
    expect(other.status).toBe(200);
    expect(sample(await scrape(t.app.ops), 'http_server_request_duration_seconds_count', {
      http_request_method: 'GET', http_route: '/api/orders/status', http_response_status_code: '500',
    })).toBeGreaterThanOrEqual(1);

    await admin('PUT', '/admin/drills', { failingRoutes: ['*'] });
    expect((await get(`${t.app.api}/api/products`)).status).toBe(500);
    expect((await post(`${t.app.api}/api/orders`, { userId: 1, items: [{ productId: 1, quantity: 1 }] })).status).toBe(500);
  });

  test.each([{ queryLatencyMs: { popular: -1 } }, { failingRoutes: ['/api/products'] }, { failingRoutes: ['GET /nope'] }, { failingRoutes: ['POST /api/orders/popular'] }, { cacheBypass: ['sessions'] }, { unknown: true }])(
    'rejects %j with 400',
    async (body) => {
      const response = await admin('PUT', '/admin/drills', body);
      expect(response.status).toBe(400);
      expect((await admin('GET', '/admin/drills')).body.active).toEqual([]);
    },
  );
});

/** Polls `probe` every 50 ms until it returns true, for at most `ms`. */
async function eventually(probe: () => Promise<boolean>, ms = 3_000): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return probe();
}

describe('two instances sharing one Redis', () => {
  let second: Awaited<ReturnType<typeof startTestApp>>;
  const adminOf = (ops: string, method: string, path: string, json?: unknown) => request(method, `${ops}${path}`, { json, headers: auth });
  beforeAll(async () => {
    second = await startTestApp(ENV);
  });
  afterAll(() => second?.close());
  afterEach(async () => {
    await admin('DELETE', '/admin/rate-limit');
    await admin('DELETE', '/admin/drills');
  });

  test('a traffic limit set on one instance is one global limit: both together admit about L·t + burst, not 2·L·t', async () => {
    const L = 5;
    await admin('PUT', '/admin/rate-limit', { requestsPerSecond: L, burst: L });
    expect(await eventually(async () => (await adminOf(second.ops, 'GET', '/admin/rate-limit')).body.rateLimit?.requestsPerSecond === L)).toBe(true);
    expect(sample(await scrape(second.ops), 'rate_limit_requests_per_second')).toBe(L);

    // Each instance gets a request every ~10 ms, far above the limit, for about 4 s.
    const admitted = { first: 0, second: 0 };
    const started = performance.now();
    const drive = async (api: string, name: keyof typeof admitted) => {
      while (performance.now() - started < 4_000) {
        const response = await get(`${api}/api/products`);
        if (response.status === 200) admitted[name]++;
        else expect(response.status).toBe(429);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await Promise.all([drive(t.app.api, 'first'), drive(second.api, 'second')]);
    const seconds = (performance.now() - started) / 1000;
    const total = admitted.first + admitted.second;

    expect(admitted.first).toBeGreaterThan(0);
    expect(admitted.second).toBeGreaterThan(0);
    // Fixed one-second windows: at most L per window started in the span (one more window than whole seconds).
    expect(total).toBeLessThanOrEqual(L * Math.ceil(seconds + 1));
    expect(total).toBeGreaterThanOrEqual(L * Math.floor(seconds - 1));
    expect(total).toBeLessThan(2 * L * seconds);

    await adminOf(second.ops, 'DELETE', '/admin/rate-limit');
    expect(await eventually(async () => (await admin('GET', '/admin/rate-limit')).body.rateLimit === null)).toBe(true);
    expect(sample(await scrape(t.app.ops), 'rate_limit_requests_per_second')).toBe(0);
  });

  test('a drill set on one instance is in force on both, and clearing it on the other clears it everywhere', async () => {
    const set = await admin('PUT', '/admin/drills', { failingRoutes: ['GET /api/products'] });
    expect(set.body).toMatchObject({ active: ['route_errors'], appliesTo: 'all_instances' });
    expect(await eventually(async () => (await get(`${second.api}/api/products`)).status === 500)).toBe(true);
    expect((await adminOf(second.ops, 'GET', '/admin/drills')).body.active).toEqual(['route_errors']);
    expect(sample(await scrape(second.ops), 'fault_drill_active', { drill: 'route_errors' })).toBe(1);
    expect((await get(`${second.api}/api/users/1`)).status).not.toBe(500);

    await adminOf(second.ops, 'DELETE', '/admin/drills');
    expect(await eventually(async () => (await get(`${t.app.api}/api/products`)).status === 200)).toBe(true);
    expect(sample(await scrape(t.app.ops), 'fault_drill_active', { drill: 'route_errors' })).toBe(0);
  });

  test('purging the popular cache on one instance empties Redis and every instance\'s memory tier, and is on the timeline', async () => {
    const url = (api: string) => `${api}/api/orders/popular?days=7&limit=3`;
    const aggregates = async (ops: string) =>
      sample(await scrape(ops), 'db_query_duration_seconds_count', { query: 'popular_products', outcome: 'ok' }) ?? 0;
    expect((await get(url(t.app.api))).status).toBe(200);
    expect((await get(url(second.api))).status).toBe(200);
    const held = await aggregates(second.ops);
    await get(url(second.api));
    expect(await aggregates(second.ops)).toBe(held);

    expect((await request('DELETE', `${t.app.ops}/admin/cache/popular`, {})).status).toBe(401);
    const purged = await admin('DELETE', '/admin/cache/popular');
    expect(purged.status).toBe(200);
    expect(purged.body.appliesTo).toBe('all_instances');
    expect(purged.body.purgedKeys).toBeGreaterThanOrEqual(1);
    expect(await t.app.redis.keys('popular:*')).toEqual([]);
    // The other instance forgets its copy within a sync interval: its next read computes the ranking again.
    expect(
      await eventually(async () => {
        const before = await aggregates(second.ops);
        await get(url(second.api));
        return (await aggregates(second.ops)) > before;
      }),
    ).toBe(true);
    expect(
      await eventually(async () => (await t.app.sql(`SELECT 1 FROM incident_events WHERE action = 'cache_purged'`)).length === 1),
    ).toBe(true);
  });

  test('a limit set while Redis is unreachable applies to that instance only, says so, and reaches the others when Redis returns', async () => {
    await second.redis.close();
    const set = await adminOf(second.ops, 'PUT', '/admin/rate-limit', { requestsPerSecond: 3, burst: 3 });
    expect(set.status).toBe(200);
    expect(set.body.appliesTo).toBe('this_instance_until_redis_returns');
    // Fails open to its own 1/N share (N = 1 here): never a 500.
    const responses = await Promise.all(Array.from({ length: 10 }, () => get(`${second.api}/api/products`)));
    expect(responses.filter((r) => r.status === 200).length).toBe(3);
    expect(responses.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    expect((await admin('GET', '/admin/rate-limit')).body.rateLimit).toBeNull();

    await second.redis.connect();
    expect(await eventually(async () => (await admin('GET', '/admin/rate-limit')).body.rateLimit?.requestsPerSecond === 3)).toBe(true);
  });
});

describe('secrets stay out of the logs', () => {
  test('neither the admin token (right or wrong) nor the database URL appears in any log line', async () => {
    await admin('GET', '/admin/rate-limit');
    await admin('GET', '/admin/rate-limit', undefined, { authorization: 'Bearer not-the-token-but-long-enough' });
    await get(`${t.app.api}/api/products/999999`);
    const logs = JSON.stringify(t.app.logs);
    expect(t.app.logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain('not-the-token-but-long-enough');
    expect(logs).not.toContain(t.app.config.database.url);
  });
});
