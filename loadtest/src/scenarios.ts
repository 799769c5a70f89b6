import { POPULAR_ROUTE, ROUTES, STATUS_ROUTE } from '../../contract';

/** Ids the scenarios draw from, discovered from the API itself before the run (service-api.ts). */
export interface ScenarioData {
  productIds: readonly number[];
  orderIds: readonly number[];
  /** Users are assumed to be 1..users (the seed numbers them so). */
  users: number;
}

export interface BuiltRequest {
  /** Path and query, starting with `/`. */
  path: string;
  /** JSON body, for POST. */
  body?: string;
}

export type Need = 'products' | 'orders';

export interface EndpointDef {
  /** Short stable key: report rows, summary.json, the pushed `endpoint` label. */
  id: string;
  /** What a reader sees in the report, e.g. `GET /api/orders/popular?days=3&limit=5`. */
  name: string;
  method: 'GET' | 'POST';
  /** The route template (contract ROUTES), as in the service's `http_route` label. */
  route: string;
  /** Share of the arrival rate in a mix (relative). */
  weight: number;
  /** Which discovered ids the requests use. */
  needs: readonly Need[];
  /** The next request, from the discovered ids and a random source in [0, 1). */
  build(data: ScenarioData, random: () => number): BuiltRequest;
  /** Error codes of 409 answers that are the business working as designed (counted apart from other 4xx). */
  expectedRejections?: readonly string[];
}

/** The body of PUT /admin/drills on the ops port (service/src/ops/admin-routes.ts). */
export interface DrillBody {
  queryLatencyMs?: { popular?: number; status?: number };
  cacheBypass?: 'popular_products'[];
  failingRoutes?: string[];
}

export interface Scenario {
  name: ScenarioName;
  description: string;
  endpoints: readonly EndpointDef[];
  /** Arrival rate (requests per second, over all endpoints) when `--rate` is not given. */
  defaultRate: number;
  /** An incident drill applied for the run and always cleared afterwards; such a run is expected to breach. */
  drill?: DrillBody;
  /** Names of the drills the service must report active once `drill` is applied (GET/PUT /admin/drills `active`). */
  expectActiveDrills?: readonly string[];
}

export const pick = <T>(items: readonly T[], random: () => number): T => {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[Math.min(items.length - 1, Math.floor(random() * items.length))] as T;
};
const between = (min: number, max: number, random: () => number) => min + Math.floor(random() * (max - min + 1));

export const ENDPOINTS = {
  popular: {
    id: 'popular',
    name: `GET ${POPULAR_ROUTE}?days=3&limit=5`,
    method: 'GET',
    route: POPULAR_ROUTE,
    weight: 25,
    needs: [],
    build: () => ({ path: `${POPULAR_ROUTE}?days=3&limit=5` }),
  },
  statusByOrder: {
    id: 'status-by-order',
    name: `GET ${STATUS_ROUTE}?orderId=<existing>`,
    method: 'GET',
    route: STATUS_ROUTE,
    weight: 20,
    needs: ['orders'],
    build: (data, random) => ({ path: `${STATUS_ROUTE}?orderId=${pick(data.orderIds, random)}` }),
  },
  statusByUser: {
    id: 'status-by-user',
    name: `GET ${STATUS_ROUTE}?userId=<random>&limit=20`,
    method: 'GET',
    route: STATUS_ROUTE,
    weight: 15,
    needs: [],
    build: (data, random) => ({ path: `${STATUS_ROUTE}?userId=${between(1, data.users, random)}&limit=20` }),
  },
  productList: {
    id: 'products',
    name: `GET ${ROUTES.listProducts.route}?limit=20`,
    method: 'GET',
    route: ROUTES.listProducts.route,
    weight: 15,
    needs: [],
    build: () => ({ path: `${ROUTES.listProducts.route}?limit=20` }),
  },
  product: {
    id: 'product',
    name: `GET ${ROUTES.getProduct.route}`,
    method: 'GET',
    route: ROUTES.getProduct.route,
    weight: 20,
    needs: ['products'],
    build: (data, random) => ({ path: `/api/products/${pick(data.productIds, random)}` }),
  },
  placeOrder: {
    id: 'place-order',
    name: `POST ${ROUTES.placeOrder.route}`,
    method: 'POST',
    route: ROUTES.placeOrder.route,
    weight: 5,
    needs: ['products'],
    build: (data, random) => {
      const count = Math.min(data.productIds.length, between(1, 3, random));
      const chosen = new Set<number>();
      while (chosen.size < count) chosen.add(pick(data.productIds, random));
      const items = [...chosen].map((productId) => ({ productId, quantity: between(1, 3, random) }));
      return { path: ROUTES.placeOrder.route, body: JSON.stringify({ userId: between(1, data.users, random), items }) };
    },
    // Random shoppers buying random products run into these by design; they are answers, not failures.
    expectedRejections: ['OUT_OF_STOCK', 'INSUFFICIENT_BALANCE'],
  },
} as const satisfies Record<string, EndpointDef>;

