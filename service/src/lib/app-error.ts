/** The one error type the API raises on purpose; the error handler turns it into the contract's error body. */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PRODUCT_NOT_FOUND'
  | 'USER_NOT_FOUND'
  | 'ORDER_NOT_FOUND'
  | 'OUT_OF_STOCK'
  | 'INSUFFICIENT_BALANCE'
  | 'ORDER_NOT_CANCELLABLE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'UNAUTHORIZED'
  | 'RATE_LIMITED'
  | 'REQUEST_TIMEOUT'
  | 'SERVICE_UNAVAILABLE'
  | 'DATABASE_UNAVAILABLE'
  | 'DATABASE_POOL_EXHAUSTED'
  | 'DATABASE_TIMEOUT'
  | 'LOCK_TIMEOUT'
  | 'INTERNAL_ERROR';

export interface ErrorDetail {
  field?: string;
  message: string;
  [key: string]: unknown;
}

export interface AppErrorOptions {
  cause?: unknown;
  /** Sent as `Retry-After` (whole seconds) when the client may retry the same request unchanged. */
  retryAfterSeconds?: number;
  /** An expected failure of a dependency: logged as a warning with this message and these fields, not as a bug. */
  log?: { message: string; fields: Record<string, string> };
}

export class AppError extends Error {
  readonly retryAfterSeconds?: number;
  readonly log?: AppErrorOptions['log'];

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.log = options.log;
  }

  toBody() {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const notFound = (code: ErrorCode, message: string) => new AppError(404, code, message);
export const conflict = (code: ErrorCode, message: string, details: ErrorDetail[] = []) =>
  new AppError(409, code, message, details);
export const validationFailed = (message: string, details: ErrorDetail[] = []) =>
  new AppError(400, 'VALIDATION_FAILED', message, details);
export const serviceUnavailable = (message: string, cause?: unknown) =>
  new AppError(503, 'SERVICE_UNAVAILABLE', message, [], { cause });
