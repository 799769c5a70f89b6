import { createHash } from 'node:crypto';
import { AppError, conflict, notFound, type ErrorCode } from '../../lib/app-error';
import type { Database } from '../../infra/database';
import type { Metrics } from '../../telemetry/metrics';
import { IDEMPOTENCY_KEY_RETENTION_HOURS, type PlaceOrderRequest, type PlacedOrder, type PricedOrderLine, type StoredResponse } from './model';
import type { LockedProduct, OrderRepository } from './repository';

export interface PlaceOrderResult {
  /** The response to send: for a replay, the one stored when the key was first used, unchanged. */
  response: StoredResponse;
  replayed: boolean;
}

/** The one serialisation of a placed order: what is sent and, with an Idempotency-Key, what is kept for replays. */
export function placedOrderResponse(order: PlacedOrder): StoredResponse {
  return { status: 201, contentType: 'application/json; charset=utf-8', body: JSON.stringify(order) };
}

const UNIQUE_VIOLATION = '23505';
const IDEMPOTENCY_KEYS_PRIMARY_KEY = 'idempotency_keys_pkey';
/** Why a placement is refused (the `reason` of orders_rejected_total); each is exported at 0 from the start. */
export const ORDER_REJECTION_REASONS = [
  'PRODUCT_NOT_FOUND',
  'OUT_OF_STOCK',
  'USER_NOT_FOUND',
  'INSUFFICIENT_BALANCE',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_IN_PROGRESS',
] as const satisfies readonly ErrorCode[];

const inProgress = () => conflict('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed');

/** The same request, whatever order its items were listed in, hashes the same. */
export function requestFingerprint(request: PlaceOrderRequest): string {
  const items = [...request.items].sort((a, b) => a.productId - b.productId);
  return createHash('sha256').update(JSON.stringify({ userId: request.userId, items })).digest('hex');
}

/** Prices each line at the product's current price and checks stock; pure, so it is unit-tested alone. */
export function priceLines(
  request: PlaceOrderRequest,
  products: LockedProduct[],
): { lines: PricedOrderLine[]; totalAmount: number } {
  const byId = new Map(products.map((product) => [product.id, product]));
  const missing = request.items.filter((item) => !byId.has(item.productId));
  if (missing.length > 0) {
    throw new AppError(404, 'PRODUCT_NOT_FOUND', `Product ${missing.map((m) => m.productId).join(', ')} does not exist`,
      missing.map((m) => ({ field: 'items.productId', productId: m.productId, message: 'does not exist' })));
  }
  const short = request.items.filter((item) => byId.get(item.productId)!.stock < item.quantity);
  if (short.length > 0) {
    throw conflict('OUT_OF_STOCK', 'Not enough stock for the requested quantity',
      short.map((item) => ({
        productId: item.productId,
        requested: item.quantity,
        available: byId.get(item.productId)!.stock,
        message: 'not enough stock',
      })));
  }
  const lines = request.items.map((item) => ({ ...item, unitPrice: byId.get(item.productId)!.price }));
  const totalAmount = lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
  return { lines, totalAmount };
}

export function createPlaceOrder(deps: {
  db: Database;
  orders: OrderRepository;
  metrics: Metrics;
  businessTimeZone: string;
}) {
  const { db, orders, metrics, businessTimeZone } = deps;
  for (const reason of ORDER_REJECTION_REASONS) metrics.ordersRejected.labels(reason).inc(0);

  /**
   * Places and pays an order in one transaction. With an Idempotency-Key (already validated: 1-128 visible ASCII
   * characters), the key is scoped to the caller (`request.userId`) and kept for IDEMPOTENCY_KEY_RETENTION_HOURS:
   * the first request that succeeds stores its response with the order, atomically; a later request with the same
   * caller, key and fingerprint gets that response back (`replayed`), one with another body gets 422
   * IDEMPOTENCY_KEY_REUSED, one while the first is still running gets 409 IDEMPOTENCY_IN_PROGRESS. A refused request
   * stores nothing, so its key stays free for the retry. Throws AppError (404 USER_NOT_FOUND/PRODUCT_NOT_FOUND,
   * 409 OUT_OF_STOCK/INSUFFICIENT_BALANCE, and the database answers of infra/database.ts).
   */
  return async function placeOrder(request: PlaceOrderRequest, idempotencyKey?: string): Promise<PlaceOrderResult> {
    const requestHash = requestFingerprint(request);
    try {
      const result = await db.transaction('place_order', async (t): Promise<PlaceOrderResult> => {
        if (idempotencyKey !== undefined) {
          // The advisory lock is held until commit, so a second request with this key either sees the stored
          // response or is told the first is in progress; the table's primary key is the last word across instances.
          if (!(await orders.tryLockIdempotencyKey(t, request.userId, idempotencyKey))) throw inProgress();
          await orders.forgetExpiredIdempotencyKeys(t, request.userId, IDEMPOTENCY_KEY_RETENTION_HOURS);
          const earlier = await orders.findIdempotentResponse(t, request.userId, idempotencyKey);
          if (earlier) {
            if (earlier.requestHash !== requestHash) {
              throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request');
            }
            return { replayed: true, response: earlier.response };
          }
        }
        if (!(await orders.userExists(request.userId, t))) {
          throw notFound('USER_NOT_FOUND', `User ${request.userId} does not exist`);
        }
        const products = await orders.lockProducts(t, request.items.map((item) => item.productId));
        const { lines, totalAmount } = priceLines(request, products);
        await orders.adjustStock(t, lines, -1);
        if (!(await orders.debitBalance(t, request.userId, totalAmount))) {
          throw conflict('INSUFFICIENT_BALANCE', `Balance does not cover the order total of ${totalAmount} KRW`, [
            { field: 'userId', message: 'insufficient balance', required: totalAmount },
          ]);
        }
        const inserted = await orders.insertPaidOrder(t, { userId: request.userId, totalAmount });
        await orders.insertItems(t, inserted.id, lines);
        await orders.addDailySales(t, inserted.paidAt, businessTimeZone, lines);
        const response = placedOrderResponse({
          orderId: inserted.id,
          userId: request.userId,
          status: 'PAID',
          totalAmount,
          items: lines,
          createdAt: inserted.createdAt,
          paidAt: inserted.paidAt,
        });
        if (idempotencyKey !== undefined) {
          await orders.storeIdempotentResponse(t, {
            userId: request.userId,
            key: idempotencyKey,
            requestHash,
            orderId: inserted.id,
            response,
          });
        }
        return { replayed: false, response };
      });
      if (!result.replayed) metrics.ordersCreated.inc();
      return result;
    } catch (raw) {
      const error = isUniqueViolation(raw) ? inProgress() : raw;
      if (error instanceof AppError && error.status < 500) metrics.ordersRejected.labels(error.code).inc();
      throw error;
    }
  };
}

/** Two transactions stored the same caller's key at once (the lock makes it unlikely; the key decides). */
function isUniqueViolation(error: unknown): boolean {
  const parent = (error as { parent?: { code?: string; constraint?: string } })?.parent;
  return parent?.code === UNIQUE_VIOLATION && parent.constraint === IDEMPOTENCY_KEYS_PRIMARY_KEY;
}

export type PlaceOrder = ReturnType<typeof createPlaceOrder>;
