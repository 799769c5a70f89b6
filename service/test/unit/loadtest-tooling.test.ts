/**
 * The load-test tooling (loadtest/): the one percentile function on known inputs, the verdict against the contract's
 * THRESHOLDS, the bench's refusal to wipe data, the push of a run to a real Pushgateway (Debian's
 * prometheus-pushgateway) read back through its API, and the real CLI (`npm run loadtest`) against small local HTTP
 * servers: a fast one (exit 0, report written, results pushed), one answering in 1.2 s (exit 1, drill applied and
 * cleared), none (exit 2).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LOADTEST_JOB, LOADTEST_METRICS, THRESHOLDS } from '../../../contract';
import { binary, startDaemon } from '../../../alerting/test/support/tools';
import { freePort } from '../support/docker';
import { seedPlan, SEED } from '../../../loadtest/bench/settings';
import { latencyHistogram, median, percentile, type LoadRun } from '../../../loadtest/lib/load';
import { judgeEndpoint, parseOptions, type RunReport } from '../../../loadtest/src/loadtest';
import { createRunMetrics, pushRun } from '../../../loadtest/src/push';
import { ENDPOINTS, seededRandom, splitRate } from '../../../loadtest/src/scenarios';
import { SetupError } from '../../../loadtest/src/service-api';

const ROOT = path.resolve(__dirname, '../../..');
const LIMIT_MS = THRESHOLDS.latencySeconds * 1000;

const histogramOf = (ms: number[]) => {
  const h = latencyHistogram();
  for (const v of ms) h.recordValue(Math.round(v * 1000));
  return h;
};

describe('percentile (the one percentile function; HdrHistogram, 3 significant digits)', () => {
  test('p50, p95, p99 and p100 of 1..100 ms are the nearest-rank values', () => {
    const h = histogramOf(Array.from({ length: 100 }, (_, i) => i + 1));
    for (const p of [50, 95, 99, 100]) expect(Math.abs(percentile(h, p)! - p) / p).toBeLessThanOrEqual(0.001);
  });

  test('sub-millisecond answers keep their microseconds', () => {
    expect(percentile(histogramOf([0.19, 0.2, 0.21]), 50)).toBe(0.2);
  });

  test('an answer exactly at the threshold is not reported over it', () => {
    expect(percentile(histogramOf([LIMIT_MS]), 95)!).toBeLessThanOrEqual(LIMIT_MS);
  });

  test('empty input is null for every percentile; a percentile outside (0, 100] is an error', () => {
    const empty = latencyHistogram();
    for (const p of [1, 50, 95, 100]) expect(percentile(empty, p)).toBeNull();
    for (const p of [0, -1, 101, Number.NaN]) expect(() => percentile(empty, p)).toThrow(RangeError);
  });

  test('median of per-run figures: odd, even, NaN ignored, empty is NaN', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });
});

describe('the verdict against contract THRESHOLDS', () => {
  const def = { id: 'popular', name: 'GET /api/orders/popular', route: '/api/orders/popular' };
  const quantileRank = Math.round(THRESHOLDS.latencyQuantile * 100); // answers out of 100 that must be within the line
  /** 100 answers: `slow` of them at `slowMs`, the rest at 10 ms; statuses as given (200 for the rest). */
  const run = (slow: number, slowMs: number, statuses: Record<string, number> = {}, noAnswer = 0): Parameters<typeof judgeEndpoint>[2] => {
    const others = Object.values(statuses).reduce((a, b) => a + b, 0);
    return {
      histogram: histogramOf([...Array<number>(100 - slow).fill(10), ...Array<number>(slow).fill(slowMs)]),
      statuses: { '200': 100 - others, ...statuses },
      errors: noAnswer,
      timeouts: 0,
      sent: 100 + noAnswer,
      seconds: 10,
    };
  };
  const judge = (r: ReturnType<typeof run>, d: Parameters<typeof judgeEndpoint>[0] = def) => judgeEndpoint(d, 10, r, 10, THRESHOLDS);

  test(`passes while the p${quantileRank} is within the line, fails when it is over`, () => {
    expect(judge(run(100 - quantileRank, 5 * LIMIT_MS)).pass).toBe(true);
    const over = judge(run(100 - quantileRank + 1, 5 * LIMIT_MS));
    expect(over.pass).toBe(false);
    expect(Math.abs(over.judgedMs! - 5 * LIMIT_MS) / (5 * LIMIT_MS)).toBeLessThanOrEqual(0.001);
    expect(over.reasons).toEqual([`p${quantileRank} ${Math.round(over.judgedMs!)} ms > ${LIMIT_MS} ms (${THRESHOLDS.latencySeconds} s)`]);
    expect(judge(run(100, LIMIT_MS)).pass).toBe(true);
    expect(judge(run(100, LIMIT_MS * 1.002)).pass).toBe(false);
  });

  test('5xx and unanswered requests over routeErrorRatio fail; at the ratio they pass', () => {
    const allowed = Math.round(THRESHOLDS.routeErrorRatio * 100);
    expect(judge(run(0, 0, { '503': allowed })).pass).toBe(true);
    const over = judge(run(0, 0, { '503': allowed + 1 }));
    expect(over.pass).toBe(false);
    expect(over.reasons[0]).toMatch(/^5xx and no answer/);
    // No answer counts like a 5xx: (allowed 5xx + 2 without answer) of 102 attempts is over the ratio.
    expect(judge(run(0, 0, { '503': allowed }, 2)).pass).toBe(false);
  });

  test('409 OUT_OF_STOCK on orders is counted apart and is not a failure; other 4xx are counted as 4xx', () => {
    const result = judge(run(0, 0, { '409 OUT_OF_STOCK': 20, '400 VALIDATION_ERROR': 3 }), ENDPOINTS.placeOrder);
    expect(result).toMatchObject({ pass: true, status4xx: 23, expected4xx: 20, status5xx: 0, failureRatio: 0 });
  });

  test('an endpoint with no answer at all fails', () => {
    const result = judgeEndpoint(def, 10, { histogram: latencyHistogram(), statuses: {}, errors: 0, timeouts: 0, sent: 0, seconds: 10 }, 10, THRESHOLDS);
    expect(result).toMatchObject({ pass: false, judgedMs: null, reasons: ['no request was answered'] });
  });
});

