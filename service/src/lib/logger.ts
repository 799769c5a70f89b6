import winston from 'winston';
import type { RequestContextStorage } from './request-context';

export type Logger = winston.Logger;

/** An error as one compact log field: what failed, the database's code if any, and where. */
export function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code, constraint } = ((error as { parent?: object }).parent ?? error) as { code?: string; constraint?: string };
  return { name: error.name, message: error.message, code, constraint, stack: error.stack };
}

/** JSON lines on stdout; the request id of the current request is added to every line. */
export function createLogger(options: {
  level: string;
  requestContext?: RequestContextStorage;
  stream?: NodeJS.WritableStream;
  defaultMeta?: Record<string, unknown>;
}): Logger {
  const { requestContext } = options;
  const addRequestId = winston.format((info) => {
    const requestId = requestContext?.getStore()?.state.requestId;
    if (requestId && info.requestId === undefined) info.requestId = requestId;
    return info;
  });
  return winston.createLogger({
    level: options.level,
    defaultMeta: { service: 'orders', ...options.defaultMeta },
    format: winston.format.combine(
      addRequestId(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [
      options.stream
        ? new winston.transports.Stream({ stream: options.stream })
        : new winston.transports.Console(),
    ],
  });
}
