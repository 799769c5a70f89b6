import type { Middleware } from 'koa';
import { AppError } from '../app-error';
import { serializeError, type Logger } from '../logger';
import { bounded } from '../text';

/**
 * Turns every error into the contract's error body. It sits inside the telemetry middleware,
 * so a failed request is measured and logged with the status it really got.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError(404, 'NOT_FOUND', `No route for ${ctx.method} ${bounded(ctx.path)}`);
      }
    } catch (error) {
      const appError = toAppError(error);
      if (appError.log) {
        logger.warn(appError.log.message, { ...appError.log.fields, code: appError.code, cause: describe(appError.cause) });
      } else if (appError.status >= 500 && appError.code !== 'SERVICE_UNAVAILABLE') {
        logger.error('request failed with a server error', { error: serializeError(appError.cause ?? error) });
      } else if (appError.code === 'SERVICE_UNAVAILABLE') {
        logger.warn('dependency unavailable', { cause: describe(appError.cause) });
      }
      ctx.status = appError.status;
      ctx.body = appError.toBody();
      if (appError.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(appError.retryAfterSeconds));
      else if (appError.status === 503) ctx.set('Retry-After', '1');
    }
  };
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
