import { loadConfig } from '../config';
import { createDatabase } from '../infra/database';
import { migrateUp } from '../infra/migrator';
import { createLogger } from '../lib/logger';
import { createMetrics } from '../telemetry/metrics';

/** `npm run db:migrate`: applies pending migrations and exits; compose runs it before the service starts. */
async function run() {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level });
  const db = createDatabase({ ...config.database, acquireTimeoutMs: 10_000, statementTimeoutMs: 600_000 }, createMetrics());
  try {
    const applied = await migrateUp(db.sequelize, logger);
    logger.info('migrations applied', { applied });
  } finally {
    await db.close();
  }
}

run().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
