import type Router from '@koa/router';
import { ROUTES } from '../../../../contract/routes';
import { z } from 'zod';
import { notFound } from '../../lib/app-error';
import { readJsonBody } from '../../lib/http/json-body';
import { idParam, validate } from '../../lib/http/validate';
import type { UserRepository } from './repository';

export const MAX_CHARGE_AMOUNT = 10_000_000;

const chargeBody = z.strictObject({
  amount: z
    .number({ error: 'must be a number' })
    .int('must be an integer number of KRW')
    .min(1, 'must be at least 1')
    .max(MAX_CHARGE_AMOUNT, `must be at most ${MAX_CHARGE_AMOUNT}`),
});

export function registerUserRoutes(router: Router, users: UserRepository): void {
  const userNotFound = (id: number) => notFound('USER_NOT_FOUND', `User ${id} does not exist`);

  router.get(ROUTES.getBalance.route, async (ctx) => {
    const id = validate(idParam, ctx.params.id, 'params.id');
    const balance = await users.findBalance(id);
    if (!balance) throw userNotFound(id);
    ctx.body = balance;
  });

  router.post(ROUTES.chargeBalance.route, async (ctx) => {
    const id = validate(idParam, ctx.params.id, 'params.id');
    const { amount } = validate(chargeBody, await readJsonBody(ctx), 'body');
    const balance = await users.charge(id, amount);
    if (!balance) throw userNotFound(id);
    ctx.body = balance;
  });

}