const E = ENDPOINTS;
const statusEndpoints = [{ ...E.statusByOrder, weight: 1 }, { ...E.statusByUser, weight: 1 }];

export const SCENARIO_NAMES = ['mixed', 'popular', 'status', 'incident-popular', 'incident-status'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  mixed: {
    name: 'mixed',
    description:
      'A shopper mix at a fixed arrival rate: mostly reads (popular ranking, order status by order and by user, product list and detail) and some orders placed for random users and products.',
    endpoints: [E.popular, E.statusByOrder, E.statusByUser, E.productList, E.product, E.placeOrder],
    defaultRate: 40,
  },
  popular: {
    name: 'popular',
    description: `Only ${E.popular.name}: the guide's incident 3.1 (인기 상품 조회 장애), under normal conditions.`,
    endpoints: [{ ...E.popular, weight: 1 }],
    defaultRate: 20,
  },
  status: {
    name: 'status',
    description: `Only GET ${STATUS_ROUTE}, half by orderId and half by userId: the guide's incident 3.2 (주문 상태 조회 장애), under normal conditions.`,
    endpoints: statusEndpoints,
    defaultRate: 20,
  },
  'incident-popular': {
    name: 'incident-popular',
    description: `The guide's incident 3.1 reproduced with the service's drill: the popular_products query held 1500 ms and the Redis cache not applied. Expected to FAIL: it proves the test can catch the incident.`,
    endpoints: [{ ...E.popular, weight: 1 }],
    defaultRate: 5,
    drill: { queryLatencyMs: { popular: 1500 }, cacheBypass: ['popular_products'] },
    expectActiveDrills: ['popular_latency', 'popular_cache_bypass'],
  },
  'incident-status': {
    name: 'incident-status',
    description: `The guide's incident 3.2 reproduced with the service's drill: the order status queries held 1500 ms. Expected to FAIL: it proves the test can catch the incident.`,
    endpoints: statusEndpoints,
    defaultRate: 6,
    drill: { queryLatencyMs: { status: 1500 } },
    expectActiveDrills: ['status_latency'],
  },
};

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}

/**
 * Splits a total arrival rate over endpoints by weight into whole requests per second (autocannon's rate unit), every
 * endpoint getting at least 1; largest remainders first, so the parts add up to the total (or to the endpoint count,
 * when the total is smaller).
 */
export function splitRate(total: number, weights: readonly number[]): number[] {
  if (weights.length === 0) return [];
  const budget = Math.max(Math.floor(total), weights.length);
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum > 0 ? (w / sum) * budget : budget / weights.length));
  const parts = exact.map((x) => Math.max(1, Math.floor(x)));
  let left = budget - parts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, rest: x - Math.floor(x) })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) parts[order[k]!.i]! += 1;
  // A floor of 1 can overshoot the budget: take it back from the largest parts.
  while (left < 0) {
    const largest = parts.indexOf(Math.max(...parts));
    parts[largest]! -= 1;
    left++;
  }
  return parts;
}

/** A small seeded PRNG (mulberry32), so a run's request sequence can be repeated with `--seed`. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
