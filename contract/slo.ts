/**
 * The incident guide's latency threshold: GET /api/orders/popular and /api/orders/status slower than this are an
 * incident. Histogram buckets, alert rules, dashboards and load tests all read it from here.
 */
export const LATENCY_THRESHOLD_SECONDS = 1;

/** Request duration buckets: fine below the threshold, the threshold itself, and a few above it. */
export const HTTP_DURATION_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, LATENCY_THRESHOLD_SECONDS, 2.5, 5, 10,
];

export const DB_QUERY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The two service-level indicators: non-5xx answers, and answers within the latency threshold on the named routes. */
export type Sli = 'availability' | 'latency';

/** Name of the recording rule with the share of bad requests (5xx, or slower than the threshold) over `window`. */
export const sloRecord = (sli: Sli, window: string) =>
  sli === 'availability' ? `slo:http_requests_errors:ratio_rate${window}` : `slo:http_requests_slow:ratio_rate${window}`;
/** Name of the recording rule with the request rate over `window` (req/s), the low-traffic guard. */
export const sloRequestsRecord = (sli: Sli, window: string) =>
  sli === 'availability' ? `slo:http_requests:rate${window}` : `slo:http_requests_route:rate${window}`;
