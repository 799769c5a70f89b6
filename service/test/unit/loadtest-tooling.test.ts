/**
 * The load-test tool (loadtest/src): its arithmetic, verdict, charts and report as pure functions, then the real CLI
 * (`tsx loadtest/src/cli.ts`, what `npm run loadtest` runs) against small local HTTP servers: a fast one (exit 0,
 * report written, threshold line drawn), one answering in 1.2 s (exit 1, drill applied and cleared), none (exit 2).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { THRESHOLDS } from '../../../contract';
import { parseOptions, THRESHOLDS_USED } from '../../../loadtest/src/loadtest';
import { collectNotes, renderMarkdown, REPORT_FILES, timestampDirName, type RunReport } from '../../../loadtest/src/report';
import { phasePlan, progressLine } from '../../../loadtest/src/runner';
import { ENDPOINTS, SCENARIOS, seededRandom, splitRate } from '../../../loadtest/src/scenarios';
import { SetupError } from '../../../loadtest/src/service-api';
import {
  bucketBySecond,
  emptyRecord,
  evaluateEndpoint,
  percentile,
  summariseEndpoint,
  type EndpointInfo,
  type EndpointRecord,
  type Sample,
} from '../../../loadtest/src/stats';
import { renderLatencyChart, renderThroughputChart } from '../../../loadtest/src/svg';

const ROOT = path.resolve(__dirname, '../../..');
const LIMIT_MS = THRESHOLDS.latencySeconds * 1000;
const Q = THRESHOLDS.latencyQuantile;
const info: EndpointInfo = { id: 'popular', name: 'GET /api/orders/popular', method: 'GET', route: '/api/orders/popular', targetRate: 10 };

const recordOf = (samples: Partial<Sample>[], errors: { t: number; timeout: boolean }[] = []): EndpointRecord => ({
  sent: samples.map((s) => Math.max(0, (s.t ?? 0) - (s.latencyMs ?? 1))),
  samples: samples.map((s) => ({ t: 0, latencyMs: 1, status: 200, ...s })),
  errors,
});

describe('percentile (nearest rank)', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  test('p50, p95, p99 and p100 of 1..100', () => {
    expect([50, 95, 99, 100].map((p) => percentile(values, p))).toEqual([50, 95, 99, 100]);
  });
  test('small and empty inputs', () => {
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([1, 2], 50)).toBe(1);
    expect(percentile([1, 2], 51)).toBe(2);
    expect(percentile([], 95)).toBeNull();
    expect(() => percentile([1], 0)).toThrow(RangeError);
  });
});

describe('rates', () => {
  test('splitRate keeps the total and gives every endpoint at least 1 req/s', () => {
    const weights = SCENARIOS.mixed.endpoints.map((e) => e.weight);
    expect(splitRate(40, weights)).toEqual([10, 8, 6, 6, 8, 2]);
    expect(splitRate(12, weights).reduce((a, b) => a + b, 0)).toBe(12);
    expect(splitRate(3, weights)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(splitRate(7, [1])).toEqual([7]);
  });
  test('phasePlan spreads an endpoint over up to 10 instances started within the first second', () => {
    const phases = phasePlan(25, 1, 2);
    expect(phases).toHaveLength(10);
    expect(phases.reduce((sum, p) => sum + p.rate, 0)).toBe(25);
    for (const p of phases) expect(p.offset >= 0 && p.offset < 1).toBe(true);
    expect(phasePlan(3).map((p) => p.rate)).toEqual([1, 1, 1]);
  });
  test('the seeded random source repeats', () => {
    const a = seededRandom(42), b = seededRandom(42);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
  });
  test('place-order builds a valid body from the discovered ids', () => {
    const random = seededRandom(1);
    const data = { productIds: [4, 5, 6], orderIds: [9], users: 10 };
    for (let i = 0; i < 50; i++) {
      const { path: p, body } = ENDPOINTS.placeOrder.build(data, random);
      expect(p).toBe('/api/orders');
      const parsed = JSON.parse(body!) as { userId: number; items: { productId: number; quantity: number }[] };
      expect(parsed.userId).toBeGreaterThanOrEqual(1);
      expect(parsed.userId).toBeLessThanOrEqual(10);
      expect(new Set(parsed.items.map((it) => it.productId)).size).toBe(parsed.items.length);
      for (const it of parsed.items) expect(data.productIds).toContain(it.productId);
    }
    expect(ENDPOINTS.statusByOrder.build(data, random).path).toBe('/api/orders/status?orderId=9');
  });
});

describe('bucketBySecond', () => {
  test('buckets answers, 5xx and errors by the second they happened in, with per-second percentiles', () => {
    const record: EndpointRecord = {
      sent: [0, 50, 1000, 2000],
      samples: [
        { t: 100, latencyMs: 10, status: 200 },
        { t: 900, latencyMs: 30, status: 200 },
        { t: 1500, latencyMs: 1200, status: 503 },
      ],
      errors: [{ t: 2100, timeout: true }],
    };
    const buckets = bucketBySecond(record, 4);
    expect(buckets).toHaveLength(4);
    expect(buckets[0]).toMatchObject({ second: 0, sent: 2, responses: 2, p50: 10, p95: 30, p99: 30, max: 30, status5xx: 0 });
    expect(buckets[1]).toMatchObject({ second: 1, sent: 1, responses: 1, p95: 1200, status5xx: 1 });
    expect(buckets[2]).toMatchObject({ second: 2, sent: 1, responses: 0, errors: 1, p95: null });
    expect(buckets[3]).toMatchObject({ responses: 0, p50: null });
    expect(bucketBySecond({ ...emptyRecord(), samples: [{ t: 5200, latencyMs: 1, status: 200 }] }, 2)).toHaveLength(6);
  });
});

describe('verdict against alerting/thresholds.ts', () => {
  const judge = (record: EndpointRecord, endpoint: EndpointInfo = info) =>
    evaluateEndpoint(summariseEndpoint(endpoint, record, 10, Q), THRESHOLDS_USED);
  /** 100 answers whose 95th by rank (the p95) is `judgedMs`. */
  const latencies = (judgedMs: number) =>
    recordOf(Array.from({ length: 100 }, (_, i) => ({ t: 5000 + i, latencyMs: i < 94 ? 5 : i === 94 ? judgedMs : 3000 })));

  test('uses the single source of truth', () => {
    expect(THRESHOLDS_USED).toMatchObject({ latencySeconds: THRESHOLDS.latencySeconds, latencyQuantile: Q, routeErrorRatio: THRESHOLDS.routeErrorRatio });
  });
  test(`passes with p95 exactly at the line and fails just over it`, () => {
    expect(judge(latencies(LIMIT_MS))).toEqual({ pass: true, reasons: [] });
    const over = judge(latencies(LIMIT_MS + 1));
    expect(over.pass).toBe(false);
    expect(over.reasons[0]).toMatch(/^p95 1001 ms > 1000 ms/);
  });
  test('5xx and unanswered requests over routeErrorRatio fail; at the ratio they pass', () => {
    const ok = Array.from({ length: 95 }, () => ({ status: 200 }));
    expect(judge(recordOf([...ok, ...Array.from({ length: 5 }, () => ({ status: 500 }))])).pass).toBe(true);
    const failing = judge(recordOf([...ok, ...Array.from({ length: 6 }, () => ({ status: 503 }))]));
    expect(failing.pass).toBe(false);
    expect(failing.reasons[0]).toMatch(/5xx and errors 5\.9 % > 5\.0 %/);
    expect(judge(recordOf(ok, Array.from({ length: 6 }, (_, i) => ({ t: i, timeout: true })))).pass).toBe(false);
  });
  test('409 OUT_OF_STOCK on orders is counted apart and is not a failure; other 4xx are counted as 4xx', () => {
    const place: EndpointInfo = { ...info, id: 'place-order', expectedRejections: ['OUT_OF_STOCK', 'INSUFFICIENT_BALANCE'] };
    const record = recordOf([
      { status: 201 },
      { status: 409, code: 'OUT_OF_STOCK' },
      { status: 409, code: 'OUT_OF_STOCK' },
      { status: 404, code: 'USER_NOT_FOUND' },
    ]);
    const stats = summariseEndpoint(place, record, 10, Q);
    expect(stats).toMatchObject({ status2xx: 1, status4xx: 3, expected4xx: 2, status5xx: 0, failureRatio: 0 });
    expect(stats.statusCodes).toEqual({ '201': 1, '409 OUT_OF_STOCK': 2, '404 USER_NOT_FOUND': 1 });
    expect(evaluateEndpoint(stats, THRESHOLDS_USED).pass).toBe(true);
  });
  test('an endpoint with no answer fails', () => {
    expect(judge(emptyRecord())).toEqual({ pass: false, reasons: ['no request was answered'] });
  });
});

