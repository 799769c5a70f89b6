import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { get, request } from '../support/http';
import { requestCount as duration, sample, scrape } from '../support/metrics';
import { startTestApp, useTestApp } from '../support/test-app';
import { LATENCY_THRESHOLD_SECONDS } from '../../../contract/slo';
import { CACHES } from '../../../contract/queries';
import { LABELS, METRICS } from '../../../contract/metrics';
import { HTTP_ROUTE_LABEL_VALUES } from '../../../contract/routes';
import { ORDER_REJECTION_REASONS } from '../../src/components/orders/place-order';
import { PARSER_REJECTION_STATUSES } from '../../src/lib/http/server-edge';

const t = useTestApp();

describe('request metrics', () => {
  test('are labelled by route template, never by raw path, with the 1 s incident threshold as a bucket', async () => {
    const ids = [await t.given.product(), await t.given.product(), await t.given.product()];
    for (const id of ids) await get(`${t.app.api}/api/products/${id}`);

    const text = await scrape(t.app.ops);

    expect(duration(text, '/api/products/:id', '200')).toBe(3);
    expect(text).not.toMatch(new RegExp(`http_route="/api/products/${ids[0]}"`));
    expect(
      sample(text, 'http_server_request_duration_seconds_bucket', {
        http_route: '/api/products/:id',
        http_response_status_code: '200',
        le: String(LATENCY_THRESHOLD_SECONDS),
      }),
    ).toBe(3);
  });

  test('an unknown path is one bounded "unmatched" series with a JSON 404; a wrong method is a JSON 405', async () => {
    const notFound = await get(`${t.app.api}/wp-admin/${Math.random()}`);
    const wrongMethod = await request('DELETE', `${t.app.api}/api/products`);
    const text = await scrape(t.app.ops);

    expect(notFound.status).toBe(404);
    expect(notFound.body.error.code).toBe('NOT_FOUND');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expect(duration(text, 'unmatched', '404')).toBe(1);
    expect(duration(text, 'unmatched', '405', 'DELETE')).toBe(1);
  });

  test('http_server_active_requests counts every request the API answers: cached, conditional, unknown, refused', async () => {
    const inc = jest.spyOn(t.app.metrics.httpActive, 'inc');
    const dec = jest.spyOn(t.app.metrics.httpActive, 'dec');
    try {
      const ranking = `${t.app.api}/api/orders/popular?days=2&limit=2`;
      const computed = await get(ranking);
      const answers = [
        computed,
        await get(ranking), // from memory
        await get(ranking, { 'If-None-Match': computed.headers.get('etag')! }), // 304
        await get(`${t.app.api}/nothing-here`),
        await request('PUT', `${t.app.api}/api/orders/popular`),
        await request('POST', `${t.app.api}/api/orders`, { body: 'x', headers: { 'content-type': 'text/plain' } }),
      ];

      expect(answers.map((r) => r.status)).toEqual([200, 200, 304, 404, 405, 415]);
      expect(inc).toHaveBeenCalledTimes(answers.length);
      expect(dec).toHaveBeenCalledTimes(answers.length);
      expect(sample(await scrape(t.app.ops), 'http_server_active_requests')).toBe(0);
    } finally {
      inc.mockRestore();
      dec.mockRestore();
    }
  });

  test('a server error is recorded as a 500 on its route and logged once with its stack and request id', async () => {
    const id = await t.given.product();
    await t.app.sql('ALTER TABLE products RENAME COLUMN stock TO stock_broken');
    try {
      const response = await get(`${t.app.api}/api/products/${id}`, { 'X-Request-Id': 'trace-500' });

      expect(response.status).toBe(500);
      expect(response.body).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error', details: [] } });
      expect(JSON.stringify(response.body)).not.toMatch(/stock|SELECT|sequelize/i);
      expect(duration(await scrape(t.app.ops), '/api/products/:id', '500')).toBe(1);
      const lines = t.app.logs.filter((line) => line.requestId === 'trace-500');
      // One line for the request: its route, status and duration, and the cause with its stack.
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: 'error', message: 'request failed with a server error', code: 'INTERNAL_ERROR',
        error: { code: '42703', stack: expect.stringContaining('at ') },
        method: 'GET', route: '/api/products/:id', status: 500, durationMs: expect.any(Number),
      });
    } finally {
      await t.app.sql('ALTER TABLE products RENAME COLUMN stock_broken TO stock');
    }
  });

  test('cover the dependencies: database queries by name, pool usage, Redis, and Node runtime', async () => {
    await get(`${t.app.api}/api/products?limit=1`);
    const text = await scrape(t.app.ops);

    expect(sample(text, 'db_query_duration_seconds_count', { query: 'products_list', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    for (const state of ['in_use', 'idle', 'waiting']) expect(sample(text, 'db_pool_connections', { state })).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'db_pool_max_connections')).toBe(10);
    expect(sample(text, 'redis_connected')).toBe(1);
    expect(sample(text, 'http_server_active_requests')).toBe(0);
    expect(sample(text, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  test('every counter of the contract is exported at 0 before its first event, for each label value known up front (rate() sees the first one)', async () => {
    const fresh = await startTestApp();
    try {
      const text = await scrape(fresh.ops);
      const ours = new Set<string>(Object.values(METRICS));
      const counters = (await fresh.metrics.registry.getMetricsAsJSON()).filter((m) => String(m.type) === 'counter' && ours.has(m.name));
      expect(counters.length).toBeGreaterThan(5);
      for (const counter of counters) {
        const exported = text.split('\n').filter((line) => line.startsWith(`${counter.name}{`) || line.startsWith(`${counter.name} `));
        expect({ counter: counter.name, exported: exported.length > 0, nonZero: exported.filter((line) => !line.endsWith(' 0')) }).toEqual({ counter: counter.name, exported: true, nonZero: [] });
      }
      const labelled = (name: string, label: string) => new Set(counters.find((c) => c.name === name)!.values.map((v) => String(v.labels[label])));
      for (const cache of Object.values(CACHES)) {
        for (const result of ['hit', 'miss', 'error']) expect({ cache, result, value: sample(text, METRICS.cacheRequests, { cache, result }) }).toEqual({ cache, result, value: 0 });
      }
      expect(labelled(METRICS.rateLimited, 'http_route')).toEqual(new Set(HTTP_ROUTE_LABEL_VALUES));
      expect(labelled(METRICS.ordersRejected, 'reason')).toEqual(new Set(ORDER_REJECTION_REASONS));
      expect(labelled(METRICS.parserRejected, LABELS.status)).toEqual(new Set(PARSER_REJECTION_STATUSES.map(String)));
    } finally {
      await fresh.close();
    }
  });
});

describe('request ids and logs', () => {
  test('an incoming X-Request-Id is echoed; a missing or unsafe one is replaced by a generated id', async () => {
    const given_ = await get(`${t.app.api}/api/products`, { 'X-Request-Id': 'abc-123' });
    const missing = await get(`${t.app.api}/api/products`);
    const unsafe = await get(`${t.app.api}/api/products`, { 'X-Request-Id': 'x'.repeat(300) });

    expect(given_.headers.get('x-request-id')).toBe('abc-123');
    expect(missing.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('a failed request is logged as a warning with method, route, status, duration and request id', async () => {
    await get(`${t.app.api}/api/users/55555555/balance`, { 'X-Request-Id': 'trace-404' });
    expect(t.app.logs.find((line) => line.requestId === 'trace-404')).toMatchObject({
      level: 'warn', message: 'request failed', method: 'GET', route: '/api/users/:id/balance', status: 404,
    });
  });

  test('a successful request at the default level writes no log line (metrics count it)', async () => {
    await get(`${t.app.api}/api/products`, { 'X-Request-Id': 'trace-quiet' });
    expect(t.app.logs.filter((line) => line.requestId === 'trace-quiet')).toEqual([]);
  });

  test('slow requests are logged, and LOG_LEVEL=debug logs every request', async () => {
    const verbose = await startTestApp({ LOG_LEVEL: 'debug', SLOW_REQUEST_MS: '100000' });
    const slow = await startTestApp({ SLOW_REQUEST_MS: '1' });
    try {
      await get(`${verbose.api}/api/products`, { 'X-Request-Id': 'trace-debug' });
      await get(`${slow.api}/api/orders/popular`, { 'X-Request-Id': 'trace-slow' });

      expect(verbose.logs.find((line) => line.requestId === 'trace-debug')).toMatchObject({
        level: 'debug', message: 'request', route: '/api/products', status: 200,
      });
      expect(slow.logs.find((line) => line.requestId === 'trace-slow')).toMatchObject({
        level: 'warn', message: 'slow request', route: '/api/orders/popular', status: 200, durationMs: expect.any(Number),
      });
    } finally {
      await Promise.all([verbose.close(), slow.close()]);
    }
  });
});

describe('API responses', () => {
  test('carry security headers and never expose the operators\' endpoints', async () => {
    const response = await get(`${t.app.api}/api/products`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('x-powered-by')).toBeNull();
    for (const path of ['/metrics', '/healthz', '/readyz']) expect((await get(`${t.app.api}${path}`)).status).toBe(404);
  });
});

describe('requests the HTTP parser rejects', () => {
  const raw = (port: string, text: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(text));
      let reply = '';
      socket.on('data', (chunk: Buffer) => (reply += chunk));
      socket.on('end', () => resolve(reply));
      socket.on('error', reject);
    });

  test('oversized request lines and malformed requests still get a JSON error body', async () => {
    const port = new URL(t.app.api).port;
    const huge = await raw(port, `GET /api/products?limit=${'9'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const malformed = await raw(port, 'GET /api/products/\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n');

    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(huge.split('\r\n\r\n')[1]!)).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message: expect.any(String), details: [] } });
    expect(malformed).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(malformed.split('\r\n\r\n')[1]!).error.code).toBe('VALIDATION_FAILED');
  });

  test('carry a request id, the security headers, a log line and a metric, like every other answer', async () => {
    const port = new URL(t.app.api).port;
    const before = await scrape(t.app.ops);
    const huge = await raw(port, `GET /api/products?limit=${'9'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const head = huge.split('\r\n\r\n')[0]!.toLowerCase();
    const requestId = /\r\nx-request-id: ([^\r]+)/.exec(head)?.[1];
    const api = await get(`${t.app.api}/api/products`);

    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    for (const name of ['x-content-type-options', 'x-frame-options', 'content-security-policy', 'cache-control', 'referrer-policy']) {
      expect({ name, value: new RegExp(`\r\n${name}: ([^\r]+)`).exec(head)?.[1] }).toEqual({ name, value: api.headers.get(name)!.toLowerCase() });
    }
    expect(t.app.logs.find((line) => line.requestId === requestId)).toMatchObject({ level: 'warn', status: 431 });
    const rejected = (text: string) => sample(text, 'http_server_parser_rejected_total', { http_response_status_code: '431' }) ?? 0;
    expect(rejected(await scrape(t.app.ops)) - rejected(before)).toBe(1);
  });
});

describe('GET /metrics', () => {
  test('passes promtool check metrics (the real exposition, after traffic)', async () => {
    await get(`${t.app.api}/api/products`);
    await get(`${t.app.api}/api/orders/popular`);
    const text = await scrape(t.app.ops);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });

    expect(check.error).toBeUndefined();
    expect({ status: check.status, problems: `${check.stdout}${check.stderr}`.trim() }).toEqual({ status: 0, problems: '' });
  });
});
