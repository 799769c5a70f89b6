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

/** Names of the service's caches (label `cache` of cache_requests_total). */
export const CACHES = {
  popular: 'popular_products',
} as const;
