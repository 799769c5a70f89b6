import type { StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { Client } from 'pg';
import { Sequelize } from 'sequelize';
import { DB_ERROR_KINDS, METRICS } from '../../../contract/metrics';
import { STATUS_ROUTE } from '../../../contract/routes';
import { migrateUp } from '../../src/infra/migrator';
import { DATABASE_CHECK_INTERVAL_MS, DATABASE_CHECK_TIMEOUT_MS, NOT_ANSWERING_AFTER_CHECKS } from '../../src/ops/ops-app';
import { startPostgres } from '../support/containers';
import { dockerControl, eventually, freePort } from '../support/docker';
import { fixtures } from '../support/fixtures';
import { get, post, request, type JsonResponse } from '../support/http';
import { requestCount, sample, scrape } from '../support/metrics';
import { runLoadOffThread } from '../support/load';
import { startTestApp, type LogLine, type TestApp } from '../support/test-app';

// This file stops PostgreSQL, so it has one of its own on a fixed host port that survives a restart. It produces each
// way the database can fail to serve a request for real, and checks that each has its own answer: status, code,
// Retry-After, log message and `dbError` field, and db_errors_total{kind}.
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

const ADMIN_TOKEN = 'database-faults-admin-token-0123';

/** A second session that holds a row lock until released, as a long transaction of another writer would. */
async function holdRowLock(table: 'products' | 'users', id: number) {
  const holder = new Client({ connectionString: postgres.getConnectionUri() });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query(`SELECT 1 FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
  return async () => {
    await holder.query('ROLLBACK');
    await holder.end();
  };
}

const dbErrors = async (of: TestApp, kind: string) => sample(await scrape(of.ops), METRICS.dbErrors, { kind });
const warningsOf = (of: TestApp, dbError: string) => of.logs.filter((line: LogLine) => line.dbError === dbError);

describe('the database cannot serve a request: each kind is its own answer', () => {
  // Lock timeout well below the statement timeout; the drills let a test make one statement slow for real.
  let contention: TestApp;
  // One pooled connection with a short acquire timeout, so one waiting order exhausts the pool.
  let tiny: TestApp;
  beforeAll(async () => {
    contention = await startTestApp({
      DATABASE_URL: postgres.getConnectionUri(),
      DB_LOCK_TIMEOUT_MS: '300',
      DB_STATEMENT_TIMEOUT_MS: '1000',
      FAULTS_ENABLED: 'true',
      ADMIN_TOKEN,
    });
    tiny = await startTestApp({
      DATABASE_URL: postgres.getConnectionUri(),
      DB_POOL_MAX: '1',
      DB_POOL_ACQUIRE_TIMEOUT_MS: '200',
      DB_LOCK_TIMEOUT_MS: '3000',
    });
  });
  afterAll(async () => {
    await contention?.close();
    await tiny?.close();
  });

  test('every kind is exported at 0 before the first failure', async () => {
    const text = await scrape(tiny.ops);
    expect(DB_ERROR_KINDS.map((kind) => [kind, sample(text, METRICS.dbErrors, { kind })])).toEqual(DB_ERROR_KINDS.map((kind) => [kind, 0]));
  });

  test('lock contention: an order waiting on a row lock past the lock timeout gets 503 LOCK_TIMEOUT with Retry-After, changes nothing, and readiness holds', async () => {
    const userId = await given.user(100_000);
    const productId = await given.product(1_000, 10);
    const release = await holdRowLock('products', productId);
    let refused;
    let ready;
    try {
      refused = await post(`${contention.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] });
      ready = await get(`${contention.ops}/readyz`);
    } finally {
      await release();
    }

    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('LOCK_TIMEOUT');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.error.message).not.toMatch(/unavailable/i);
    expect(ready.status).toBe(200);
    expect(warningsOf(contention, 'lock_timeout')).toEqual([
      expect.objectContaining({ level: 'warn', message: 'database lock wait timed out', code: 'LOCK_TIMEOUT' }),
    ]);
    expect(await dbErrors(contention, 'lock_timeout')).toBe(1);
    expect(await dbErrors(contention, 'unavailable')).toBe(0);
    expect(await given.stockOf(productId)).toBe(10);
    expect(await given.balanceOf(userId)).toBe(100_000);

    const retried = await post(`${contention.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] });
    expect(retried.status).toBe(201);
  });

  test('a migration-style lock on orders held by another session (issue 19): a status read gets 503 LOCK_TIMEOUT, counted as a 5xx of its route, readiness holds', async () => {
    const userId = await given.user(0);
    const holder = new Client({ connectionString: postgres.getConnectionUri(), application_name: 'migration' });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
    const fiveHundreds = async () => requestCount(await scrape(contention.ops), STATUS_ROUTE, '503');
    const before = await fiveHundreds();
    let refused;
    let ready;
    try {
      refused = await get(`${contention.api}/api/orders/status?userId=${userId}`);
      ready = await get(`${contention.ops}/readyz`);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect({ status: refused.status, code: refused.body.error.code, retryAfter: refused.headers.get('retry-after') }).toEqual({ status: 503, code: 'LOCK_TIMEOUT', retryAfter: '1' });
    expect(ready.status).toBe(200);
    expect((await fiveHundreds()) - before).toBe(1);
    expect((await get(`${contention.api}/api/orders/status?userId=${userId}`)).status).toBe(200);
  });

  test('a slow statement past the statement timeout gets 503 DATABASE_TIMEOUT with Retry-After', async () => {
    const userId = await given.user();
    const drill = await request('PUT', `${contention.ops}/admin/drills`, {
      json: { queryLatencyMs: { status: 2_000 } },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(drill.status).toBe(200);
    let slow;
    try {
      slow = await get(`${contention.api}/api/orders/status?userId=${userId}`);
    } finally {
      await request('DELETE', `${contention.ops}/admin/drills`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    }

    expect(slow.status).toBe(503);
    expect(slow.body.error.code).toBe('DATABASE_TIMEOUT');
    expect(slow.headers.get('retry-after')).toBe('1');
    expect(warningsOf(contention, 'statement_timeout')).toEqual([
      expect.objectContaining({ level: 'warn', message: 'database statement timed out', code: 'DATABASE_TIMEOUT' }),
    ]);
    expect(await dbErrors(contention, 'statement_timeout')).toBe(1);
  });

  test('pool exhaustion: with every connection taken, a request gets 503 DATABASE_POOL_EXHAUSTED with Retry-After, and the waiting order completes', async () => {
    const userId = await given.user(100_000);
    const locked = await given.product(1_000, 10);
    const other = await given.product(1_000, 10);
    const release = await holdRowLock('products', locked);
    let waiting;
    let shed;
    try {
      // The first order takes the only pooled connection and waits on the lock with it.
      waiting = post(`${tiny.api}/api/orders`, { userId, items: [{ productId: locked, quantity: 1 }] });
      await eventually(
        () => app.sql<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'orders-service'`),
        (rows) => Number(rows[0]!.n) >= 1,
      );
      shed = await post(`${tiny.api}/api/orders`, { userId, items: [{ productId: other, quantity: 1 }] });
    } finally {
      await release();
    }

    expect(shed.status).toBe(503);
    expect(shed.body.error.code).toBe('DATABASE_POOL_EXHAUSTED');
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(warningsOf(tiny, 'pool_exhausted')).toEqual([
      expect.objectContaining({ level: 'warn', message: 'database pool exhausted', code: 'DATABASE_POOL_EXHAUSTED' }),
    ]);
    expect(await dbErrors(tiny, 'pool_exhausted')).toBe(1);
    expect(await dbErrors(tiny, 'lock_timeout')).toBe(0);
    expect((await waiting).status).toBe(201);
    expect(await given.stockOf(locked)).toBe(9);
    expect(await given.stockOf(other)).toBe(10);
  });
});

