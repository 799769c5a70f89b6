import winston from 'winston';
import type { RequestContextStorage } from './request-context';

export type Logger = winston.Logger;

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
