import { request } from '../support/http';
import { sample, scrape } from '../support/metrics';
import { runLoadOffThread } from '../support/load';
import { useTestApp } from '../support/test-app';

// The default pool: this test is about traffic limiting, not about a pool too small for the admitted load.
const TOKEN = 'overload-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const t = useTestApp({ ADMIN_TOKEN: TOKEN });
const admin = (method: string, path: string, json?: unknown) => request(method, `${t.app.ops}${path}`, { json, headers: auth });

describe('overload', () => {
  afterEach(() => admin('DELETE', '/admin/rate-limit'));

  // What is asserted is behaviour (who is refused, how, and counted where); the latencies are printed, not judged:
  // a wall-clock bound on a shared 2-core runner is a flaky test, and `npm run bench` is where latency is compared.
  test('at twice the measured capacity, traffic limiting sheds the excess with 429 RATE_LIMITED and nothing else fails', async () => {
    const path = '/api/products?limit=5';
    const origin = t.app.api;
    // Capacity: what the service answers with 32 clients always waiting, measured on this machine now.
    const capacity = await runLoadOffThread({ origin, path, connections: 32, seconds: 3, timeoutSeconds: 10 });
    expect(capacity.requests).toBeGreaterThan(0);

    const limit = Math.max(1, Math.floor(capacity.requestsPerSecond / 2));
    await admin('PUT', '/admin/rate-limit', { requestsPerSecond: limit, burst: Math.max(1, Math.floor(limit / 10)) });
    const rate = Math.ceil(capacity.requestsPerSecond * 2);
    const run = await runLoadOffThread({ origin, path, connections: 64, seconds: 4, ratePerSecond: rate, timeoutSeconds: 10 });

    const shed = run.statuses['429 RATE_LIMITED'] ?? 0;
    console.log(
      `overload: capacity ${capacity.requestsPerSecond.toFixed(0)} req/s; limit ${limit} req/s; offered ${run.sent} at ${rate} req/s; ` +
        `answers ${JSON.stringify(run.statuses)}; p50 ${run.p50Ms.toFixed(1)} ms, p99 ${run.p99Ms.toFixed(1)} ms (all answers)`,
    );
    expect(run.errors + run.timeouts).toBe(0);
    expect(Object.keys(run.statuses).filter((status) => status !== '200' && status !== '429 RATE_LIMITED')).toEqual([]);
    // Offered twice capacity against a limit of half: most is shed (a fixed one-second window admits at most ~2x the
    // limit across a boundary, so at least a quarter is shed whatever the timing).
    expect(shed).toBeGreaterThan(run.sent / 4);
    expect(run.statuses['200'] ?? 0).toBeGreaterThan(0);
    expect(sample(await scrape(t.app.ops), 'http_server_rate_limited_total', { http_route: '/api/products' })).toBe(shed);
  });
});
