/**
 * The few plain HTTP calls around a run: discovering ids from the public API before it, and applying / clearing an
 * incident drill on the ops port. Every failure here is a setup problem (exit status 2), never a verdict.
 */
import type { DrillBody, Need, ScenarioData } from './scenarios';

/** A problem with how the tool was called or what it talks to: one clear line, exit status 2. */
export class SetupError extends Error {
  override name = 'SetupError';
}

const SETUP_TIMEOUT_MS = 10_000;

interface JsonResponse {
  status: number;
  body: unknown;
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return `no answer within ${SETUP_TIMEOUT_MS / 1000} s`;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

export async function requestJson(
  url: string,
  what: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<JsonResponse> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(SETUP_TIMEOUT_MS) });
  } catch (error) {
    throw new SetupError(`${what} is not reachable at ${new URL(url).origin} (${describeFetchError(error)})`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

const errorText = (body: unknown) => {
  const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return error ? `${error.code ?? ''} ${error.message ?? ''}`.trim() : JSON.stringify(body)?.slice(0, 200);
};

const START_HINT = 'start it (docker compose up -d, or npm start with DATABASE_URL and REDIS_URL) or pass --base-url';

/**
 * Finds the ids the scenario's requests need from the API itself: product ids from GET /api/products?limit=100
 * (always called: it is also the reachability check), and existing order ids from the status of random users' orders.
 */
export async function discover(
  baseUrl: string,
  needs: ReadonlySet<Need>,
  users: number,
  random: () => number,
): Promise<ScenarioData> {
  let products: JsonResponse;
  try {
    products = await requestJson(`${baseUrl}/api/products?limit=100`, 'the service');
  } catch (error) {
    if (error instanceof SetupError) throw new SetupError(`${error.message}: ${START_HINT}`);
    throw error;
  }
  if (products.status !== 200) {
    throw new SetupError(`GET /api/products?limit=100 answered ${products.status} (${errorText(products.body)}): is the service healthy?`);
  }
  const productIds = ((products.body as { products?: { id?: unknown }[] } | null)?.products ?? [])
    .map((p) => p.id)
    .filter((id): id is number => typeof id === 'number');
  if (needs.has('products') && productIds.length === 0) {
    throw new SetupError('the service has no products: seed it (docker compose --profile seed run --rm seed, or npm run db:seed)');
  }

  const orderIds = new Set<number>();
  if (needs.has('orders')) {
    const attempts = 40;
    for (let batch = 0; batch < attempts / 8 && orderIds.size < 200; batch++) {
      const userIds = Array.from({ length: 8 }, () => 1 + Math.floor(random() * users));
      const answers = await Promise.all(
        userIds.map((userId) => requestJson(`${baseUrl}/api/orders/status?userId=${userId}&limit=20`, 'the service')),
      );
      for (const answer of answers) {
        if (answer.status >= 500) {
          throw new SetupError(`GET /api/orders/status answered ${answer.status} (${errorText(answer.body)}): is the service healthy?`);
        }
        for (const order of (answer.body as { orders?: { orderId?: unknown }[] } | null)?.orders ?? []) {
          if (typeof order.orderId === 'number') orderIds.add(order.orderId);
        }
      }
    }
    if (orderIds.size === 0) {
      throw new SetupError(
        `no orders found for ${attempts} random users in 1..${users}: seed the service (docker compose --profile seed run --rm seed) or pass --users with the number of seeded users`,
      );
    }
  }
  return { productIds, orderIds: [...orderIds], users };
}

const authHeaders = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

function drillFailure(status: number, body: unknown): SetupError {
  if (status === 401) return new SetupError('the admin token was refused by the ops port (401): pass the service\'s ADMIN_TOKEN with --admin-token or ADMIN_TOKEN');
  if (status === 404) {
    return new SetupError(
      `drills are not available on the ops port (404 ${errorText(body)}): start the service with ADMIN_TOKEN set and FAULTS_ENABLED=true (never in production), and check --ops-url`,
    );
  }
  return new SetupError(`the ops port answered ${status} to the drill (${errorText(body)})`);
}

/** PUT /admin/drills; returns the names of the drills the service reports active. */
export async function applyDrill(opsUrl: string, token: string, drill: DrillBody): Promise<string[]> {
  const answer = await requestJson(`${opsUrl}/admin/drills`, 'the ops port', {
    method: 'PUT',
    headers: authHeaders(token),
    body: JSON.stringify(drill),
  });
  if (answer.status !== 200) throw drillFailure(answer.status, answer.body);
  const active = (answer.body as { active?: unknown } | null)?.active;
  return Array.isArray(active) ? active.filter((name): name is string => typeof name === 'string') : [];
}

/** DELETE /admin/drills: clears every drill. */
export async function clearDrill(opsUrl: string, token: string): Promise<void> {
  const answer = await requestJson(`${opsUrl}/admin/drills`, 'the ops port', { method: 'DELETE', headers: authHeaders(token) });
  if (answer.status !== 200) throw drillFailure(answer.status, answer.body);
}
