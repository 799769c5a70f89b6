import type { StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { Sequelize } from 'sequelize';
import { migrateUp } from '../../src/infra/migrator';
import { startPostgres } from '../support/containers';
import { dockerControl, eventually, freePort } from '../support/docker';
import { fixtures } from '../support/fixtures';
import { get, post } from '../support/http';
import { sample, scrape } from '../support/metrics';
import { startTestApp, type TestApp } from '../support/test-app';

// This file stops PostgreSQL, so it has one of its own on a fixed host port that survives a restart.
let postgres: StartedPostgreSqlContainer;
let control: Awaited<ReturnType<typeof dockerControl>>;
let app: TestApp;
let given: ReturnType<typeof fixtures>;

beforeAll(async () => {
  postgres = await startPostgres({ database: 'orders', hostPort: await freePort() });
  control = await dockerControl(postgres);
  const sequelize = new Sequelize(postgres.getConnectionUri(), { dialect: 'postgres', logging: false });
  await migrateUp(sequelize);
  await sequelize.close();
  app = await startTestApp({ DATABASE_URL: postgres.getConnectionUri() });
  given = fixtures(app);
}, 120_000);
afterAll(async () => {
  await app.close().catch(() => undefined);
  await postgres.stop();
});

async function timed<T>(work: () => Promise<T>): Promise<T & { ms: number }> {
  const started = performance.now();
  const result = await work();
  return { ...result, ms: performance.now() - started };
}

describe('PostgreSQL unreachable', () => {
  test('requests get 503 SERVICE_UNAVAILABLE within 1 s, readiness fails, liveness holds, and service recovers by itself', async () => {
    const userId = await given.user(100_000);
    const productId = await given.product(1_000, 10);
    const ordersBefore = await given.orderCount();

    await control.stop();
    const responses = [
      await timed(() => get(`${app.api}/api/products/${productId}`)),
      await timed(() => get(`${app.api}/api/orders/status?userId=${userId}`)),
      await timed(() => post(`${app.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] })),
    ];
    const ready = await get(`${app.ops}/readyz`);
    const live = await get(`${app.ops}/healthz`);

    for (const response of responses) {
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.ms).toBeLessThan(1_000);
    }
    expect(ready.status).toBe(503);
    expect(live.status).toBe(200);
    expect(sample(await scrape(app.ops), 'db_up')).toBe(0);
    expect(JSON.stringify(app.logs)).not.toContain(postgres.getConnectionUri());

    await control.start();
    await eventually(() => get(`${app.ops}/readyz`), (r) => r.status === 200, 30_000);
    const placed = await post(`${app.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] });

    expect(placed.status).toBe(201);
    expect(await given.orderCount()).toBe(ordersBefore + 1);
    expect(await given.stockOf(productId)).toBe(9);
    expect(await given.balanceOf(userId)).toBe(99_000);
  });
});
