/**
 * The named database queries behind the incident guide's two endpoints. Drills slow them down, the
 * OrdersDatabaseQuerySlow alert and the Incidents dashboard watch them (label `query` of db_query_duration_seconds).
 */
export const HOT_QUERIES = {
  popular: ['popular_products'],
  status: ['order_status_by_id', 'order_status_by_user'],
} as const;

export const ALL_HOT_QUERIES: readonly string[] = [...HOT_QUERIES.popular, ...HOT_QUERIES.status];
