import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { createDatabase } from './infra/database';
import { connectInBackground, createRedis } from './infra/redis';
import { close, listen, portOf } from './lib/http-server';
import { createLogger } from './lib/logger';
import { createRequestContextStorage } from './lib/request-context';
import { recordServiceStart } from './components/incident-timeline/record';
import { createDrills } from './ops/drills';
import { createMetrics } from './telemetry/metrics';

const DATABASE_CHECK_INTERVAL_MS = 5_000;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** The only place that listens on ports and handles process signals. */
async function main() {
  const config = readConfig();
  const requestContext = createRequestContextStorage();
  const logger = createLogger({ level: config.log.level, requestContext });
  const metrics = createMetrics();
  const drills = createDrills(metrics, logger, config.admin.faultsEnabled);
  const db = createDatabase(config.database, metrics, drills);
  const redis = createRedis(config.redis, metrics, logger);
  connectInBackground(redis, logger);

  const app = createApp({ config, db, redis, metrics, logger, requestContext, drills });
  const api = await listen(app.api, config.http.port);
  const ops = await listen(app.ops, config.http.opsPort);
  logger.info('orders service listening', { port: portOf(api), opsPort: portOf(ops) });
  // The incident timeline: a restart during an incident is one of its actions (retried until PostgreSQL takes it).
  const startRecorded = new AbortController();
  void recordServiceStart({ db, logger }, { signal: startRecorded.signal });
  // Keeps db_up current between readiness probes, for the database alert.
  const databaseCheck = setInterval(() => void app.checkDatabase(), DATABASE_CHECK_INTERVAL_MS);

  let stopping = false;
  async function shutdown(signal: string) {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    app.readiness.accepting = false;
    clearInterval(databaseCheck);
    startRecorded.abort();
    logger.info('shutdown: readiness off, draining', { signal, drainMs: config.shutdown.drainMs });
    await sleep(config.shutdown.drainMs);
    const result = await close(api, config.shutdown.timeoutMs);
    await Promise.allSettled([redis.close(), db.close(), close(ops, 1_000)]);
    logger.info('shutdown complete', { result, durationMs: Date.now() - started });
    process.exitCode = result === 'drained' ? 0 : 1;
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  console.error(JSON.stringify({ level: 'error', message: 'orders service failed to start', error: String(error?.stack ?? error) }));
  process.exit(1);
});
