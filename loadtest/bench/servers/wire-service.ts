import { createApp } from '../../../service/src/app';
import { loadConfig } from '../../../service/src/config';
import { createDatabase, type Database } from '../../../service/src/infra/database';
import { connectInBackground, createRedis } from '../../../service/src/infra/redis';
import { listen } from '../../../service/src/lib/http-server';
import { createLogger } from '../../../service/src/lib/logger';
import { createRequestContextStorage } from '../../../service/src/lib/request-context';
import { createDrills } from '../../../service/src/ops/drills';
import { createMetrics, type Metrics } from '../../../service/src/telemetry/metrics';

/**
 * Bench only: the real service, wired as service/src/main.ts wires it, with one part swapped by `alter`
 * (the database or the metrics), so a comparison changes exactly one thing.
 */
export function runAlteredService(what: string, alter: { db?: (db: Database) => Database; metrics?: (metrics: Metrics) => Metrics }): void {
  (async () => {
    const config = loadConfig();
    const requestContext = createRequestContextStorage();
    const logger = createLogger({ level: config.log.level, requestContext });
    const metrics = (alter.metrics ?? ((m) => m))(createMetrics());
    const drills = createDrills(metrics, logger, config.admin.faultsEnabled);
    const db = createDatabase(config.database, metrics, drills);
    const redis = createRedis(config.redis, metrics, logger);
    connectInBackground(redis, logger);
    const app = createApp({ config, db: (alter.db ?? ((d) => d))(db), redis, metrics, logger, requestContext, drills });
    await listen(app.api, config.http.port);
    await listen(app.ops, config.http.opsPort);
    logger.info(`bench: ${what} listening`, { port: config.http.port, opsPort: config.http.opsPort });
    process.once('SIGTERM', () => {
      void Promise.allSettled([redis.close(), db.close()]).then(() => process.exit(0));
    });
  })().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
