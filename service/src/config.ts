import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
const url = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.join(' or ')}//`);
const flag = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((value) => value === 'true');
const timeZone = z.string().refine((value) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Asia/Seoul');

/** Every variable the service reads, with its bounds and default. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  PORT: port.default(3000),
  OPS_PORT: port.default(9464),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  REDIS_URL: url(['redis:', 'rediss:']),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  SLOW_REQUEST_MS: positiveInt.default(500),
  POPULAR_CACHE_TTL_SECONDS: positiveInt.max(86_400).default(30),
  BUSINESS_TIMEZONE: timeZone.default('Asia/Seoul'),
  DB_POOL_MAX: positiveInt.max(100).default(10),
  DB_POOL_ACQUIRE_TIMEOUT_MS: positiveInt.default(500),
  DB_STATEMENT_TIMEOUT_MS: positiveInt.default(5_000),
  DB_LOCK_TIMEOUT_MS: positiveInt.default(2_000),
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.default(100),
  SHUTDOWN_DRAIN_MS: nonNegativeInt.default(3_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(15_000),
  ADMIN_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'must be at least 16 characters').optional()),
  FAULTS_ENABLED: flag.default(false),
  CONTROLS_SYNC_INTERVAL_MS: positiveInt.min(50).max(60_000).default(1_000),
  RATE_LIMIT_INSTANCES: positiveInt.max(1_000).default(1),
  POPULAR_STALE_IF_ERROR_SECONDS: nonNegativeInt.max(86_400).default(300),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  nodeEnv: 'production' | 'development' | 'test';
  http: { port: number; opsPort: number; slowRequestMs: number };
  log: { level: 'error' | 'warn' | 'info' | 'debug' };
  /**
   * Timeouts in ms: `acquireTimeoutMs` to get a pooled connection, `lockTimeoutMs` to wait for a row lock (below the
   * statement timeout, so lock contention is told apart from a slow statement), `statementTimeoutMs` per statement.
   */
  database: { url: string; poolMax: number; acquireTimeoutMs: number; lockTimeoutMs: number; statementTimeoutMs: number };
  redis: { url: string; commandTimeoutMs: number };
  /**
   * `staleIfErrorSeconds`: how long past its expiry the last ranking is still served (marked stale) when it cannot be
   * computed (PostgreSQL down); 0 = never.
   */
  popular: { cacheTtlSeconds: number; staleIfErrorSeconds: number };
  businessTimeZone: string;
  shutdown: { drainMs: number; timeoutMs: number };
  /** Admin calls on the ops port (traffic limiting, drills) need this bearer token; without it they are off. */
  admin: { token?: string; faultsEnabled: boolean };
  /**
   * Settings shared by every instance through Redis: read every `syncIntervalMs` ms. `rateLimitInstances` is how many
   * instances run: with Redis unavailable each limits to 1/N of the global limit on its own.
   */
  controls: { syncIntervalMs: number; rateLimitInstances: number };
}

export class ConfigError extends Error {}

/** Validates the environment once; every other module receives the typed result. */
export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const message = issue.code === 'invalid_type' && env[name] === undefined ? 'is required' : issue.message;
      return `${name} ${message}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  if (e.DB_LOCK_TIMEOUT_MS >= e.DB_STATEMENT_TIMEOUT_MS) {
    throw new ConfigError('Invalid configuration: DB_LOCK_TIMEOUT_MS must be below DB_STATEMENT_TIMEOUT_MS');
  }
  return {
    nodeEnv: e.NODE_ENV,
    http: { port: e.PORT, opsPort: e.OPS_PORT, slowRequestMs: e.SLOW_REQUEST_MS },
    log: { level: e.LOG_LEVEL },
    database: {
      url: e.DATABASE_URL,
      poolMax: e.DB_POOL_MAX,
      acquireTimeoutMs: e.DB_POOL_ACQUIRE_TIMEOUT_MS,
      lockTimeoutMs: e.DB_LOCK_TIMEOUT_MS,
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    },
    redis: { url: e.REDIS_URL, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS },
    popular: { cacheTtlSeconds: e.POPULAR_CACHE_TTL_SECONDS, staleIfErrorSeconds: e.POPULAR_STALE_IF_ERROR_SECONDS },
    businessTimeZone: e.BUSINESS_TIMEZONE,
    shutdown: { drainMs: e.SHUTDOWN_DRAIN_MS, timeoutMs: e.SHUTDOWN_TIMEOUT_MS },
    admin: { token: e.ADMIN_TOKEN, faultsEnabled: e.FAULTS_ENABLED },
    controls: { syncIntervalMs: e.CONTROLS_SYNC_INTERVAL_MS, rateLimitInstances: e.RATE_LIMIT_INSTANCES },
  };
}
