import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger';
import { declaresTooLarge } from './json-body';
import { SECURITY_HEADERS } from './security-headers';

/** Handlers for what Node's HTTP server sees before the app does: requests its parser rejects, `Expect: 100-continue`. */
export interface ServerEdge {
  /** Time a client has to send a whole request, headers and body, in ms; past it the request is answered 408. */
  receiveTimeoutMs: number;
  clientError(error: NodeJS.ErrnoException, socket: Socket): void;
  checkContinue(req: http.IncomingMessage, res: http.ServerResponse): void;
}

/**
 * What Node's parser rejections are answered with: 408 for a request not received whole in time (Node's
 * headersTimeout/requestTimeout), 431 for an oversized request line or headers, 400 for anything malformed.
 */
export const PARSER_REJECTION_STATUSES = [400, 408, 431] as const;

const REJECTIONS: Record<(typeof PARSER_REJECTION_STATUSES)[number], { code: string; message: string }> = {
  400: { code: 'VALIDATION_FAILED', message: 'Malformed HTTP request' },
  408: { code: 'REQUEST_TIMEOUT', message: 'The request was not received in time' },
  431: { code: 'HEADERS_TOO_LARGE', message: 'Request line and headers are too large' },
};

const statusOf = (error: NodeJS.ErrnoException): (typeof PARSER_REJECTION_STATUSES)[number] =>
  error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;

const HEAD_LINES = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('');

/**
 * `handler` is the app's request listener. A request Node's parser rejects (not received in time: 408 REQUEST_TIMEOUT;
 * oversized request line or headers: 431 HEADERS_TOO_LARGE; anything malformed: 400 VALIDATION_FAILED) still gets
 * the contract's JSON error body, a request
 * id (X-Request-Id), the security headers, a warning log line and `onRejected(status)` (a metric), then the connection
 * closes. A request with `Expect: 100-continue` gets `100 Continue` only if its declared body could be accepted; one
 * that will be refused (too large) goes straight to the app, which answers 413 and closes without reading it.
 */
export function createServerEdge(deps: {
  handler: http.RequestListener;
  logger: Logger;
  receiveTimeoutMs: number;
  onRejected?: (status: number) => void;
}): ServerEdge {
  const { handler, logger, onRejected, receiveTimeoutMs } = deps;
  return {
    receiveTimeoutMs,
    clientError(error, socket) {
      // Nothing more may be written where the connection is gone or a response already went out on it (a route that
      // answered before its slowly sent body arrived, then the receive timeout fired).
      if (error.code === 'ECONNRESET' || !socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
        socket.destroy();
        return;
      }
      const status = statusOf(error);
      const requestId = randomUUID();
      const body = JSON.stringify({ error: { ...REJECTIONS[status], details: [] } });
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
