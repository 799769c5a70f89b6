import type Router from '@koa/router';
import { ROUTES } from '../../../../contract/routes';
import { z } from 'zod';
import { notFound } from '../../lib/app-error';
import { idParam, intParam, validate } from '../../lib/http/validate';
import type { ProductRepository } from './repository';

const listQuery = z.strictObject({ limit: intParam(1, 100, 20), offset: intParam(0, 1_000_000, 0) });

export function registerProductRoutes(router: Router, products: ProductRepository): void {

  router.get(ROUTES.listProducts.route, async (ctx) => {
    const { limit, offset } = validate(listQuery, ctx.query, 'query');
    ctx.body = { products: await products.list(limit, offset), limit, offset };
  });

  router.get(ROUTES.getProduct.route, async (ctx) => {
    const id = validate(idParam, ctx.params.id, 'params.id');
    const product = await products.findById(id);
    if (!product) throw notFound('PRODUCT_NOT_FOUND', `Product ${id} does not exist`);
    ctx.body = product;
  });

}
