import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { requestIdFor } from './request-id';
import { SECURITY_HEADERS } from './security-headers';
import type { RequestRecorder } from './telemetry';

/** A GET route whose answer can sometimes be sent straight from memory. */
export interface HotRoute {
  /** The exact path, which is also its route template. */
  path: string;
  /**
   * The JSON response body for this raw query string (without "?") when it is in memory right now, else
   * undefined. It must be exactly what the route's Koa handler would answer with status 200.
   */
  cached(querystring: string): Buffer | undefined;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const STATIC_HEADERS = Object.entries({ ...SECURITY_HEADERS, 'Content-Type': JSON_CONTENT_TYPE }).flat();

/**
 * Sends responses that are already in memory (a cached ranking, ~600 bytes) without entering Koa, whose per-request
 * objects and middleware frames cost several times what writing the bytes does. It answers only a GET of an exact
 * hot path, with a query string the route has validated before, while `open()` says nothing is being drilled,
 * limited or drained; everything else, including every miss, goes to `fallback` unchanged. Its responses carry the
 * same headers as Koa's and are recorded by the same recorder, so metrics, logs and clients cannot tell the two apart.
 */
export function createHotPath(deps: {
  routes: HotRoute[];
  fallback: RequestListener;
  /** False while traffic limiting, a drill or a shutdown drain needs every request to go through Koa. */
  open: () => boolean;
  recorder: RequestRecorder;
}): RequestListener {
  const { fallback, open, recorder } = deps;
  const routes = new Map(deps.routes.map((route) => [route.path, route]));

  return (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const route = req.method === 'GET' ? routes.get(path) : undefined;
    const body = route && open() ? route.cached(queryAt < 0 ? '' : url.slice(queryAt + 1)) : undefined;
    if (!body) {
      fallback(req, res);
      return;
    }
    const requestId = requestIdFor(req.headers['x-request-id'] as string | undefined);
    res.writeHead(200, ['X-Request-Id', requestId, ...STATIC_HEADERS, 'Content-Length', String(body.length)]);
    res.end(body);
    recorder.record({ method: 'GET', route: path, path, status: 200, seconds: (performance.now() - started) / 1000, requestId });
  };
}
