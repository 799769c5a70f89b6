/**
 * 데이터베이스 부하 점검 names the cause (issue 19): each real cause is made from outside the service, by another
 * session of a real PostgreSQL, as it happens in production (a migration's table lock left open, an index gone, a
 * batch client holding connections, a runaway report), and `probeDatabase`'s first finding must name it with the
 * ids a responder acts on, checked against what the injecting session itself reports (its pid, its name). Each fix
 * is then applied as the finding (and the runbook) gives it, and the probe must come back clean.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { Client } from 'pg';
import { Sequelize } from 'sequelize';
import { HOT_QUERY_INDEXES, rebuildIndexStatements } from '../../contract/queries';
import { migrateUp } from '../../service/src/infra/migrator';
import { startPostgres } from '../../service/test/support/containers';
import { probeDatabase, SERVICE_APPLICATION_NAME, LONG_QUERY_SECONDS } from '../src/database';

jest.setTimeout(120_000);

// A PostgreSQL of its own: the connections scenario fills it, which must not starve the other test files.
const MAX_CONNECTIONS = 40;
let postgres: StartedPostgreSqlContainer;
let url: string;
const sessions: Client[] = [];

async function session(applicationName: string): Promise<Client & { pid: number }> {
  const client = new Client({ connectionString: url, application_name: applicationName });
  // A session the fix terminates reports it as an error event: expected here.
  client.on('error', () => undefined);
  await client.connect();
  sessions.push(client);
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return Object.assign(client, { pid: rows[0]!.pid });
}
const run = async (sql: string) => {
  const client = await session('runbook');
  await client.query(sql);
  await client.end();
};

beforeAll(async () => {
  postgres = await startPostgres({ database: 'orders', maxConnections: MAX_CONNECTIONS });
  url = postgres.getConnectionUri();
  const sequelize = new Sequelize(url, { dialect: 'postgres', logging: false });
  await migrateUp(sequelize);
  // Enough orders that a plan without the index is a scan of all of them: 2,000 users with 100 orders each.
  const started = performance.now();
  await sequelize.query(`
    INSERT INTO users (name, balance) SELECT 'shopper-' || g, 0 FROM generate_series(1, 2000) g;
    INSERT INTO orders (user_id, status, total_amount, created_at, paid_at, updated_at)
      SELECT 1 + (g % 2000), 'PAID', 1000, now() - (g || ' seconds')::interval, now(), now() FROM generate_series(1, 200000) g;
    ANALYZE orders;`);
  console.log(`seeded 200,000 orders in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await sequelize.close();
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
  await postgres?.stop();
});

test('a healthy database has nothing to say', async () => {
  expect(await probeDatabase(url)).toEqual([]);
});

test('a migration-style lock on orders left open by another session: the first finding names the table and that session, and its fix releases it', async () => {
  const migration = await session('migration');
  await migration.query('BEGIN');
  await migration.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
  // A shopper's read waits on it, as the service's would.
  const shopper = await session(SERVICE_APPLICATION_NAME);
  await shopper.query("SET lock_timeout = '10s'");
  const waiting = shopper.query('SELECT count(*) FROM orders WHERE user_id = 1').catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 300));

  const [first, ...rest] = await probeDatabase(url);
  expect({ kind: first?.kind, pids: first?.pids, rest: rest.map((f) => f.kind) }).toEqual({ kind: 'lock', pids: [migration.pid], rest: [] });
  expect(first!.title).toContain('orders');
  expect(first!.title).toContain("'migration'");
  expect(first!.evidence).toContain('AccessExclusiveLock');
  expect(first!.evidence).toContain('기다리는 세션 1개');

  for (const sql of first!.fix) await run(sql);
  await waiting;
  expect(await probeDatabase(url)).toEqual([]);
});

test('the status index gone (the guide\'s 3.2): the first finding names it with the plan it causes, and the runbook\'s own commands rebuild it', async () => {
  const [index] = HOT_QUERY_INDEXES;
  await run(`DROP INDEX ${index.name}`);
  const [first, ...rest] = await probeDatabase(url);
  expect({ kind: first?.kind, rest: rest.map((f) => f.kind) }).toEqual({ kind: 'missing_index', rest: [] });
  expect(first!.title).toContain(index.name);
  expect(first!.evidence).toMatch(/Seq Scan on orders/);
  expect(first!.fix).toEqual(rebuildIndexStatements(index).map((s) => `${s};`));

  // The runbook's 완전 복구 for it, as written there (each `psql -c "..."`), run one by one.
  const runbook = readFileSync(path.join(__dirname, '../../runbooks/OrdersStatusLatencyHigh.md'), 'utf8');
  const commands = [...runbook.matchAll(/psql -U orders -d orders -c "([^"]*INDEX CONCURRENTLY[^"]*)"/g)].map((m) => m[1]!);
  expect(commands).toEqual(first!.fix);
  const started = performance.now();
  for (const sql of commands) await run(sql);
  console.log(`rebuilt ${index.name} on 200,000 orders in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  expect(await probeDatabase(url)).toEqual([]);
});

test('another client holding the connections: the first finding names it and how many it holds, and its fix frees them', async () => {
  const before = (await probeDatabase(url)).length;
  expect(before).toBe(0);
  // Past the line, as a runaway batch job with a pool of its own would.
  const hog = [];
  for (let i = 0; i < MAX_CONNECTIONS - 6; i++) hog.push(await session('report-batch'));
  const [first, ...rest] = await probeDatabase(url);
  expect({ kind: first?.kind, rest: rest.map((f) => f.kind) }).toEqual({ kind: 'connections_taken', rest: [] });
  expect(first!.title).toContain(`'report-batch'이(가) PostgreSQL 연결 ${hog.length}개`);
  expect(new Set(first!.pids)).toEqual(new Set(hog.map((h) => h.pid)));
  for (const sql of first!.fix) await run(sql);
  expect(await probeDatabase(url)).toEqual([]);
});

test('a runaway report query: the first finding names the session and its statement, and cancelling it ends it', async () => {
  const report = await session('monthly-report');
  const running = report.query(`SELECT pg_sleep(${LONG_QUERY_SECONDS + 30})`).catch((error: Error) => error.message);
  await new Promise((resolve) => setTimeout(resolve, (LONG_QUERY_SECONDS + 1) * 1000));
  const [first, ...rest] = await probeDatabase(url);
  expect({ kind: first?.kind, pids: first?.pids, rest: rest.map((f) => f.kind) }).toEqual({ kind: 'long_query', pids: [report.pid], rest: [] });
  expect(first!.evidence).toContain('pg_sleep');
  for (const sql of first!.fix) await run(sql);
  expect(await running).toMatch(/canceling statement/);
  expect(await probeDatabase(url)).toEqual([]);
});
