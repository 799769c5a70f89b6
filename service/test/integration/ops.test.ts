import { get } from '../support/http';
import { startTestApp, type TestApp } from '../support/test-app';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe('ops port', () => {
  test('/healthz answers while the process lives', async () => {
    const response = await get(`${app.ops}/healthz`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  test('/readyz is ready when PostgreSQL answers and every migration is applied', async () => {
    const response = await get(`${app.ops}/readyz`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', checks: { accepting: true, database: 'ok', redis: 'ok' } });
  });

  test('/readyz is not ready while migrations are pending, and /healthz stays alive', async () => {
    const unmigrated = await startTestApp({}, { migrated: false });
    try {
      const ready = await get(`${unmigrated.ops}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.body.checks.database).toMatch(/schema_migrations|migrations pending/);
      expect((await get(`${unmigrated.ops}/healthz`)).status).toBe(200);
    } finally {
      await unmigrated.close();
    }
  });

  test('/readyz turns not ready the moment shutdown begins', async () => {
    app.app.readiness.accepting = false;
    try {
      const response = await get(`${app.ops}/readyz`);
      expect(response.status).toBe(503);
      expect(response.body.checks.accepting).toBe(false);
    } finally {
      app.app.readiness.accepting = true;
    }
  });

  test('/metrics is Prometheus text', async () => {
    const response = await fetch(`${app.ops}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await response.text()).toContain('# TYPE http_server_request_duration_seconds histogram');
  });
});
