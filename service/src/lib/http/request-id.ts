import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's X-Request-Id when it is sane, otherwise a new one. */
export function requestIdFor(incoming: string | undefined): string {
  return incoming !== undefined && ACCEPTABLE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Takes or makes the request id, echoes it and keeps it for the logs. */
export function requestId(): Middleware {
  return (ctx, next) => {
    const id = requestIdFor(ctx.get('x-request-id'));
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    return next();
  };
}
