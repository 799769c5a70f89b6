import { ConnectionAcquireTimeoutError, ConnectionError, QueryTypes, Sequelize, TimeoutError, type Transaction } from 'sequelize';
import { serviceUnavailable } from '../lib/app-error';
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
  close(): Promise<void>;
}

const QUERY_CANCELED = '57014';
const CONNECTION_FAILURE_CLASS = '08';
const ADMIN_SHUTDOWN_CLASS = '57P';

/** Errors that mean "the database cannot serve us now", as opposed to a bug in a query. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof ConnectionError || error instanceof TimeoutError) return true;
  const code = (error as { parent?: { code?: string }; code?: string })?.parent?.code ?? (error as { code?: string })?.code;
  if (typeof code !== 'string') return false;
  return code === QUERY_CANCELED || code.startsWith(CONNECTION_FAILURE_CLASS) || code.startsWith(ADMIN_SHUTDOWN_CLASS)
    || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT';
}

function toAppError(error: unknown): unknown {
  // Every pooled connection busy for longer than the acquire timeout: the service sheds load rather than queue.
  if (error instanceof ConnectionAcquireTimeoutError) return serviceUnavailable('The service is busy; try again shortly.', error);
  return isUnavailable(error) ? serviceUnavailable('The database is unavailable; try again shortly.', error) : error;
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
      // A client-side backstop for when the server cannot even be reached to cancel the statement.
      query_timeout: config.statementTimeoutMs + 1_000,
      connectionTimeoutMillis: Math.max(config.acquireTimeoutMs, 1_000),
    },
  });
  metrics.dbPoolMax.set(config.poolMax);

  async function timed<T>(name: string, run: () => Promise<T>): Promise<T> {
    const end = metrics.dbQueryDuration.startTimer({ query: name });
    try {
      const result = await run();
      end({ outcome: 'ok' });
      return result;
    } catch (error) {
      end({ outcome: 'error' });
      throw toAppError(error);
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
    close: () => sequelize.close(),
  };
}