describe('scenarios and options', () => {
  test('splitRate keeps the total and gives every endpoint at least 1 req/s', () => {
    expect(splitRate(40, [25, 20, 15, 15, 20, 5])).toEqual([10, 8, 6, 6, 8, 2]);
    expect(splitRate(3, [1, 1, 1, 100])).toEqual([1, 1, 1, 1]);
    for (const total of [1, 7, 13, 40, 999]) {
      const parts = splitRate(total, [3, 1, 1]);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(Math.max(total, 3));
      expect(Math.min(...parts)).toBeGreaterThanOrEqual(1);
    }
  });

  test('the seeded random source repeats, and place-order builds a valid body from the discovered ids', () => {
    const a = seededRandom(42), b = seededRandom(42);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
    const data = { productIds: [7, 8, 9], orderIds: [], users: 50 };
    const random = seededRandom(1);
    for (let i = 0; i < 50; i++) {
      const { path: p, body } = ENDPOINTS.placeOrder.build(data, random);
      expect(p).toBe('/api/orders');
      const parsed = JSON.parse(body!) as { userId: number; items: { productId: number; quantity: number }[] };
      expect(parsed.userId).toBeGreaterThanOrEqual(1);
      expect(parsed.userId).toBeLessThanOrEqual(50);
      expect(new Set(parsed.items.map((x) => x.productId)).size).toBe(parsed.items.length);
      for (const item of parsed.items) expect(data.productIds).toContain(item.productId);
    }
  });

  test('options: defaults, the admin token and the Pushgateway from the environment, one-line errors', () => {
    const options = parseOptions(['--scenario', 'mixed'], {})!;
    expect(options).toMatchObject({ baseUrl: 'http://localhost:3000', durationSeconds: 30, rate: 40, timeoutSeconds: 10, pushgatewayUrl: undefined });
    expect(parseOptions(['--scenario', 'popular'], { PUSHGATEWAY_URL: 'http://localhost:9091/' })!.pushgatewayUrl).toBe('http://localhost:9091');
    expect(parseOptions(['--scenario', 'incident-popular'], { ADMIN_TOKEN: 'x'.repeat(20) })!.adminToken).toBe('x'.repeat(20));
    expect(() => parseOptions(['--scenario', 'incident-status'], {})).toThrow(/--admin-token/);
    expect(() => parseOptions(['--scenario', 'nope'], {})).toThrow(SetupError);
    expect(() => parseOptions(['--scenario', 'mixed', '--rate', '0'], {})).toThrow(/--rate must be a whole number from 1/);
    expect(() => parseOptions(['--scenario', 'mixed', '--pushgateway', 'ftp://x'], {})).toThrow(/--pushgateway must be an http/);
    expect(parseOptions(['--help'], {})).toBeNull();
  });
});