const series = (p95s: (number | null)[]) =>
  p95s.map((p95, second) => ({ second, sent: 5, responses: p95 === null ? 0 : 5, errors: 0, status5xx: 0, p50: p95 && p95 / 2, p95, p99: p95, max: p95 }));

describe('SVG charts', () => {
  test('the latency chart draws and labels the threshold line, and a slow p95 above it', () => {
    const svg = renderLatencyChart(
      [
        { title: 'GET /a?x=<id>&y=1', pass: true, buckets: series([5, 6, null, 7]) },
        { title: 'GET /b', pass: false, buckets: series([1500, 1600, 1500, 1400]) },
      ],
      { title: 'Latency', thresholdMs: LIMIT_MS, judgedPercentile: 95 },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const lines = [...svg.matchAll(/<line class="threshold" data-threshold-ms="1000" x1="[\d.]+" y1="([\d.]+)"/g)];
    expect(lines).toHaveLength(2);
    expect(svg).toContain('>threshold 1 s<');
    expect(svg).toContain('GET /a?x=&lt;id&gt;&amp;y=1');
    expect(svg).not.toContain('<id>');
    // The slow panel's p95 polyline is drawn above (smaller y than) its threshold line.
    const thresholdY = Number(lines[1]![1]);
    const slowPanel = svg.slice(svg.indexOf('data-endpoint="GET /b"'));
    const p95Points = /stroke="#ff7f0e" stroke-width="2.2" points="([^"]+)"/.exec(slowPanel)![1]!.split(' ');
    for (const point of p95Points) expect(Number(point.split(',')[1])).toBeLessThan(thresholdY);
    expect(slowPanel).toContain('FAIL');
  });
  test('the throughput chart has a line per endpoint, the total and the target', () => {
    const svg = renderThroughputChart(
      [
        { label: 'GET /a', buckets: series([5, 5, 5]), targetRate: 5 },
        { label: 'GET /b', buckets: series([5, null, 5]), targetRate: 5 },
      ],
      { title: 'Throughput' },
    );
    expect(svg).toContain('target 10 req/s');
    expect(svg).toContain('all endpoints');
    expect(svg.match(/<polyline /g)!.length).toBeGreaterThanOrEqual(3);
  });
});

