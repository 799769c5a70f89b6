import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerEdge } from './http/server-edge';

/** Per server: true once `close()` has begun draining it. */
const drains = new WeakMap<http.Server, { active: boolean }>();

/**
 * Listens on `port` (0 for an ephemeral one); `edge` (createServerEdge) answers what Node's parser rejects, requests
 * not received whole within its `receiveTimeoutMs` (headers and body; 408) and `Expect: 100-continue`. Every response of the returned server goes through `writeHead` of the
 * class below, so once `close()` has begun draining it, a response still being computed when the drain began (or one
 * to a request that arrives on a kept-alive connection afterwards) is sent with `Connection: close`, and Node ends
 * that connection as soon as the response is written. Without this, a keep-alive connection whose request began
 * before the drain and finished after `server.close()` stayed open, idle, until the client or the 65 s keep-alive
 * timeout closed it, and `close()` waited for it until its own timeout (issue 11, kind 9).
 */
export async function listen(handler: http.RequestListener, port: number, host?: string, edge?: ServerEdge): Promise<http.Server> {
  const drain = { active: false };
  class DrainAwareResponse extends http.ServerResponse {
    // Every response passes here: Node calls it from end() when the app did not (Koa does not).
    override writeHead(statusCode: number, ...rest: unknown[]): this {
      if (drain.active && !this.headersSent) this.setHeader('Connection', 'close');
      http.ServerResponse.prototype.writeHead.apply(this, [statusCode, ...rest] as never);
      return this;
    }
  }
  const server = http.createServer(
    {
      ServerResponse: DrainAwareResponse,
      ...(edge ? { headersTimeout: edge.receiveTimeoutMs, requestTimeout: edge.receiveTimeoutMs } : {}),
      // Node checks those limits every 30 s by default: a slow client then got up to 30 s more.
      connectionsCheckingInterval: 1_000,
    },
    handler,
  );
  drains.set(server, drain);
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