describe('npm run bench never wipes data without --reset-data', () => {
  test('fewer orders than the bench measures at: refused without the flag, seeded with it', () => {
    expect(() => seedPlan(SEED.orders - 1, false)).toThrow(SetupError);
    expect(() => seedPlan(0, false)).toThrow(/npm run bench -- --reset-data/);
    expect(seedPlan(0, true).seed).toBe(true);
  });

  test('enough orders: measured as they are, re-seeded only with the flag', () => {
    expect(seedPlan(SEED.orders, false).seed).toBe(false);
    expect(seedPlan(SEED.orders * 2, true).seed).toBe(true);
  });

  test('a database that cannot be reached: exit 2 with one line', async () => {
    const run = await runNode(['loadtest/bench/run.ts', '--only', '7'], { DATABASE_URL: 'postgres://x:y@127.0.0.1:1/none' });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^bench: .*ECONNREFUSED/)]);
  });
});

// ---- a real Pushgateway ----

interface Gateway {
  url: string;
  /** The metric families of the group {job="loadtest", scenario}, from GET /api/v1/metrics. */
  group(scenario: string): Promise<Record<string, { labels: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string }[]>>;
}

async function startPushgateway(): Promise<{ gateway: Gateway; stop: () => Promise<void> }> {
  const url = `http://127.0.0.1:${await freePort()}`;
  // Kept in memory only: Debian's build persists to /var/lib/prometheus/pushgateway.data by default.
  const daemon = await startDaemon(binary('prometheus-pushgateway', 'pushgateway'), [`--web.listen-address=${url.slice('http://'.length)}`, '--persistence.file='], url);
  // GET /api/v1/metrics: { data: [{ labels: {job, scenario}, <metric name>: { metrics: [...] }, ... }] }
  type Group = { labels: Record<string, string> } & Record<string, unknown>;
  const gateway: Gateway = {
    url,
    async group(scenario) {
      const body = (await (await fetch(`${url}/api/v1/metrics`)).json()) as { data: Group[] };
      const group = body.data.find((g) => g.labels.job === LOADTEST_JOB && g.labels.scenario === scenario) ?? { labels: {} };
      return Object.fromEntries(
        Object.entries(group).flatMap(([name, family]) => ((family as { metrics?: unknown })?.metrics ? [[name, (family as { metrics: never[] }).metrics]] : [])),
      );
    },
  };
  return { gateway, stop: daemon.stop };
}

let pushgateway: { gateway: Gateway; stop: () => Promise<void> };
beforeAll(async () => {
  pushgateway = await startPushgateway();
});
afterAll(() => pushgateway.stop());

