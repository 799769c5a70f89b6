import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import type { Middleware } from 'koa';
import koaHelmet from 'koa-helmet';

/**
 * helmet's headers, tightened for a JSON API that serves no documents: no content may load or frame it
 * (CSP `default-src 'none'; frame-ancestors 'none'`, X-Frame-Options DENY), no referrer leaves, and other origins may
 * not embed its responses (CORP same-origin). HSTS is left on helmet's default; it only takes effect over HTTPS.
 */
const OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  crossOriginResourcePolicy: { policy: 'same-origin' },
};

/** Responses are personal or change by the second: nothing stores them unless a route says otherwise (the ranking). */
const CACHE_CONTROL = 'no-store';

/**
 * The same headers as a plain list, for answers written without Koa (requests Node's HTTP parser rejects). Taken
 * once from helmet itself, so the two can never differ.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = (() => {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string) => void (headers[name] = String(value)),
    removeHeader: (name: string) => void delete headers[name],
  };
  helmet(OPTIONS)({} as IncomingMessage, res as unknown as ServerResponse, () => undefined);
  return Object.freeze({ ...headers, 'Cache-Control': CACHE_CONTROL });
})();

/** koa-helmet with the options above, and `Cache-Control: no-store`. */
export function securityHeaders(): Middleware {
  const withHelmet = koaHelmet(OPTIONS);
  return (ctx, next) => {
    ctx.set('Cache-Control', CACHE_CONTROL);
    return withHelmet(ctx, next);
  };
}
