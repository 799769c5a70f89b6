import http from 'node:http';
import { Writable } from 'node:stream';
import { createHotPath } from '../../src/lib/http/hot-path';
import { createRequestRecorder } from '../../src/lib/http/telemetry';
import { close, listen, portOf } from '../../src/lib/http-server';
import { createLogger } from '../../src/lib/logger';
import { createDrills } from '../../src/ops/drills';
import { createMetrics } from '../../src/telemetry/metrics';

const BODY = Buffer.from('{"products":[]}');

describe('the hot path', () => {
  let server: http.Server;
  let base: string;
  let open = true;
  const fallbackCalls: string[] = [];
  const metrics = createMetrics();
  const logger = createLogger({ level: 'info', stream: new Writable({ write: (_chunk, _encoding, done) => done() }) });
  const recorder = createRequestRecorder(metrics, logger, 1_000, createDrills(metrics, logger, false));

  beforeAll(async () => {
    const hotPath = createHotPath({
      routes: [{ path: '/hot', cached: (querystring) => (querystring === 'known=1' ? BODY : undefined) }],
      fallback: (req, res) => {
        fallbackCalls.push(`${req.method} ${req.url}`);
        res.writeHead(299, { 'content-type': 'text/plain' }).end('fallback');
      },
      open: () => open,
      recorder,
    });
    server = await listen(hotPath, 0, '127.0.0.1');
    base = `http://127.0.0.1:${portOf(server)}`;
  });
  afterAll(() => close(server, 1_000));
  beforeEach(() => {
    fallbackCalls.length = 0;
    open = true;
  });

  const recorded = async () =>
    (await metrics.httpDuration.get()).values.find(
      (v) => v.metricName === 'http_server_request_duration_seconds_count' && v.labels.http_route === '/hot',
    )?.value ?? 0;

  test('answers a GET of a known query from memory with the JSON and security headers, and records it', async () => {
    const before = await recorded();

    const response = await fetch(`${base}/hot?known=1`, { headers: { 'x-request-id': 'abc-123' } });

    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(BODY);
    expect(response.headers.get('x-request-id')).toBe('abc-123');
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('content-length')).toBe(String(BODY.length));
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(fallbackCalls).toEqual([]);
    expect((await recorded()) - before).toBe(1);
  });

  test('makes a request id when the caller sends none or a malformed one', async () => {
    const none = await fetch(`${base}/hot?known=1`);
    const malformed = await fetch(`${base}/hot?known=1`, { headers: { 'x-request-id': 'bad id\u00e9' } });

    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(malformed.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(fallbackCalls).toEqual([]);
  });

  test.each([
    ['HEAD', '/hot?known=1'],
    ['POST', '/hot?known=1'],
    ['GET', '/hot?known=2'],
    ['GET', '/hot'],
    ['GET', '/hot/?known=1'],
    ['GET', '/HOT?known=1'],
    ['GET', '/other?known=1'],
  ])('leaves %s %s to the framework', async (method, path) => {
    const response = await fetch(`${base}${path}`, { method });
    expect(response.status).toBe(299);
    expect(fallbackCalls).toEqual([`${method} ${path}`]);
  });

  test('leaves everything to the framework while it is closed (traffic limiting, a drill, a drain)', async () => {
    open = false;
    const response = await fetch(`${base}/hot?known=1`);
    expect(response.status).toBe(299);
    expect(fallbackCalls).toEqual(['GET /hot?known=1']);
  });
});
