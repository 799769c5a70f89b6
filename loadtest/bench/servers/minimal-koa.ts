import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import { Histogram, Registry } from 'prom-client';
import { LABELS, METRICS, POPULAR_ROUTE } from '../../../contract';
import { HTTP_DURATION_BUCKETS_SECONDS } from '../../../contract/slo';

/**
 * What Koa allows: a minimal Koa + @koa/router app sending the bytes of the service's popular response
 * (BENCH_BODY_FILE) on the same route, with one prom-client histogram observation per request (the service's
 * duration metric, same labels and buckets). No request id, no security headers, no logging, no cache look-up.
 * The service's own middleware is judged against this (issue 13: ≥ 0.85×).
 */
const body = readFileSync(process.env.BENCH_BODY_FILE ?? '');
const registry = new Registry();
const duration = new Histogram({
  name: METRICS.httpDuration,
  help: 'Duration of HTTP requests.',
  labelNames: [LABELS.method, LABELS.route, LABELS.status] as const,
  buckets: HTTP_DURATION_BUCKETS_SECONDS,
  registers: [registry],
});
const app = new Koa();
app.use(async (ctx, next) => {
  const started = performance.now();
  await next();
  duration.labels(ctx.method, (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched', String(ctx.status)).observe((performance.now() - started) / 1000);
});
const router = new Router();
router.get(POPULAR_ROUTE, (ctx) => {
  ctx.type = 'application/json; charset=utf-8';
  ctx.body = body;
});
app.use(router.routes());
const server = createServer(app.callback());
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => process.exit(0));
