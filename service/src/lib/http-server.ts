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

export async function listen(handler: http.RequestListener, port: number, host?: string): Promise<http.Server> {
  const server = http.createServer(handler);
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

/** Stops accepting, lets in-flight requests finish, and cuts what is left after `timeoutMs`. */
export async function close(server: http.Server, timeoutMs: number): Promise<'drained' | 'timed_out'> {
  if (!server.listening) return 'drained';
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
