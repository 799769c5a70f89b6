import type { Context } from 'koa';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A serialized JSON representation that downstream HTTP caches may keep. */
export interface CacheableJson {
  bytes: Buffer;
  /** Strong entity tag, quoted (RFC 9110 §8.8.3). */
  etag: string;
  /** performance.now() (ms) at which it stops being fresh; undefined when it must not be stored downstream. */
  expiresAt: number | undefined;
  /** A value past its expiry, served because a fresh one could not be computed (stale-if-error). */
  stale?: boolean;
}

/** Whole seconds left until `expiresAt` (performance.now() ms), never negative. */
export const secondsLeft = (expiresAt: number, now = performance.now()): number =>
  Math.max(0, Math.floor((expiresAt - now) / 1000));

/** One list element of If-None-Match: optional whitespace, an entity-tag (maybe weak), whitespace, then `,` or the end. */
const LIST_ELEMENT = /[ \t]*(?:(?:W\/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*)?(,|$)/y;

/**
 * Whether an If-None-Match field value matches the current representation's entity tag (RFC 9110 §13.1.2): `*`
 * matches any; otherwise the value is a comma-separated list of entity-tags (empty elements allowed, tags may
 * contain commas) compared weakly, so `W/"x"` matches `"x"`. A value outside that grammar matches nothing
 * (the condition is ignored and the full response is sent).
 */
export function ifNoneMatchMatches(fieldValue: string, etag: string): boolean {
  if (fieldValue.trim() === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  LIST_ELEMENT.lastIndex = 0;
  let matched = false;
  for (;;) {
    const element = LIST_ELEMENT.exec(fieldValue);
    if (!element) return false;
    if (element[1] === opaque) matched = true;
    if (element[2] === '') return matched;
  }
}

/**
 * Answers a GET/HEAD with a representation browsers, CDNs and reverse proxies can cache: `ETag`, and
 * `Cache-Control: public, max-age=<whole seconds left>` (an uncached value keeps the default `no-store`; a stale one
 * gets `no-store` and `X-Cache: stale`).
 * A request whose `If-None-Match` matches (see ifNoneMatchMatches) gets 304 with no body. This is evaluated
 * here rather than by Koa's `ctx.fresh` (jshttp/fresh), which ignores If-None-Match whenever the request says
 * `Cache-Control: no-cache` — which is what fetch() sends with every conditional request, although revalidating
 * with the origin is exactly what no-cache asks for (RFC 9111 §5.2.1.4).
 */
export function sendCacheable(ctx: Context, representation: CacheableJson): void {
  ctx.set('ETag', representation.etag);
  if (representation.stale) {
    // Served past its freshness because the origin's data source failed (RFC 5861 stale-if-error): no downstream
    // cache may keep it, and `X-Cache: stale` says so to clients and dashboards.
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Cache', 'stale');
  } else if (representation.expiresAt !== undefined) ctx.set('Cache-Control', `public, max-age=${secondsLeft(representation.expiresAt)}`);
  const ifNoneMatch = ctx.get('if-none-match');
  if (ifNoneMatch && ifNoneMatchMatches(ifNoneMatch, representation.etag)) {
    ctx.status = 304;
    return;
  }
  ctx.set('Content-Type', JSON_CONTENT_TYPE);
  ctx.body = representation.bytes;
}
