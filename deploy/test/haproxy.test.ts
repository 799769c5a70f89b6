/**
 * The load balancer's own answers (deploy/haproxy): generated from the service's error contract, current, accepted
 * by HAProxy, and sent by a real HAProxy (Debian's binary) running the real configuration on free ports.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SECURITY_HEADERS } from '../../service/src/lib/http/security-headers';
import { errorFileOf, errorFileText, HAPROXY_CFG, HAPROXY_DIR, LOAD_BALANCER_ERRORS, withGeneratedBlocks } from '../haproxy/errors';
import { startHaproxy, type RunningHaproxy } from './support/haproxy';

test('haproxy.cfg and deploy/haproxy/errors/*.http are what `npm run generate` writes', () => {
  const cfg = readFileSync(HAPROXY_CFG, 'utf8');
  expect(cfg).toBe(withGeneratedBlocks(cfg));
  for (const e of LOAD_BALANCER_ERRORS.filter((x) => x.early)) {
    expect({ file: errorFileOf(e.status), text: readFileSync(path.join(HAPROXY_DIR, errorFileOf(e.status)), 'utf8') }).toEqual({ file: errorFileOf(e.status), text: errorFileText(e) });
  }
});

test('HAProxy accepts the configuration as compose mounts it (haproxy -c)', () => {
  const check = spawnSync('haproxy', ['-c', '-f', HAPROXY_CFG], { encoding: 'utf8' });
  expect({ status: check.status, output: `${check.stdout}${check.stderr}`.trim() }).toEqual({ status: 0, output: 'Configuration file is valid' });
});

describe('a real HAProxy on the real configuration, no replica up', () => {
  let haproxy: RunningHaproxy;
  let api: string;

  beforeAll(async () => {
    haproxy = await startHaproxy();
    api = haproxy.api;
  });
  afterAll(() => haproxy?.stop());

  test('answers 503 in the API error contract: JSON body, SERVICE_UNAVAILABLE, Retry-After, a fresh request id, the security headers', async () => {
    const [first, second] = [await fetch(`${api}/api/orders/popular`), await fetch(`${api}/api/orders`, { method: 'POST', body: '{}' })];
    for (const response of [first, second]) {
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await response.json()).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: 'No replica of the service is ready', details: [] } });
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect({ name, value: response.headers.get(name) }).toEqual({ name, value });
    }
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
  });
});
