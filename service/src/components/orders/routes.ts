import type Router from '@koa/router';
import { ROUTES } from '../../../../contract/routes';
import { z } from 'zod';
import { readJsonBody } from '../../lib/http/json-body';
import { idNumber, idParam, intParam, rememberedQuery, validate } from '../../lib/http/validate';
import { sendCacheable } from '../../lib/http/cacheable';
import type { CancelOrder } from './cancel-order';
import type { OrderQueries } from './order-queries';
import type { PlaceOrder } from './place-order';

export const ORDER_LIMITS = { maxItems: 20, maxQuantity: 100 } as const;

const placeOrderBody = z.strictObject({
  userId: idNumber,
  items: z
    .array(
      z.strictObject({
        productId: idNumber,
        quantity: z
          .number({ error: 'must be a number' })
          .int('must be an integer')
          .min(1, 'must be at least 1')
          .max(ORDER_LIMITS.maxQuantity, `must be at most ${ORDER_LIMITS.maxQuantity}`),
      }),
      { error: 'must be an array' },
    )
    .min(1, 'must contain at least one item')
    .max(ORDER_LIMITS.maxItems, `must contain at most ${ORDER_LIMITS.maxItems} items`)
    .refine((items) => new Set(items.map((item) => item.productId)).size === items.length, 'must not repeat a productId'),
});

const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,128}$/, 'must be 1 to 128 visible ASCII characters')
  .optional();

const statusQuery = z
  .strictObject({ orderId: idParam.optional(), userId: idParam.optional(), limit: z.string().optional() })
  .refine((q) => (q.orderId === undefined) !== (q.userId === undefined), 'give exactly one of orderId or userId')
  .refine((q) => q.orderId === undefined || q.limit === undefined, { message: 'applies only with userId', path: ['limit'] });
const statusLimit = intParam(1, 100, 20);

const popularQuery = z.strictObject({ days: intParam(1, 30, 3), limit: intParam(1, 50, 5) });

/** Registers the order routes. */
export function registerOrderRoutes(
  router: Router,
  deps: { placeOrder: PlaceOrder; cancelOrder: CancelOrder; queries: OrderQueries },
): void {
  const { placeOrder, cancelOrder, queries } = deps;

  router.post(ROUTES.placeOrder.route, async (ctx) => {
    // Present means present: an empty key is a 400, never "no key". Node's parser already strips the optional
    // whitespace (SP, HTAB) around a field value (RFC 9110 §5.5); nothing else is trimmed (U+00A0 is not OWS).
    const key = validate(idempotencyKey, ctx.req.headers['idempotency-key'], 'headers.Idempotency-Key');
    const request = validate(placeOrderBody, await readJsonBody(ctx), 'body');
    const { response, replayed } = await placeOrder(request, key);
    if (replayed) ctx.set('Idempotent-Replayed', 'true');
    ctx.status = response.status;
    ctx.type = response.contentType;
    ctx.body = response.body;
  });

  router.post(ROUTES.cancelOrder.route, async (ctx) => {
    const id = validate(idParam, ctx.params.id, 'params.id');
    ctx.body = await cancelOrder(id);
  });

  router.get(ROUTES.orderStatus.route, async (ctx) => {
    const query = validate(statusQuery, ctx.query, 'query');
    ctx.body =
      query.orderId !== undefined
        ? await queries.statusOfOrder(query.orderId)
        : await queries.statusOfUserOrders(query.userId!, validate(statusLimit, query.limit, 'query.limit'));
  });

  const popularQueries = rememberedQuery(popularQuery);
  router.get(ROUTES.popularProducts.route, async (ctx) => {
    const { days, limit } = popularQueries.of(ctx);
    sendCacheable(ctx, await queries.popularProductsJson(days, limit));
  });
}
