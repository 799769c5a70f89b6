/** Names of the hot database queries (label `query` of db_query_duration_seconds). */
export const QUERIES = {
  popularProducts: 'popular_products',
  orderStatusById: 'order_status_by_id',
  orderStatusByUser: 'order_status_by_user',
} as const;

/**
 * The named database queries behind the incident guide's two endpoints. Drills slow them down, the
 * OrdersDatabaseQuerySlow alert and the Incidents dashboard watch them.
 */
export const HOT_QUERIES = {
  popular: [QUERIES.popularProducts],
  status: [QUERIES.orderStatusById, QUERIES.orderStatusByUser],
} as const;

export const ALL_HOT_QUERIES: readonly string[] = [...HOT_QUERIES.popular, ...HOT_QUERIES.status];

/**
 * The index a hot query cannot do without (migration 0002 creates it; service/docs/queries.md has the plans): the
 * status of a user's orders is an index-ordered scan that stops after LIMIT rows with it, a sequential scan of every
 * order without it (the guide's 3.2). `incident investigate` checks that it exists and is valid.
 */
export const HOT_QUERY_INDEXES = [
  { name: 'orders_user_id_created_at_idx', table: 'orders', columns: '(user_id, created_at DESC, id DESC)', query: QUERIES.orderStatusByUser },
] as const;
export type HotQueryIndex = (typeof HOT_QUERY_INDEXES)[number];

/**
 * The runbook's 근본 조치 for a missing or invalid hot-query index: rebuilt without blocking writes (CONCURRENTLY; an
 * invalid one, left by a failed concurrent build, is dropped first). Two statements, each outside a transaction.
 */
export const rebuildIndexStatements = (index: HotQueryIndex): [string, string] => [
  `DROP INDEX CONCURRENTLY IF EXISTS ${index.name}`,
  `CREATE INDEX CONCURRENTLY ${index.name} ON ${index.table} ${index.columns}`,
];

/** Names of the service's caches (label `cache` of cache_requests_total). */
export const CACHES = {
  popular: 'popular_products',
} as const;