describe('PostgreSQL unreachable', () => {
  test('requests get 503 DATABASE_UNAVAILABLE within 1 s with Retry-After 5, readiness fails, liveness holds, and service recovers by itself', async () => {
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
      expect(response.body.error.code).toBe('DATABASE_UNAVAILABLE');
      expect(response.headers.get('retry-after')).toBe('5');
      expect(response.ms).toBeLessThan(1_000);
    }
    expect(ready.status).toBe(503);
    expect(live.status).toBe(200);
    expect(sample(await scrape(app.ops), 'db_up')).toBe(0);
    expect(await dbErrors(app, 'unavailable')).toBeGreaterThanOrEqual(3);
    expect(await dbErrors(app, 'lock_timeout')).toBe(0);
    expect(warningsOf(app, 'unavailable').length).toBeGreaterThanOrEqual(3);
    expect(warningsOf(app, 'unavailable').every((line) => line.message === 'database unavailable' && line.code === 'DATABASE_UNAVAILABLE')).toBe(true);
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

describe('PostgreSQL hung (frozen, not stopped: the connection stays open and nothing answers)', () => {
  test(`db_up is 0 and readiness fails within the check's bound, then every request fails fast with 503 DATABASE_UNAVAILABLE (not a pool answer, no wait for the query timeout), and it recovers by itself`, async () => {
    const userId = await given.user(100_000);
    const productId = await given.product(1_000, 10);
    // Steady traffic the whole time: its requests fill the pool with queries stuck on the silent server, which must
    // not keep the check from seeing it (the check has a connection of its own).
    const load = runLoadOffThread({ origin: app.api, path: `/api/orders/status?userId=${userId}`, connections: 16, seconds: 8, ratePerSecond: 50, timeoutSeconds: 10 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const pausedAt = performance.now();
    await control.pause();
    let detectedMs: number;
    let responses: (JsonResponse & { ms: number })[];
    let ready: JsonResponse;
    try {
      await eventually(() => scrape(app.ops), (text) => sample(text, 'db_up') === 0, 15_000);
      detectedMs = performance.now() - pausedAt;
      // Requests fail fast once the checks agree it is not answering (NOT_ANSWERING_AFTER_CHECKS in a row).
      await new Promise((resolve) => setTimeout(resolve, DATABASE_CHECK_INTERVAL_MS * NOT_ANSWERING_AFTER_CHECKS));
      [ready, ...responses] = await Promise.all([
        get(`${app.ops}/readyz`),
        ...Array.from({ length: 12 }, (_, i) =>
          timed(() => (i % 2 ? get(`${app.api}/api/orders/status?userId=${userId}`) : post(`${app.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] })))),
      ]);
    } finally {
      await control.unpause();
    }
    const steady = await load;
    const queryTimeoutMs = app.config.database.statementTimeoutMs + 1_000;
    console.log(
      `PostgreSQL hung: db_up 0 after ${detectedMs.toFixed(0)} ms (bound ${DATABASE_CHECK_INTERVAL_MS + DATABASE_CHECK_TIMEOUT_MS} ms); ` +
        `12 requests answered in ${Math.min(...responses.map((r) => r.ms)).toFixed(0)}-${Math.max(...responses.map((r) => r.ms)).toFixed(0)} ms (query timeout ${queryTimeoutMs} ms); ` +
        `steady load meanwhile: ${JSON.stringify(steady.statuses)}, no answer ${steady.errors + steady.timeouts}`,
    );
    expect(detectedMs).toBeLessThan(DATABASE_CHECK_INTERVAL_MS + DATABASE_CHECK_TIMEOUT_MS + 1_500);
    expect({ status: ready.status, ok: ready.body.checks?.database === 'ok' }).toEqual({ status: 503, ok: false });
    expect(new Set(responses.map((r) => `${r.status} ${r.body.error?.code}`))).toEqual(new Set(['503 DATABASE_UNAVAILABLE']));
    expect(Math.max(...responses.map((r) => r.ms))).toBeLessThan(1_000);
    // Every request of the steady load was answered: 200 before the pause, a 503 during it, never a hang.
    expect(steady.errors + steady.timeouts).toBe(0);

    await eventually(() => get(`${app.ops}/readyz`), (r) => r.status === 200, 30_000);
    expect((await post(`${app.api}/api/orders`, { userId, items: [{ productId, quantity: 1 }] })).status).toBe(201);
    expect(await given.stockOf(productId)).toBe(9);
  });
});

describe('PostgreSQL unreachable: the popular ranking during the grace period', () => {
  test('both instances serve the last ranking marked stale until POPULAR_STALE_IF_ERROR_SECONDS past its expiry, then 503', async () => {
    const TTL_SECONDS = 1;
    const GRACE_SECONDS = 6;
    const env = {
      DATABASE_URL: postgres.getConnectionUri(),
      POPULAR_CACHE_TTL_SECONDS: String(TTL_SECONDS),
      POPULAR_STALE_IF_ERROR_SECONDS: String(GRACE_SECONDS),
    };
    const userId = await given.user(100_000);
    await post(`${app.api}/api/orders`, { userId, items: [{ productId: await given.product(1_000, 10), quantity: 2 }] });
    const warm = await startTestApp(env);
    const cold = await startTestApp(env);
    try {
      const url = (api: string, query = '?days=2&limit=3') => `${api}/api/orders/popular${query}`;
      const fresh = await get(url(warm.api));
      const loadedAt = performance.now();
      expect(fresh.status).toBe(200);
      expect(fresh.headers.get('x-cache')).toBeNull();

      await control.stop();
      // Past the ranking's expiry, so both tiers must recompute it and cannot.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, loadedAt + TTL_SECONDS * 1000 + 200 - performance.now())));
      const fromMemory = await get(url(warm.api));
      const fromRedis = await get(url(cold.api));
      const neverCached = await get(url(warm.api, '?days=9&limit=3'));
      // The check above must have happened inside the grace period for it to mean anything.
      expect(performance.now() - loadedAt).toBeLessThan((TTL_SECONDS + GRACE_SECONDS) * 1000);

      for (const stale of [fromMemory, fromRedis]) {
        expect(stale.status).toBe(200);
        expect(stale.body).toEqual(fresh.body);
        expect(stale.headers.get('x-cache')).toBe('stale');
        expect(stale.headers.get('cache-control')).toBe('no-store');
      }
      expect(neverCached.status).toBe(503);
      expect(neverCached.body.error.code).toBe('DATABASE_UNAVAILABLE');

      // After the grace period nothing stale is served any more.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, loadedAt + (TTL_SECONDS + GRACE_SECONDS + 1) * 1000 - performance.now())));
      for (const expired of [await get(url(warm.api)), await get(url(cold.api))]) {
        expect(expired.status).toBe(503);
        expect(expired.body.error.code).toBe('DATABASE_UNAVAILABLE');
      }
    } finally {
      await control.start();
      await eventually(() => get(`${app.ops}/readyz`), (r) => r.status === 200, 30_000);
      await Promise.all([warm.close(), cold.close()]);
    }
  }, 60_000);
});
