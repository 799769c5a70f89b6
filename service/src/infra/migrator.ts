import type { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug, type RunnableMigration } from 'umzug';
import { initialSchema } from './migrations/0001-initial-schema';
import { hotQueryIndexes } from './migrations/0002-hot-query-indexes';
import { idempotencyKeys } from './migrations/0003-idempotency-keys';
import { incidentTimeline } from './migrations/0004-incident-timeline';
import { incidentActionCachePurged } from './migrations/0005-incident-action-cache-purged';

export type Migration = RunnableMigration<Sequelize>;

/** Listed explicitly rather than globbed, so the compiled service and the TypeScript sources run the same set. */
export const MIGRATIONS: Migration[] = [initialSchema, hotQueryIndexes, idempotencyKeys, incidentTimeline, incidentActionCachePurged];

const MIGRATION_TABLE = 'schema_migrations';

export function createMigrator(sequelize: Sequelize, logger?: { info(message: string, meta?: object): void }) {
  return new Umzug({
    migrations: MIGRATIONS,
    context: sequelize,
    storage: new SequelizeStorage({ sequelize, tableName: MIGRATION_TABLE }),
    logger: logger
      ? { info: (m) => logger.info('migration', m), warn: (m) => logger.info('migration', m), error: (m) => logger.info('migration', m), debug: () => {} }
      : undefined,
  });
}

/** The one code path that builds the schema: production start-up, compose, the seeder and the tests. */
export async function migrateUp(sequelize: Sequelize, logger?: Parameters<typeof createMigrator>[1]): Promise<string[]> {
  const applied = await createMigrator(sequelize, logger).up();
  return applied.map((migration) => migration.name);
}

/** True when every known migration has been applied; the readiness probe asks this. */
export async function isSchemaCurrent(sequelize: Sequelize): Promise<boolean> {
  const [rows] = await sequelize.query(`SELECT count(*)::int AS n FROM "${MIGRATION_TABLE}" WHERE name = ANY($1::text[])`, {
    bind: [MIGRATIONS.map((m) => m.name)],
  });
  return (rows as { n: number }[])[0]?.n === MIGRATIONS.length;
}
