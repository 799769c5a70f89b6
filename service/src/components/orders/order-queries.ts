import { notFound } from '../../lib/app-error';
import type { CachedJson, JsonCache } from '../../infra/cache';
import type { OrderStatusView } from './model';
import type { OrderRepository } from './repository';

/** Every key of the popular-products cache starts with this (what DELETE /admin/cache/popular purges). */
export const POPULAR_CACHE_KEY_PREFIX = 'popular:';

/** The cache key of one ranking: the business time zone (its days), the window in days and the number of products. */
export const popularCacheKey = (businessTimeZone: string, days: number, limit: number): string =>
  `${POPULAR_CACHE_KEY_PREFIX}v1:${businessTimeZone}:${days}:${limit}`;

export function createOrderQueries(deps: {
  orders: OrderRepository;
  popularCache: JsonCache;
  popularCacheTtlSeconds: number;
  businessTimeZone: string;
}) {
  const { orders, popularCache, popularCacheTtlSeconds, businessTimeZone } = deps;

  return {
    async statusOfOrder(orderId: number): Promise<OrderStatusView> {
      const order = await orders.statusById(orderId);
      if (!order) throw notFound('ORDER_NOT_FOUND', `Order ${orderId} does not exist`);
      return order;
    },

    async statusOfUserOrders(userId: number, limit: number): Promise<{ userId: number; orders: OrderStatusView[] }> {
      const found = await orders.statusByUser(userId, limit);
      // Only an empty page needs the extra look-up that tells "no orders yet" from "no such user".
      if (found.length === 0 && !(await orders.userExists(userId))) {
        throw notFound('USER_NOT_FOUND', `User ${userId} does not exist`);
      }
      return { userId, orders: found };
    },

    /** The ranking as cached serialized JSON (bytes, ETag, expiry), sent as stored without parsing or re-serializing. */
    popularProductsJson(days: number, limit: number): Promise<CachedJson> {
      return popularCache.getOrLoad(popularCacheKey(businessTimeZone, days, limit), popularCacheTtlSeconds, async () =>
        JSON.stringify(await orders.popularProducts(days, limit, businessTimeZone)),
      );
    },
  };
}

export type OrderQueries = ReturnType<typeof createOrderQueries>;