describe('results pushed to the Pushgateway', () => {
  const endpoints = [{ id: 'popular', route: '/api/orders/popular', method: 'GET', targetRate: 5 }];

  test('a run pushed is read back under {job="loadtest", scenario}: latency histogram, statuses, verdict', async () => {
    const { gateway } = pushgateway;
    const metrics = createRunMetrics(endpoints);
    for (const ms of [3, 4, 1500]) metrics.answer('popular', ms, 200);
    metrics.answer('popular', 20, 503);
    metrics.noAnswer('popular');
    metrics.finish([{ id: 'popular', judgedMs: 1500, pass: false }]);
    await pushRun(gateway.url, 'push-test', metrics.registry);

    const group = await gateway.group('push-test');
    const duration = group[LOADTEST_METRICS.requestDuration]![0]!;
    expect(duration.labels).toMatchObject({ job: LOADTEST_JOB, scenario: 'push-test', endpoint: 'popular', http_route: '/api/orders/popular' });
    expect(Number(duration.count)).toBe(4);
    expect(Number(duration.buckets![String(THRESHOLDS.latencySeconds)])).toBe(3); // 1.5 s is over the line
    const byStatus = Object.fromEntries(group[LOADTEST_METRICS.responses]!.map((m) => [m.labels.http_response_status_code, Number(m.value)]));
    expect(byStatus).toEqual({ '200': 3, '503': 1 });
    expect(Number(group[LOADTEST_METRICS.unanswered]![0]!.value)).toBe(1);
    expect(Number(group[LOADTEST_METRICS.judgedLatency]![0]!.value)).toBe(1.5);
    expect(Number(group[LOADTEST_METRICS.targetRate]![0]!.value)).toBe(5);
    expect(Number(group[LOADTEST_METRICS.endpointPassed]![0]!.value)).toBe(0);
    expect(Number(group[LOADTEST_METRICS.runPassed]![0]!.value)).toBe(0);
    expect(Number(group[LOADTEST_METRICS.runActive]![0]!.value)).toBe(0);

    // The next run of the scenario replaces the previous one (a PUT of the group), counters included.
    const next = createRunMetrics(endpoints);
    next.answer('popular', 2, 200);
    next.finish([{ id: 'popular', judgedMs: 2, pass: true }]);
    await pushRun(gateway.url, 'push-test', next.registry);
    const replaced = await gateway.group('push-test');
    expect(Number(replaced[LOADTEST_METRICS.requestDuration]![0]!.count)).toBe(1);
    expect(Number(replaced[LOADTEST_METRICS.runPassed]![0]!.value)).toBe(1);
  });

  test('a Pushgateway that is not there: the push rejects', async () => {
    await expect(pushRun('http://127.0.0.1:1', 'push-test', createRunMetrics(endpoints).registry)).rejects.toThrow();
  });
});

// ---- the real CLI against local servers ----

interface Fake {
  url: string;
  calls: { method: string; url: string; auth: string | undefined; body: string }[];
  close: () => Promise<void>;
}

