/**
 * The public API's route templates: the service registers exactly these, and they are the `http_route` label values
 * that alert rules, dashboards and load tests select on.
 */
export const ROUTES = {
  listProducts: { method: 'GET', route: '/api/products' },
  getProduct: { method: 'GET', route: '/api/products/:id' },
  getBalance: { method: 'GET', route: '/api/users/:id/balance' },
  chargeBalance: { method: 'POST', route: '/api/users/:id/balance/charge' },
  placeOrder: { method: 'POST', route: '/api/orders' },
  cancelOrder: { method: 'POST', route: '/api/orders/:id/cancel' },
  orderStatus: { method: 'GET', route: '/api/orders/status' },
  popularProducts: { method: 'GET', route: '/api/orders/popular' },
} as const;

export type RouteKey = keyof typeof ROUTES;
export type RouteTemplate = (typeof ROUTES)[RouteKey]['route'];

/** `http_route` of requests that matched no route. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Every route template the service registers. */
export const ROUTE_TEMPLATES: readonly RouteTemplate[] = [...new Set(Object.values(ROUTES).map((r) => r.route))];
/** Every value the `http_route` label can take: the templates, and `unmatched`. */
export const HTTP_ROUTE_LABEL_VALUES: readonly string[] = [...ROUTE_TEMPLATES, UNMATCHED_ROUTE];

/** The incident guide's two named endpoints (slower than the latency threshold is an incident). */
export const POPULAR_ROUTE = ROUTES.popularProducts.route;
export const STATUS_ROUTE = ROUTES.orderStatus.route;

/** The key endpoints whose failures are a Major incident on their own. */
export const KEY_ROUTES: readonly RouteTemplate[] = [
  ROUTES.placeOrder.route,
  ROUTES.cancelOrder.route,
  STATUS_ROUTE,
  POPULAR_ROUTE,
];
