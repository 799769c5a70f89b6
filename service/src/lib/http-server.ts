import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Requests Node's HTTP parser rejects before the app sees them (oversized headers, malformed request lines) still
 * get the contract's JSON error body instead of an empty reply.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket) {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    error: {
      code: tooLarge ? 'HEADERS_TOO_LARGE' : 'VALIDATION_FAILED',
      message: tooLarge ? 'Request line and headers are too large' : 'Malformed HTTP request',
      details: [],
    },
  });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Per server: true once `close()` has begun draining it. */
const drains = new WeakMap<http.Server, { active: boolean }>();

/**
 * Listens on `port` (0 for an ephemeral one). Every response of the returned server goes through `writeHead` of the
 * class below, so once `close()` has begun draining it, a response still being computed when the drain began (or one
 * to a request that arrives on a kept-alive connection afterwards) is sent with `Connection: close`, and Node ends
 * that connection as soon as the response is written. Without this, a keep-alive connection whose request began
 * before the drain and finished after `server.close()` stayed open, idle, until the client or the 65 s keep-alive
 * timeout closed it, and `close()` waited for it until its own timeout (issue 11, kind 9).
 */
export async function listen(handler: http.RequestListener, port: number, host?: string): Promise<http.Server> {
  const drain = { active: false };
  class DrainAwareResponse extends http.ServerResponse {
    // Every response passes here: Node calls it from end() when the app did not (Koa); the hot path calls it itself.
    override writeHead(statusCode: number, ...rest: unknown[]): this {
      if (drain.active && !this.headersSent) this.setHeader('Connection', 'close');
      http.ServerResponse.prototype.writeHead.apply(this, [statusCode, ...rest] as never);
      return this;
    }
  }
  const server = http.createServer({ ServerResponse: DrainAwareResponse }, handler);
  drains.set(server, drain);
  server.on('clientError', answerClientError);
  // Longer than a typical load balancer's idle timeout, so the balancer closes idle connections first.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export const portOf = (server: http.Server) => (server.address() as AddressInfo).port;

/**
 * Stops accepting, closes idle connections, lets in-flight requests finish (each of their connections closes once
 * its response is sent, see `listen`), and cuts what is left after `timeoutMs` (ms). Resolves 'drained' when every
 * connection closed in time, 'timed_out' when some had to be cut.
 */
export async function close(server: http.Server, timeoutMs: number): Promise<'drained' | 'timed_out'> {
  if (!server.listening) return 'drained';
  const drain = drains.get(server);
  if (drain) drain.active = true;
  const closed = new Promise<'drained'>((resolve) => server.close(() => resolve('drained')));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed_out'>((resolve) => {
    timer = setTimeout(() => resolve('timed_out'), timeoutMs);
  });
  const result = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (result === 'timed_out') server.closeAllConnections();
  return result;
}
