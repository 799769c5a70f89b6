import { createHash } from 'node:crypto';
import { AppError, conflict, notFound } from '../../lib/app-error';
import type { Database } from '../../infra/database';
import type { Metrics } from '../../telemetry/metrics';
import type { PlaceOrderRequest, PlacedOrder, PricedOrderLine } from './model';
import type { LockedProduct, OrderRepository } from './repository';

export interface PlaceOrderResult {
  order: PlacedOrder;
  replayed: boolean;
}

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

  return async function placeOrder(request: PlaceOrderRequest, idempotencyKey?: string): Promise<PlaceOrderResult> {
    const requestHash = idempotencyKey ? requestFingerprint(request) : undefined;
    try {
      const result = await db.transaction('place_order', async (t) => {
        if (idempotencyKey) {
          if (!(await orders.tryLockIdempotencyKey(t, idempotencyKey))) {
            throw conflict('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed');
          }
          const earlier = await orders.findByIdempotencyKey(t, idempotencyKey);
          if (earlier) {
            if (earlier.requestHash !== requestHash) {
              throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request');
            }
            const items = await orders.findItems(earlier.orderId, t);
            // The replay is the response the first request got: the order as it was when placed.
            return {
              replayed: true,
              order: {
                orderId: earlier.orderId,
                userId: earlier.userId,
                status: 'PAID' as const,
                totalAmount: earlier.totalAmount,
                items,
                createdAt: earlier.createdAt,
                paidAt: earlier.paidAt ?? earlier.createdAt,
              },
            };
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
        const inserted = await orders.insertPaidOrder(t, { userId: request.userId, totalAmount, idempotencyKey, requestHash });
        await orders.insertItems(t, inserted.id, lines);
        await orders.addDailySales(t, inserted.paidAt, businessTimeZone, lines);
        return {
          replayed: false,
          order: {
            orderId: inserted.id,
            userId: request.userId,
            status: 'PAID' as const,
            totalAmount,
            items: lines,
            createdAt: inserted.createdAt,
            paidAt: inserted.paidAt,
          },
        };
      });
      if (!result.replayed) metrics.ordersCreated.inc();
      return result;
    } catch (error) {
      if (error instanceof AppError && error.status < 500) metrics.ordersRejected.labels(error.code).inc();
      throw error;
    }
  };
}

export type PlaceOrder = ReturnType<typeof createPlaceOrder>;
