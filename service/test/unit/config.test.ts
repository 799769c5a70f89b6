import { ConfigError, loadConfig } from '../../src/config';

const required = { DATABASE_URL: 'postgres://u:p@db:5432/orders', REDIS_URL: 'redis://cache:6379' };

describe('loadConfig', () => {
  test('applies the documented defaults', () => {
    const config = loadConfig(required);
    expect(config).toMatchObject({
      http: { port: 3000, opsPort: 9464, slowRequestMs: 500 },
      log: { level: 'info' },
      popular: { cacheTtlSeconds: 30, staleIfErrorSeconds: 300 },
      controls: { syncIntervalMs: 1_000, rateLimitInstances: 1 },
      businessTimeZone: 'Asia/Seoul',
      database: { poolMax: 10, acquireTimeoutMs: 500, lockTimeoutMs: 2_000, statementTimeoutMs: 5_000 },
      redis: { commandTimeoutMs: 100 },
    });
  });

  test('reads every variable it is given', () => {
    const config = loadConfig({
      ...required,
      PORT: '8080',
      OPS_PORT: '9000',
      LOG_LEVEL: 'debug',
      POPULAR_CACHE_TTL_SECONDS: '5',
      BUSINESS_TIMEZONE: 'Europe/Berlin',
      SLOW_REQUEST_MS: '250',
      POPULAR_STALE_IF_ERROR_SECONDS: '0',
      CONTROLS_SYNC_INTERVAL_MS: '200',
      RATE_LIMIT_INSTANCES: '3',
    });
    expect(config).toMatchObject({
      http: { port: 8080, opsPort: 9000, slowRequestMs: 250 },
      log: { level: 'debug' },
      popular: { cacheTtlSeconds: 5, staleIfErrorSeconds: 0 },
      controls: { syncIntervalMs: 200, rateLimitInstances: 3 },
      businessTimeZone: 'Europe/Berlin',
    });
  });

  test.each([
    [{ REDIS_URL: required.REDIS_URL }, /DATABASE_URL is required/],
    [{ ...required, DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a URL starting with postgres:/],
    [{ ...required, PORT: 'eighty' }, /PORT/],
    [{ ...required, OPS_PORT: '70000' }, /OPS_PORT/],
    [{ ...required, LOG_LEVEL: 'verbose' }, /LOG_LEVEL/],
    [{ ...required, POPULAR_CACHE_TTL_SECONDS: '0' }, /POPULAR_CACHE_TTL_SECONDS/],
    [{ ...required, POPULAR_STALE_IF_ERROR_SECONDS: '-1' }, /POPULAR_STALE_IF_ERROR_SECONDS/],
    [{ ...required, CONTROLS_SYNC_INTERVAL_MS: '10' }, /CONTROLS_SYNC_INTERVAL_MS/],
    [{ ...required, RATE_LIMIT_INSTANCES: '0' }, /RATE_LIMIT_INSTANCES/],
    [{ ...required, BUSINESS_TIMEZONE: 'Mars/Olympus' }, /BUSINESS_TIMEZONE must be an IANA time zone/],
    [{ ...required, DB_LOCK_TIMEOUT_MS: '5000' }, /DB_LOCK_TIMEOUT_MS must be below DB_STATEMENT_TIMEOUT_MS/],
    [{ ...required, DB_STATEMENT_TIMEOUT_MS: '1000' }, /DB_LOCK_TIMEOUT_MS must be below DB_STATEMENT_TIMEOUT_MS/],
  ])('rejects %j with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
