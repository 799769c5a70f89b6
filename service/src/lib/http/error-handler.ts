import type { Middleware } from 'koa';
import { AppError } from '../app-error';
import { serializeError, type Logger } from '../logger';
import { bounded } from '../text';

/** How a failed request is logged: level, message and the fields that say why (code, dbError, cause, error). */
export interface RequestFailure {
  level: 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/**
 * Where the error handler leaves a request's failure for the request log line (`ctx.state[REQUEST_FAILURE]`). When the
 * request telemetry is outside it, it sets `ctx.state[REQUEST_LINE] = true` and writes the one line the request gets
 * with these fields; without it (the ops port), the error handler logs the failure itself.
 */
export const REQUEST_FAILURE = 'requestFailure';
export const REQUEST_LINE = 'requestLine';

/**
 * Turns every error into the contract's error body, and says once why it failed: an expected failure of a
 * dependency (AppError with `log`) or an unavailable dependency is a warning with its cause, any other 5xx an error
 * with the stack, a 4xx a warning with its code. It sits inside the telemetry middleware, so a failed request is
 * measured and logged with the status it really got, in one line.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError(404, 'NOT_FOUND', `No route for ${ctx.method} ${bounded(ctx.path)}`);
      }
      // The router's answer to a method this path does not take (501 for one no route takes), with `Allow` set: a 405
      // keeping that header, or no route at all when nothing is allowed (a path no route serves).
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        const allow = ctx.response.get('Allow');
        if (!allow) {
          ctx.remove('Allow');
          throw new AppError(404, 'NOT_FOUND', `No route for ${ctx.method} ${bounded(ctx.path)}`);
        }
        throw new AppError(405, 'METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on this route; allowed: ${allow}`);
      }
    } catch (error) {
      const appError = toAppError(error);
      const failure = failureOf(appError, error);
      if (ctx.state[REQUEST_LINE]) ctx.state[REQUEST_FAILURE] = failure;
      else logger.log(failure.level, failure.message, failure.fields);
      ctx.status = appError.status;
      ctx.body = appError.toBody();
      if (appError.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(appError.retryAfterSeconds));
      else if (appError.status === 503) ctx.set('Retry-After', '1');
    }
  };
}

function failureOf(appError: AppError, error: unknown): RequestFailure {
  if (appError.log) {
    return { level: 'warn', message: appError.log.message, fields: { ...appError.log.fields, code: appError.code, cause: describe(appError.cause) } };
  }
  if (appError.code === 'SERVICE_UNAVAILABLE') {
    return { level: 'warn', message: 'dependency unavailable', fields: { code: appError.code, cause: describe(appError.cause) } };
  }
  if (appError.status >= 500) {
    return { level: 'error', message: 'request failed with a server error', fields: { code: appError.code, error: serializeError(appError.cause ?? error) } };
  }
  return { level: 'warn', message: 'request failed', fields: { code: appError.code } };
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  // Errors from Koa itself (e.g. ctx.throw) carry a client status; keep it rather than turn it into a 500.
  const status = (error as { status?: number; expose?: boolean })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(status, status === 404 ? 'NOT_FOUND' : 'VALIDATION_FAILED', bounded(String((error as Error).message)));
  }
  return new AppError(500, 'INTERNAL_ERROR', 'Internal server error', [], { cause: error });
}

function describe(error: unknown): string | undefined {
  return error instanceof Error ? `${error.name}: ${error.message}` : undefined;
}
