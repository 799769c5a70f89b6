import type { Middleware } from 'koa';

const HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** A JSON API serves no documents: forbid everything a browser could do with its responses. */
export function securityHeaders(): Middleware {
  return (ctx, next) => {
    ctx.set(HEADERS);
    return next();
  };
}
