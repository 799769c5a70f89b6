import type { Socket } from 'node:net';
import { Client } from 'pg';
import { ConnectionAcquireTimeoutError, ConnectionError, QueryTypes, Sequelize, TimeoutError, type Transaction } from 'sequelize';
import type { DbErrorKind } from '../../../contract/metrics';
import { AppError, type ErrorCode } from '../lib/app-error';
import type { Config } from '../config';
import type { Metrics } from '../telemetry/metrics';

export type Bind = Record<string, unknown> | unknown[];

export interface Database {
  sequelize: Sequelize;
  /** Runs one named SQL statement with bound parameters and returns its rows as plain objects. */
  query<Row>(name: string, sql: string, bind?: Bind, transaction?: Transaction): Promise<Row[]>;
  /** Runs `work` in one transaction, timed under `name`; everything in it commits or nothing does. */
  transaction<T>(name: string, work: (transaction: Transaction) => Promise<T>): Promise<T>;
  poolStats(): { inUse: number; idle: number; waiting: number; max: number };
  /**
   * What the last database check found (ops createDatabaseCheck): false while PostgreSQL does not answer. Meanwhile
   * every query fails at once with DATABASE_UNAVAILABLE (and one already waiting is answered that, the cause, rather
   * than the pool exhaustion it shows up as); `ping` keeps trying.
   */
  setAnswering(answering: boolean): void;
  /**
   * `SELECT 1` within `timeoutMs`, timed as `readiness_ping`, on a connection of its own outside the pool (so neither a
   * full pool nor the pool's connections stuck on a hung server decide it); tried even while the database is not
   * answering, which is how it comes back. A ping that times out drops its connection; the next opens a new one.
   */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const QUERY_CANCELED = '57014';
const LOCK_NOT_AVAILABLE = '55P03';
const CONNECTION_FAILURE_CLASS = '08';
const ADMIN_SHUTDOWN_CLASS = '57P';
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE']);

/**
 * Why the database could not serve a request, or undefined for any other error (a bug in a query, a constraint):
 * - pool_exhausted: no pooled connection within DB_POOL_ACQUIRE_TIMEOUT_MS (every connection busy);
 * - lock_timeout: a lock not granted within DB_LOCK_TIMEOUT_MS (another session holds it: a row many orders want, or
 *   a table a migration or maintenance statement locked);
 * - statement_timeout: a statement ran past DB_STATEMENT_TIMEOUT_MS (a slow query);
 * - unavailable: PostgreSQL cannot be reached or is shutting down, or did not answer at all.
 */
export function classifyDatabaseError(error: unknown): DbErrorKind | undefined {
  // Checked first: sequelize's acquire timeout is a ConnectionError too, but the database itself is fine.
  if (error instanceof ConnectionAcquireTimeoutError) return 'pool_exhausted';
  const code = (error as { parent?: { code?: string }; code?: string })?.parent?.code ?? (error as { code?: string })?.code;
  if (code === LOCK_NOT_AVAILABLE) return 'lock_timeout';
  if (code === QUERY_CANCELED) return 'statement_timeout';
  if (error instanceof ConnectionError || error instanceof TimeoutError) return 'unavailable';
  if (typeof code === 'string' && (code.startsWith(CONNECTION_FAILURE_CLASS) || code.startsWith(ADMIN_SHUTDOWN_CLASS) || NETWORK_ERRORS.has(code))) {
    return 'unavailable';
  }
  // pg's client-side query_timeout: the server did not answer within statement timeout + 1 s, so it cannot be reached.
  if (/Query read timeout|Connection terminated/.test(String((error as Error)?.message))) return 'unavailable';
  return undefined;
}

/**
 * The API's answer to each kind (service/docs/api-contract.md): status, code, message, Retry-After (s), and the
 * warning logged with `dbError: <kind>`. Every kind is a 503: the service failed to serve the request in time, which
 * the client can only retry (a lock wait is not a conflict with anything the client sent), so each counts as a server
 * error in the error-rate and availability alerts.
 */
export const DATABASE_ANSWERS: Record<
  DbErrorKind,
  { status: number; code: ErrorCode; message: string; retryAfterSeconds: number; logMessage: string }
> = {
  unavailable: {
    status: 503,
    code: 'DATABASE_UNAVAILABLE',
    message: 'The database is unavailable; try again shortly.',
    retryAfterSeconds: 5,
    logMessage: 'database unavailable',
  },
  pool_exhausted: {
    status: 503,
    code: 'DATABASE_POOL_EXHAUSTED',
    message: 'The service is busy: no database connection was free in time; try again shortly.',
    retryAfterSeconds: 1,
    logMessage: 'database pool exhausted',
  },
  lock_timeout: {
    status: 503,
    code: 'LOCK_TIMEOUT',
    message: 'The data this request needs is locked by another operation; try again shortly.',
    retryAfterSeconds: 1,
    logMessage: 'database lock wait timed out',
  },
  statement_timeout: {
    status: 503,
    code: 'DATABASE_TIMEOUT',
    message: 'The database took too long to answer; try again shortly.',
    retryAfterSeconds: 1,
    logMessage: 'database statement timed out',
  },
};

function toAppError(error: unknown, metrics: Metrics | undefined, answering: boolean): unknown {
  const classified = classifyDatabaseError(error);
  if (!classified) return error;
  const kind: DbErrorKind = answering ? classified : 'unavailable';
  metrics?.dbErrors.labels(kind).inc();
  const answer = DATABASE_ANSWERS[kind];
  return new AppError(answer.status, answer.code, answer.message, [], {
    cause: error,
    retryAfterSeconds: answer.retryAfterSeconds,
    log: { message: answer.logMessage, fields: { dbError: kind } },
  });
}

export interface QueryDelays {
  /** Extra time a named query holds its connection, in ms (incident drills); 0 for none. */
  queryDelayMs(queryName: string): number;
}

const NO_DELAYS: QueryDelays = { queryDelayMs: () => 0 };

export function createDatabase(config: Config['database'], metrics: Metrics, delays: QueryDelays = NO_DELAYS): Database {
  const sequelize = new Sequelize(config.url, {
    dialect: 'postgres',
    logging: false,
    pool: { max: config.poolMax, min: 0, acquire: config.acquireTimeoutMs, idle: 10_000, evict: 1_000 },
    dialectOptions: {
      application_name: 'orders-service',
      statement_timeout: config.statementTimeoutMs,
      lock_timeout: config.lockTimeoutMs,
      // A client-side backstop for when the server cannot even be reached to cancel the statement.
      query_timeout: config.statementTimeoutMs + 1_000,
      connectionTimeoutMillis: Math.max(config.acquireTimeoutMs, 1_000),
    },
  });
  metrics.dbPoolMax.set(config.poolMax);
  let answering = true;
  const pinger = createPinger(config.url);

  /** `ping`: the database check's own query, tried whatever the last check found and not counted as a request's error. */
  async function timed<T>(name: string, run: () => Promise<T>, kind: 'request' | 'ping' = 'request'): Promise<T> {
    const counted = kind === 'request' ? metrics : undefined;
    // While the database check finds PostgreSQL not answering, a request fails at once instead of taking a pooled
    // connection to a server that will not reply (until the client-side query timeout) or waiting for one.
    if (!answering && kind === 'request') throw toAppError(new ConnectionError(new Error('PostgreSQL is not answering (database check)')), counted, answering);
    const end = metrics.dbQueryDuration.startTimer({ query: name });
    try {
      const result = await run();
      end({ outcome: 'ok' });
      return result;
    } catch (error) {
      end({ outcome: 'error' });
      throw toAppError(error, counted, answering);
    }
  }

  return {
    sequelize,
    query<Row>(name: string, sql: string, bind: Bind = [], transaction?: Transaction) {
      const run = (t?: Transaction) => sequelize.query(sql, { bind, type: QueryTypes.SELECT, transaction: t }) as Promise<Row[]>;
      const delayMs = delays.queryDelayMs(name);
      if (delayMs <= 0) return timed(name, () => run(transaction));
      // A drilled slow query: it holds one connection for the whole time, as a real slow query would.
      return timed(name, () =>
        transaction
          ? sequelize.query('SELECT pg_sleep($1)', { bind: [delayMs / 1000], transaction }).then(() => run(transaction))
          : sequelize.transaction(async (t) => {
              await sequelize.query('SELECT pg_sleep($1)', { bind: [delayMs / 1000], transaction: t });
              return run(t);
            }),
      );
    },
    transaction<T>(name: string, work: (transaction: Transaction) => Promise<T>) {
      return timed(name, () => sequelize.transaction((transaction) => work(transaction)));
    },
    poolStats() {
      // sequelize-pool exposes its counters; the typings do not.
      const pool = (sequelize.connectionManager as unknown as {
        pool: { using: number; available: number; waiting: number };
      }).pool;
      return { inUse: pool.using, idle: pool.available, waiting: pool.waiting, max: config.poolMax };
    },
    setAnswering(value: boolean) {
      answering = value;
    },
    ping: (timeoutMs: number) => timed('readiness_ping', () => pinger.ping(timeoutMs), 'ping'),
    async close() {
      pinger.close();
      await sequelize.close();
    },
  };
}

/** One connection for the database check, outside the pool, replaced whenever a ping fails or times out. */
function createPinger(url: string) {
  let client: Client | undefined;
  const drop = () => {
    // A hung server never answers the goodbye either: cut the socket rather than wait for end().
    (client as unknown as { connection?: { stream?: Socket } } | undefined)?.connection?.stream?.destroy();
    client = undefined;
  };
  return {
    async ping(timeoutMs: number): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          (async () => {
            if (!client) {
              const fresh = new Client({ connectionString: url, application_name: 'orders-service-check', connectionTimeoutMillis: timeoutMs });
              fresh.on('error', () => undefined);
              client = fresh;
              await fresh.connect();
            }
            await client.query('SELECT 1');
          })(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new TimeoutError(new Error(`PostgreSQL did not answer the database check within ${timeoutMs} ms`) as never)), timeoutMs);
          }),
        ]);
      } catch (error) {
        drop();
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    close: drop,
  };
}
