/**
 * Orders · Dependencies: PostgreSQL and Redis as their exporters see them, from the server side. The service's own
 * view of them (pool, db_up, redis_connected) is on the Incidents dashboard.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { PANELS } from '../../../contract';
import { RATE_INTERVAL, baseDashboard, defaultTimeseries, promQuery, rate, ratioTimeseries, row, upStat } from './common';

const P = PANELS.dependencies;

const EXTRA = {
  rowPostgres: 400,
  rowRedis: 401,
  postgresBufferHitRatio: 410,
  postgresDeadlocks: 411,
  redisKeyspaceHitRatio: 510,
} as const;

const POSTGRES = 'job="postgres-exporter"';
/** The service's database. */
const ORDERS_DB = `${POSTGRES},datname="orders"`;
const REDIS = 'job="redis-exporter"';

const dashed = [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }];

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL

export function postgresUpPanel(): stat.PanelBuilder {
  return upStat()
    .id(P.postgresUp)
    .title('PostgreSQL up')
    .description('`pg_up` from postgres_exporter: whether the exporter can query the server. No data: the exporter itself is down.')
    .noValue('no data (exporter down?)')
    .withTarget(promQuery(`pg_up{${POSTGRES}}`, { legend: '{{instance}}' }))
    .span(4);
}

export function postgresConnectionsPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(P.postgresConnections)
    .title('PostgreSQL connections vs max_connections')
    .description('Server backends (all databases and the orders database) against the server-wide max_connections.')
    .unit('short')
    .decimals(0)
    .min(0)
    .withTarget(promQuery(`sum(pg_stat_database_numbackends{${POSTGRES}})`, { legend: 'all databases', refId: 'A' }))
    .withTarget(promQuery(`sum(pg_stat_database_numbackends{${ORDERS_DB}})`, { legend: 'orders', refId: 'B' }))
    .withTarget(promQuery(`max(pg_settings_max_connections{${POSTGRES}})`, { legend: 'max_connections', refId: 'C' }))
    .overrideByQuery('C', dashed)
    .span(10);
}

export function postgresTransactionsPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(P.postgresTransactions)
    .title('PostgreSQL transactions/s (orders)')
    .description('Commits and rollbacks per second in the orders database. Rollbacks include rejected orders.')
    .unit('ops')
    .min(0)
    .withTarget(promQuery(`sum(${rate('pg_stat_database_xact_commit', ORDERS_DB)})`, { legend: 'commit', refId: 'A' }))
    .withTarget(promQuery(`sum(${rate('pg_stat_database_xact_rollback', ORDERS_DB)})`, { legend: 'rollback', refId: 'B' }))
    .span(10);
}

export function postgresLocksPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(P.postgresLocks)
    .title('PostgreSQL locks by mode (orders)')
    .description('Locks held in the orders database, by mode. Row-exclusive locks follow writes; others growing means waits.')
    .unit('short')
    .decimals(0)
    .min(0)
    .withTarget(promQuery(`sum by (mode) (pg_locks_count{${ORDERS_DB}})`, { legend: '{{mode}}' }))
    .span(8);
}

export function postgresBufferHitRatioPanel(): timeseries.PanelBuilder {
  const hit = `sum(${rate('pg_stat_database_blks_hit', ORDERS_DB)})`;
  const read = `sum(${rate('pg_stat_database_blks_read', ORDERS_DB)})`;
  return ratioTimeseries()
    .id(EXTRA.postgresBufferHitRatio)
    .title('PostgreSQL buffer cache hit ratio (orders)')
    .description('Share of block reads served from shared buffers. A drop means queries read from disk.')
    .withTarget(promQuery(`${hit}\n/ (${hit} + ${read})`, { legend: 'buffer hit ratio' }))
    .span(8);
}

export function postgresDeadlocksPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(EXTRA.postgresDeadlocks)
    .title('PostgreSQL deadlocks (orders)')
    .description('Deadlocks detected per interval in the orders database. Any is worth a look at the order transaction.')
    .unit('short')
    .min(0)
    .withTarget(
      promQuery(`sum(increase(pg_stat_database_deadlocks{${ORDERS_DB}}[${RATE_INTERVAL}]))`, { legend: 'deadlocks' }),
    )
    .span(8);
}

// ---------------------------------------------------------------------------------------------------------------
// Redis

export function redisUpPanel(): stat.PanelBuilder {
  return upStat()
    .id(P.redisUp)
    .title('Redis up')
    .description('`redis_up` from redis_exporter. No data: the exporter itself is down.')
    .noValue('no data (exporter down?)')
    .withTarget(promQuery(`redis_up{${REDIS}}`, { legend: '{{instance}}' }))
    .span(4);
}

export function redisMemoryPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(P.redisMemory)
    .title('Redis memory used')
    .description('Memory Redis reports in use.')
    .unit('bytes')
    .min(0)
    .withTarget(promQuery(`redis_memory_used_bytes{${REDIS}}`, { legend: 'used {{instance}}' }))
    .span(10);
}

export function redisCommandsPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(P.redisCommands)
    .title('Redis commands/s')
    .description('Commands processed per second.')
    .unit('ops')
    .min(0)
    .withTarget(promQuery(`sum(${rate('redis_commands_processed_total', REDIS)})`, { legend: 'commands' }))
    .span(10);
}

export function redisClientsPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(P.redisClients)
    .title('Redis connected clients')
    .description('Client connections open to Redis (the service holds one, plus the exporter).')
    .unit('short')
    .decimals(0)
    .min(0)
    .withTarget(promQuery(`redis_connected_clients{${REDIS}}`, { legend: 'clients {{instance}}' }))
    .span(12);
}

export function redisKeyspaceHitRatioPanel(): timeseries.PanelBuilder {
  const hits = `sum(${rate('redis_keyspace_hits_total', REDIS)})`;
  const misses = `sum(${rate('redis_keyspace_misses_total', REDIS)})`;
  return ratioTimeseries()
    .id(EXTRA.redisKeyspaceHitRatio)
    .title('Redis keyspace hit ratio')
    .description('Share of key look-ups that found the key, server-wide (all caches).')
    .withTarget(promQuery(`${hits}\n/ (${hits} + ${misses})`, { legend: 'keyspace hit ratio' }))
    .span(12);
}

export function dependenciesDashboard(): dashboard.DashboardBuilder {
  return baseDashboard('dependencies', 'PostgreSQL and Redis from their exporters.')
    .withRow(row(EXTRA.rowPostgres, 'PostgreSQL'))
    .withPanel(postgresUpPanel().height(8))
    .withPanel(postgresConnectionsPanel())
    .withPanel(postgresTransactionsPanel())
    .withPanel(postgresLocksPanel())
    .withPanel(postgresBufferHitRatioPanel())
    .withPanel(postgresDeadlocksPanel())
    .withRow(row(EXTRA.rowRedis, 'Redis'))
    .withPanel(redisUpPanel().height(8))
    .withPanel(redisMemoryPanel())
    .withPanel(redisCommandsPanel())
    .withPanel(redisClientsPanel())
    .withPanel(redisKeyspaceHitRatioPanel());
}
