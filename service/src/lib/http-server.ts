import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerEdge } from './http/server-edge';

/** Listens with `handler`; `edge` (createServerEdge) answers what Node's parser rejects and `Expect: 100-continue`. */
export async function listen(handler: http.RequestListener, port: number, host?: string, edge?: ServerEdge): Promise<http.Server> {
  const server = http.createServer(handler);
  if (edge) {
    server.on('clientError', edge.clientError);
    server.on('checkContinue', edge.checkContinue);
  }
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
