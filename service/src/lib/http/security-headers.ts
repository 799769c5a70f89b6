import type { Middleware } from 'koa';

/** A JSON API serves no documents: forbid everything a browser could do with its responses. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
});

export function securityHeaders(): Middleware {
  return (ctx, next) => {
    ctx.set(SECURITY_HEADERS);
    return next();
  };
}
