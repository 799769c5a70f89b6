import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { parse } from 'yaml';
import { KEY_ROUTES } from '../../contract';
import { freePort } from '../../service/test/support/docker';
import { ROOT } from '../../alerting/test/support/tools';

/**
 * The blackbox probe with the project's blackbox.yml in a real blackbox_exporter, against a stand-in public port:
 * reachable (200 or a deliberate 429 from traffic limiting) passes; a 5xx, a non-JSON answer or no answer fails.
 */
jest.setTimeout(120_000);

const prometheus = parse(readFileSync(path.join(ROOT, 'monitoring/prometheus/prometheus.yml'), 'utf8'));
const probeTargets: string[] = prometheus.scrape_configs.find((j: { job_name: string }) => j.job_name === 'blackbox-api').static_configs[0].targets;

test('the probe requests one cheap public endpoint, none of the named routes that page on their own', () => {
  expect(probeTargets).toEqual(['http://host.docker.internal:3000/api/products?limit=1']);
  for (const target of probeTargets) expect(KEY_ROUTES).not.toContain(new URL(target).pathname);
});

describe('blackbox_exporter with monitoring/blackbox/blackbox.yml', () => {
  let server: http.Server;
  let origin: string;
  let blackbox: StartedTestContainer;
  let blackboxPort: number;
  const answers: Record<string, [number, string]> = {
    '/ok': [200, '{"items":[]}'],
    '/limited': [429, '{"error":{"code":"RATE_LIMITED"}}'],
    '/failing': [503, '{"error":{"code":"SERVICE_UNAVAILABLE"}}'],
    '/html': [200, '<html>proxy error</html>'],
  };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const [status, body] = answers[req.url ?? ''] ?? [404, '{}'];
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    blackboxPort = await freePort();
    const standin = process.env.MONITORING_IMAGE;
    const args = ['--config.file=/etc/blackbox/blackbox.yml', `--web.listen-address=127.0.0.1:${blackboxPort}`];
    blackbox = await new GenericContainer(standin ?? 'prom/blackbox-exporter:v0.27.0')
      .withNetworkMode('host')
      .withCommand(standin ? ['/bin/blackbox_exporter', ...args] : args)
      .withCopyContentToContainer([{ content: readFileSync(path.join(ROOT, 'monitoring/blackbox/blackbox.yml'), 'utf8'), target: '/etc/blackbox/blackbox.yml' }])
      .withWaitStrategy(Wait.forLogMessage(/Listening on/))
      .withStartupTimeout(60_000)
      .start();
  });
  afterAll(async () => {
    await blackbox?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  const probe = async (pathname: string) => {
    const text = await (await fetch(`http://127.0.0.1:${blackboxPort}/probe?module=http_2xx_json&target=${encodeURIComponent(origin + pathname)}`)).text();
    return Number(/^probe_success (\S+)$/m.exec(text)![1]);
  };

  test.each([
    ['/ok', 1],
    ['/limited', 1],
    ['/failing', 0],
    ['/html', 0],
  ])('%s → probe_success %d', async (pathname, expected) => {
    expect(await probe(pathname)).toBe(expected);
  });
});
