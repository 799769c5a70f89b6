import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger';
import { declaresTooLarge } from './json-body';
import { SECURITY_HEADERS } from './security-headers';

/** Handlers for what Node's HTTP server sees before the app does: requests its parser rejects, `Expect: 100-continue`. */
export interface ServerEdge {
  clientError(error: NodeJS.ErrnoException, socket: Socket): void;
  checkContinue(req: http.IncomingMessage, res: http.ServerResponse): void;
}

/** What Node's parser rejections are answered with: 431 for an oversized request line or headers, 400 otherwise. */
export const PARSER_REJECTION_STATUSES = [400, 431] as const;

const HEAD_LINES = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('');

/**
 * `handler` is the app's request listener. A request Node's parser rejects (oversized request line or headers: 431
 * HEADERS_TOO_LARGE; anything malformed: 400 VALIDATION_FAILED) still gets the contract's JSON error body, a request
 * id (X-Request-Id), the security headers, a warning log line and `onRejected(status)` (a metric), then the connection
 * closes. A request with `Expect: 100-continue` gets `100 Continue` only if its declared body could be accepted; one
 * that will be refused (too large) goes straight to the app, which answers 413 and closes without reading it.
 */
export function createServerEdge(deps: {
  handler: http.RequestListener;
  logger: Logger;
  onRejected?: (status: number) => void;
}): ServerEdge {
  const { handler, logger, onRejected } = deps;
  return {
    clientError(error, socket) {
      if (error.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
      const status = tooLarge ? 431 : 400;
      const requestId = randomUUID();
      const body = JSON.stringify({
        error: {
          code: tooLarge ? 'HEADERS_TOO_LARGE' : 'VALIDATION_FAILED',
          message: tooLarge ? 'Request line and headers are too large' : 'Malformed HTTP request',
          details: [],
        },
      });
      onRejected?.(status);
      logger.warn('request rejected by the HTTP parser', { status, parserError: error.code, requestId });
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\n${HEAD_LINES}Connection: close\r\n\r\n${body}`,
      );
    },
    checkContinue(req, res) {
      if (!declaresTooLarge(req.headers)) res.writeContinue();
      handler(req, res);
    },
  };
}
