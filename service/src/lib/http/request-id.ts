import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Takes the caller's X-Request-Id when it is sane, otherwise makes one; echoes it and keeps it for the logs. */
export function requestId(): Middleware {
  return (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = ACCEPTABLE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    return next();
  };
}
