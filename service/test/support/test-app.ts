import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { Writable } from 'node:stream';
import { QueryTypes, Sequelize } from 'sequelize';
import { createService, type Service } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import type { Database } from '../../src/infra/database';
import type { RedisClient } from '../../src/infra/redis';
import { close, listen, portOf } from '../../src/lib/http-server';
import type { Metrics } from '../../src/telemetry/metrics';
import { fixtures, type Fixtures } from './fixtures';

export interface LogLine {
  level: string;
  message: string;
  requestId?: string;
  [key: string]: unknown;
}

export interface TestApp {
  api: string;
  ops: string;
  config: Config;
  app: Service;
  db: Database;
  redis: RedisClient;
  metrics: Metrics;
  logs: LogLine[];
  sql<Row = Record<string, unknown>>(text: string, bind?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the integration tests through Jest's global setup`);
  return value;
}

async function withAdmin<T>(work: (admin: Sequelize) => Promise<T>): Promise<T> {
  const admin = new Sequelize(requiredEnv('TEST_PG_ADMIN_URL'), { dialect: 'postgres', logging: false });
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}

/** A database of its own for one test file: a copy of the migrated template, or empty when `migrated` is false. */
export async function createTestDatabase(migrated = true): Promise<{ name: string; url: string }> {
  const name = `test_${process.env.JEST_WORKER_ID ?? '0'}_${randomBytes(4).toString('hex')}`;
  const template = migrated ? requiredEnv('TEST_PG_TEMPLATE') : 'template0';
  await withAdmin(async (admin) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (error) {
        // Two files cloning the template at the same moment: PostgreSQL refuses the second; it retries.
        if (attempt >= 20 || !/being accessed by other users/.test(String(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      }
    }
  });
  const url = new URL(requiredEnv('TEST_PG_ADMIN_URL'));
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

export async function dropTestDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** Redis logical database of this Jest worker, so parallel files never share cache keys. */
export function workerRedisUrl(base = requiredEnv('TEST_REDIS_URL')): string {
  const url = new URL(base);
  url.pathname = `/${Number(process.env.JEST_WORKER_ID ?? '1') % 16}`;
  return url.toString();
}

/**
 * The real app, in-process on ephemeral ports, against the real PostgreSQL and Redis of the run,
 * with every log line captured for assertions.
 */
export async function startTestApp(env: Record<string, string> = {}, options: { migrated?: boolean } = {}): Promise<TestApp> {
  // A caller that brings its own database (a fault test's private PostgreSQL) keeps it; otherwise the file gets a clone.
  const database = env.DATABASE_URL ? undefined : await createTestDatabase(options.migrated ?? true);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database?.url,
    REDIS_URL: workerRedisUrl(),
    LOG_LEVEL: 'info',
    SHUTDOWN_DRAIN_MS: '0',
    ...env,
  });
  const logs: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const app = createService(config, { logStream: stream });
  const { db, redis, metrics } = app;
  // Tests of a missing Redis start without one.
  if (await app.redisReady(5_000)) await redis.flushDb();
  const servers: http.Server[] = [await listen(app.api, 0, '127.0.0.1', app.apiEdge), await listen(app.ops, 0, '127.0.0.1', app.opsEdge)];

  return {
    api: `http://127.0.0.1:${portOf(servers[0]!)}`,
    ops: `http://127.0.0.1:${portOf(servers[1]!)}`,
    config,
    app,
    db,
    redis,
    metrics,
    logs,
    sql: (text, bind = []) => db.sequelize.query(text, { bind, type: QueryTypes.SELECT }) as never,
    async close() {
      await Promise.all(servers.map((server) => close(server, 1_000)));
      await app.close();
      if (database) await dropTestDatabase(database.name);
    },
  };
}

/**
 * Registers the per-file lifecycle: one app (and its database) for the whole file, closed after it.
 * Read `t.app` and `t.given` inside tests and hooks, once beforeAll has run.
 */
export function useTestApp(env: Record<string, string> = {}): { app: TestApp; given: Fixtures } {
  const t = {} as { app: TestApp; given: Fixtures };
  beforeAll(async () => {
    t.app = await startTestApp(env);
    t.given = fixtures(t.app);
  });
  afterAll(() => t.app?.close());
  return t;
}
