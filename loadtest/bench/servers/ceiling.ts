import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

/**
 * The ceiling: a bare node:http server sending the bytes of the service's popular response, fetched once by the
 * bench (BENCH_BODY_FILE). No routing, no headers beyond the two any JSON response needs.
 */
const body = readFileSync(process.env.BENCH_BODY_FILE ?? '');
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) };
const server = createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => process.exit(0));