/** Answers every path a scenario uses (and the admin drill routes) with JSON, after `delayMs`. */
async function startFake(delayMs: number): Promise<Fake> {
  const calls: Fake['calls'] = [];
  let orders = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      calls.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      const url = new URL(req.url!, 'http://fake');
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (url.pathname === '/admin/drills') {
        return reply(200, { drills: {}, active: req.method === 'PUT' ? ['popular_latency', 'popular_cache_bypass'] : [] });
      }
      setTimeout(() => {
        if (url.pathname === '/api/products') return reply(200, { products: [{ id: 1 }, { id: 2 }, { id: 3 }], limit: 100, offset: 0 });
        if (url.pathname.startsWith('/api/products/')) return reply(200, { id: 1, name: 'p', price: 1, stock: 1 });
        if (url.pathname === '/api/orders/status' && url.searchParams.has('userId')) return reply(200, { userId: 1, orders: [{ orderId: 11 }, { orderId: 12 }] });
        if (url.pathname === '/api/orders/status') return reply(200, { orderId: 11, status: 'PAID' });
        if (url.pathname === '/api/orders/popular') return reply(200, { days: 3, products: [] });
        if (url.pathname === '/api/orders' && req.method === 'POST') {
          return ++orders % 2 ? reply(201, { orderId: 1 }) : reply(409, { error: { code: 'OUT_OF_STOCK', message: 'no stock' } });
        }
        reply(404, { error: { code: 'NOT_FOUND' } });
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function runNode(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ADMIN_TOKEN: '', PUSHGATEWAY_URL: '', ...env } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run loadtest (the CLI, end to end)', () => {
  let reportsDir: string;
  beforeAll(() => {
    reportsDir = mkdtempSync(path.join(os.tmpdir(), 'loadtest-reports-'));
  });
  afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

  const cli = (args: string[]) => runNode(['loadtest/src/loadtest.ts', ...args, '--reports-dir', reportsDir]);
  const summaryOf = (stdout: string) =>
    JSON.parse(readFileSync(path.join(path.dirname(/^report: (.+)$/m.exec(stdout)![1]!), 'summary.json'), 'utf8')) as RunReport;

  test('a fast service passes the mixed scenario: exit 0, the report, every endpoint at its rate, the run pushed', async () => {
    const fake = await startFake(0);
    try {
      const run = await cli(['--scenario', 'mixed', '--base-url', fake.url, '--duration', '2', '--rate', '12', '--users', '50', '--pushgateway', pushgateway.gateway.url]);
      expect(run.stderr).toMatch(/discovered 3 product ids and 2 order ids/);
      expect(run.stderr).toMatch(/1s\/2s +answers/);
      expect(run.code).toBe(0);
      const summary = summaryOf(run.stdout);
      expect(summary.verdict).toBe('PASS');
      expect(summary.endpoints.map((e) => e.id)).toEqual(['popular', 'status-by-order', 'status-by-user', 'products', 'product', 'place-order']);
      // The open model sends exactly rate × duration requests, each answered.
      for (const e of summary.endpoints) expect(e.answers).toBe(e.targetRate * 2);
      const place = summary.endpoints.find((e) => e.id === 'place-order')!;
      expect(place.expected4xx).toBe(place.status4xx);
      const paths = new Set(fake.calls.map((c) => `${c.method} ${new URL(c.url, 'http://x').pathname.replace(/\d+$/, ':id')}`));
      expect([...paths].sort()).toEqual(['GET /api/orders/popular', 'GET /api/orders/status', 'GET /api/products', 'GET /api/products/:id', 'POST /api/orders']);
      const pushed = await pushgateway.gateway.group('mixed');
      expect(Number(pushed[LOADTEST_METRICS.runPassed]![0]!.value)).toBe(1);
      expect(pushed[LOADTEST_METRICS.endpointPassed]!.map((m) => m.labels.endpoint).sort()).toEqual(summary.endpoints.map((e) => e.id).sort());
    } finally {
      await fake.close();
    }
  }, 30_000);

  test('a service answering in 1.2 s breaches: exit 1, the rate held, and the incident drill is applied then cleared', async () => {
    const slow = await startFake(1200);
    try {
      const token = 'test-admin-token-0123456789';
      const run = await cli(['--scenario', 'incident-popular', '--base-url', slow.url, '--ops-url', slow.url, '--admin-token', token, '--duration', '2', '--rate', '3']);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/incident-popular: FAIL/);
      const popular = summaryOf(run.stdout).endpoints[0]!;
      expect(popular.reasons[0]).toMatch(/^p95 12\d\d ms > 1000 ms/);
      // Open model: slow answers do not slow the arrivals down.
      expect(popular.answers).toBe(6);
      expect(popular.offeredRate).toBeGreaterThan(2.7);
      const admin = slow.calls.filter((c) => c.url === '/admin/drills');
      expect(admin.map((c) => c.method)).toEqual(['PUT', 'DELETE']);
      expect(admin.every((c) => c.auth === `Bearer ${token}`)).toBe(true);
      expect(JSON.parse(admin[0]!.body)).toEqual({ queryLatencyMs: { popular: 1500 }, cacheBypass: ['popular_products'] });
    } finally {
      await slow.close();
    }
  }, 30_000);

  test('no service: exit 2 with one clear line', async () => {
    const gone = await startFake(0);
    await gone.close();
    const run = await cli(['--scenario', 'popular', '--base-url', gone.url, '--duration', '2']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^loadtest: the service is not reachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): start it/m);
  }, 30_000);
});
