import { conflict, notFound } from '../../lib/app-error';
import type { Database } from '../../infra/database';
import type { Metrics } from '../../telemetry/metrics';
import type { OrderRepository } from './repository';

/** Cancels a paid order: stock back, money back, sales rollup corrected, all in one transaction. */
export function createCancelOrder(deps: {
  db: Database;
  orders: OrderRepository;
  metrics: Metrics;
  businessTimeZone: string;
}) {
  const { db, orders, metrics, businessTimeZone } = deps;

  return async function cancelOrder(orderId: number): Promise<{ orderId: number; status: 'CANCELLED' }> {
    await db.transaction('cancel_order', async (t) => {
      const order = await orders.lockOrder(t, orderId);
      if (!order) throw notFound('ORDER_NOT_FOUND', `Order ${orderId} does not exist`);
      if (order.status !== 'PAID') {
        throw conflict('ORDER_NOT_CANCELLABLE', `Order ${orderId} is ${order.status}; only PAID orders can be cancelled`);
      }
      const lines = await orders.findItems(orderId, t);
      await orders.lockProducts(t, lines.map((line) => line.productId));
      await orders.adjustStock(t, lines, 1);
      await orders.creditBalance(t, order.userId, order.totalAmount);
      await orders.removeDailySales(t, order.paidAt ?? order.createdAt, businessTimeZone, lines);
      await orders.markCancelled(t, orderId);
    });
    metrics.ordersCancelled.inc();
    return { orderId, status: 'CANCELLED' };
  };
}

export type CancelOrder = ReturnType<typeof createCancelOrder>;