describe('report.md', () => {
  const stats = summariseEndpoint(info, recordOf([{ t: 100, latencyMs: 1500 }, { t: 900, latencyMs: 1600 }]), 1, Q);
  const base: Omit<RunReport, 'notes'> = {
    scenario: 'incident-popular',
    description: 'drill',
    baseUrl: 'http://localhost:3000',
    startedAt: '2025-01-31T09:05:07.123Z',
    finishedAt: '2025-01-31T09:05:37.000Z',
    durationSeconds: 30,
    measuredSeconds: 30.5,
    rate: 10,
    connections: 10,
    users: 1000,
    seed: 1,
    interrupted: false,
    drill: { opsUrl: 'http://localhost:9464', applied: { queryLatencyMs: { popular: 1500 } }, cleared: true },
    machine: {
      cpuModel: 'Test CPU', cpuCount: 2, memoryTotalBytes: 8 * 1024 ** 3, memoryFreeBytes: 4 * 1024 ** 3,
      loadAverage: [1, 2, 3], platform: 'linux', release: '6', arch: 'x64', node: 'v24.0.0', hostname: 'h',
    },
    generator: 'autocannon 8.0.0',
    thresholds: THRESHOLDS_USED,
    verdict: 'FAIL',
    endpoints: [{ stats, verdict: evaluateEndpoint(stats, THRESHOLDS_USED), series: bucketBySecond(emptyRecord(), 1) }],
  };
  const markdown = renderMarkdown({ ...base, notes: collectNotes(base) });

  test('shows the run, the machine, the per-endpoint table with the verdict, and embeds both charts', () => {
    expect(markdown).toMatch(/^# Load test: incident-popular — FAIL/);
    expect(markdown).toContain('| machine | Test CPU × 2, 8.0 GiB RAM (4.0 GiB free), load average 1 / 2 / 3, linux 6 x64, Node v24.0.0 |');
    expect(markdown).toContain('`alerting/thresholds.ts`');
    expect(markdown).toContain('cleared afterwards: yes');
    expect(markdown).toMatch(/\| `GET \/api\/orders\/popular` \| 10 \| 2\.0 \| 2\.0 \| 2 \| 1500 \| 1600 \| 1600 \| 1600 \| 0 \| 0 \| 0 \| 0 \| 0\.0 % \| \*\*FAIL\*\* \|/);
    expect(markdown).toContain('- `GET /api/orders/popular`: p95 1600 ms > 1000 ms (1 s)');
    expect(markdown).toContain(`](${REPORT_FILES.latency})`);
    expect(markdown).toContain(`](${REPORT_FILES.throughput})`);
    expect(markdown).toMatch(/coordinated omission/);
  });
  test('a drill left active is the first note', () => {
    const notes = collectNotes({ ...base, drill: { ...base.drill!, cleared: false, clearError: 'ECONNREFUSED' } });
    expect(notes[0]).toMatch(/^THE DRILL WAS NOT CLEARED \(ECONNREFUSED\)/);
  });
  test('the report directory is the UTC start time', () => {
    expect(timestampDirName(new Date('2025-01-31T09:05:07.123Z'))).toBe('2025-01-31T09-05-07Z');
  });
});

describe('options', () => {
  test('defaults', () => {
    const options = parseOptions(['--scenario', 'mixed'], {})!;
    expect(options).toMatchObject({ baseUrl: 'http://localhost:3000', opsUrl: 'http://localhost:9464', durationSeconds: 30, rate: 40, users: 1000 });
    expect(options.scenario.name).toBe('mixed');
    expect(parseOptions(['--help'], {})).toBeNull();
  });
  test.each([
    [[], /--scenario is required/],
    [['--scenario', 'nope'], /unknown scenario "nope"/],
    [['--scenario', 'mixed', '--rate', '0'], /--rate must be a whole number from 1/],
    [['--scenario', 'mixed', '--duration', '1.5'], /--duration must be a whole number/],
    [['--scenario', 'mixed', '--base-url', 'localhost:3000'], /--base-url must be an http\(s\) URL/],
    [['--scenario', 'mixed', '--bogus'], /Unknown option '--bogus'/],
    [['--scenario', 'incident-popular'], /pass --admin-token/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseOptions(argv, {})).toThrow(SetupError);
    expect(() => parseOptions(argv, {})).toThrow(message);
  });
  test('the admin token may come from ADMIN_TOKEN', () => {
    expect(parseOptions(['--scenario', 'incident-status'], { ADMIN_TOKEN: 'x'.repeat(16) })!.adminToken).toBe('x'.repeat(16));
  });
});

test('progressLine shows elapsed, answers, the window p95 and errors', () => {
  const a = recordOf([{ t: 100, latencyMs: 3 }, { t: 1500, latencyMs: 20 }]);
  const b = recordOf([{ t: 1600, latencyMs: 40, status: 503 }], [{ t: 1700, timeout: true }]);
  expect(progressLine(['a', 'b'], [a, b], 2000, 30)).toBe('   2s/30s  answers       3  p95 last 1s    40.0 ms (worst b 40.0 ms)  5xx 1  no answer 1');
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

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'loadtest/src/cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ADMIN_TOKEN: '' },
    });
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

  const reportDirOf = (stdout: string) => path.dirname(/^report: (.+)$/m.exec(stdout)![1]!);

  test('a fast service passes the mixed scenario: exit 0, report.md, charts with the threshold line, summary.json', async () => {
    const fake = await startFake(0);
    try {
      const run = await runCli(['--scenario', 'mixed', '--base-url', fake.url, '--duration', '2', '--rate', '12', '--users', '50', '--reports-dir', reportsDir]);
      expect(run.stderr).toMatch(/discovered 3 product ids and 2 order ids/);
      expect(run.stderr).toMatch(/1s\/2s +answers/);
      expect(run.code).toBe(0);
      const dir = reportDirOf(run.stdout);
      for (const file of Object.values(REPORT_FILES)) expect(existsSync(path.join(dir, file))).toBe(true);
      expect(readFileSync(path.join(dir, REPORT_FILES.latency), 'utf8')).toMatch(/<line class="threshold" data-threshold-ms="1000"/);
      expect(readFileSync(path.join(dir, REPORT_FILES.markdown), 'utf8')).toMatch(/^# Load test: mixed — PASS/);
      const summary = JSON.parse(readFileSync(path.join(dir, REPORT_FILES.summary), 'utf8')) as RunReport;
      expect(summary.verdict).toBe('PASS');
      expect(summary.endpoints.map((e) => e.stats.id)).toEqual(['popular', 'status-by-order', 'status-by-user', 'products', 'product', 'place-order']);
      for (const e of summary.endpoints) expect(e.stats.responses).toBeGreaterThan(0);
      const place = summary.endpoints.find((e) => e.stats.id === 'place-order')!.stats;
      expect(place.expected4xx).toBe(place.status4xx);
      // Every request the fake saw was one the scenario describes.
      const paths = new Set(fake.calls.map((c) => `${c.method} ${new URL(c.url, 'http://x').pathname.replace(/\d+$/, ':id')}`));
      expect([...paths].sort()).toEqual(['GET /api/orders/popular', 'GET /api/orders/status', 'GET /api/products', 'GET /api/products/:id', 'POST /api/orders']);
    } finally {
      await fake.close();
    }
  }, 20_000);

  test('a service answering in 1.2 s breaches: exit 1, and the incident drill is applied then cleared', async () => {
    const slow = await startFake(1200);
    try {
      const token = 'test-admin-token-0123456789';
      const run = await runCli([
        '--scenario', 'incident-popular', '--base-url', slow.url, '--ops-url', slow.url, '--admin-token', token,
        '--duration', '2', '--rate', '2', '--reports-dir', reportsDir,
      ]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/incident-popular: FAIL/);
      const summary = JSON.parse(readFileSync(path.join(reportDirOf(run.stdout), REPORT_FILES.summary), 'utf8')) as RunReport;
      expect(summary.endpoints[0]!.stats.judged.ms).toBeGreaterThan(LIMIT_MS);
      expect(summary.endpoints[0]!.verdict.reasons[0]).toMatch(/^p95 12\d\d ms > 1000 ms/);
      expect(summary.drill).toMatchObject({ cleared: true });
      const admin = slow.calls.filter((c) => c.url === '/admin/drills');
      expect(admin.map((c) => c.method)).toEqual(['PUT', 'DELETE']);
      expect(admin.every((c) => c.auth === `Bearer ${token}`)).toBe(true);
      expect(JSON.parse(admin[0]!.body)).toEqual({ queryLatencyMs: { popular: 1500 }, cacheBypass: ['popular_products'] });
    } finally {
      await slow.close();
    }
  }, 20_000);

  test('no service: exit 2 with one clear line', async () => {
    const gone = await startFake(0);
    await gone.close();
    const run = await runCli(['--scenario', 'popular', '--base-url', gone.url, '--duration', '2', '--reports-dir', reportsDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^loadtest: the service is not reachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): start it/m);
  }, 20_000);
});
