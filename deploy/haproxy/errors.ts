import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  CLIENT_MAX_CONNECTIONS,
  CLIENT_MAX_REQUESTS_PER_WINDOW,
  CLIENT_REQUEST_RATE_WINDOW_SECONDS,
  REQUEST_RECEIVE_TIMEOUT_MS,
} from '../../contract/edge';
import { AppError, type ErrorCode } from '../../service/src/lib/app-error';
import { SECURITY_HEADERS } from '../../service/src/lib/http/security-headers';

export const HAPROXY_DIR = __dirname;
export const HAPROXY_CFG = path.join(HAPROXY_DIR, 'haproxy.cfg');
const begin = (block: string) => `  # BEGIN generated ${block} by \`npm run generate\` (deploy/haproxy/errors.ts): do not edit`;
const END = '  # END generated';

interface LoadBalancerError {
  status: number;
  code: ErrorCode;
  message: string;
  retryAfterSeconds?: number;
  /**
   * HAProxy can send it before a request exists (a request it cannot parse, or not sent in time): only an `errorfile`
   * is used then (HAProxy ≥ 3.2 with haproxy/haproxy#3032 fixed), so it is a static file without a request id.
   * The others are `http-error` replies with a fresh `X-Request-Id` each.
   */
  early: boolean;
}

/**
 * Every answer HAProxy writes itself on the public API, in the service's error contract: the status, the JSON body
 * `{"error":{code,message,details}}`, the security headers with `Cache-Control: no-store`, a request id where HAProxy
 * can make one, and `Retry-After: 1` on a 503 as the service sends. Without these a client met HAProxy's HTML pages
 * whenever the balancer answered for the service: a malformed request or headers over its 16 KB buffer (400), a
 * request not sent in time (408), no replica ready (503), no valid answer (502) or none in time (504).
 */
export const LOAD_BALANCER_ERRORS: readonly LoadBalancerError[] = [
  { status: 400, code: 'VALIDATION_FAILED', message: 'Malformed request, or request line and headers too large', early: true },
  { status: 408, code: 'REQUEST_TIMEOUT', message: 'The request was not received in time', early: true },
  { status: 500, code: 'INTERNAL_ERROR', message: 'Internal error in the load balancer', early: true },
  { status: 501, code: 'VALIDATION_FAILED', message: 'The request uses a feature the load balancer does not implement', early: true },
  { status: 502, code: 'SERVICE_UNAVAILABLE', message: 'No valid answer from the service', early: false },
  { status: 503, code: 'SERVICE_UNAVAILABLE', message: 'No replica of the service is ready', retryAfterSeconds: 1, early: false },
  { status: 504, code: 'SERVICE_UNAVAILABLE', message: 'The service did not answer in time', early: false },
];

/** The balancer's answer to one client address over its request rate (contract/edge.ts). */
export const CLIENT_RATE_LIMITED: LoadBalancerError = {
  status: 429,
  code: 'RATE_LIMITED',
  message: 'Too many requests from this client; retry later',
  retryAfterSeconds: CLIENT_REQUEST_RATE_WINDOW_SECONDS,
  early: false,
};

const JSON_TYPE = 'application/json; charset=utf-8';
const bodyOf = (e: LoadBalancerError) => JSON.stringify(new AppError(e.status, e.code, e.message).toBody());
const headersOf = (e: LoadBalancerError): Record<string, string> => ({
  ...SECURITY_HEADERS,
  ...(e.retryAfterSeconds ? { 'Retry-After': String(e.retryAfterSeconds) } : {}),
});

/** Path of an early error's file, relative to haproxy.cfg (`default-path config`). */
export const errorFileOf = (status: number) => `errors/${status}.http`;

/** The raw HTTP/1.1 response HAProxy sends for an early error (its `errorfile`). */
export function errorFileText(e: LoadBalancerError): string {
  const body = bodyOf(e);
  const headers = { 'Content-Type': JSON_TYPE, 'Content-Length': String(Buffer.byteLength(body)), ...headersOf(e), Connection: 'close' };
  return `HTTP/1.1 ${e.status} ${http.STATUS_CODES[e.status]}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`;
}

/** An HAProxy reply in the contract: JSON body, a fresh request id, the security headers (`http-error`, `http-request return`). */
function replyArguments(e: LoadBalancerError): string {
  const body = bodyOf(e);
  if (body.includes("'")) throw new Error(`a single quote would end the HAProxy string: ${body}`);
  const headers = { 'X-Request-Id': '%[uuid]', ...headersOf(e) };
  return `status ${e.status} content-type "${JSON_TYPE}" string '${body}'${Object.entries(headers).map(([k, v]) => ` hdr ${k} "${v}"`).join('')}`;
}

/**
 * The generated blocks of haproxy.cfg, by name: `errors` in `defaults` (HAProxy ≥ 2.4 reads them; 3.2 applies all),
 * `client-limits` in the public frontend: the whole request, headers and body, within REQUEST_RECEIVE_TIMEOUT_MS
 * (else 408), at most CLIENT_MAX_CONNECTIONS open connections per client address (more are closed at once) and
 * CLIENT_MAX_REQUESTS_PER_WINDOW requests per window (more are answered 429 by the balancer).
 */
export function generatedBlocks(): Record<'errors' | 'client-limits', string[]> {
  return {
    errors: LOAD_BALANCER_ERRORS.map((e) => (e.early ? `  errorfile ${e.status} ${errorFileOf(e.status)}` : `  http-error ${replyArguments(e)}`)),
    'client-limits': [
      `  timeout http-request ${REQUEST_RECEIVE_TIMEOUT_MS}ms`,
      '  option http-buffer-request',
      `  stick-table type ip size 100k expire ${CLIENT_REQUEST_RATE_WINDOW_SECONDS * 3}s store conn_cur,http_req_rate(${CLIENT_REQUEST_RATE_WINDOW_SECONDS}s)`,
      '  tcp-request connection track-sc0 src',
      `  tcp-request connection reject if { sc_conn_cur(0) gt ${CLIENT_MAX_CONNECTIONS} }`,
      `  http-request return ${replyArguments(CLIENT_RATE_LIMITED)} if { sc_http_req_rate(0) gt ${CLIENT_MAX_REQUESTS_PER_WINDOW} }`,
    ],
  };
}

/** haproxy.cfg with each generated block replaced by the current one. Throws when a block's markers are missing. */
export function withGeneratedBlocks(cfg: string): string {
  let out = cfg;
  for (const [block, lines] of Object.entries(generatedBlocks())) {
    const start = out.indexOf(begin(block));
    const end = start < 0 ? -1 : out.indexOf(END, start);
    if (start < 0 || end < 0) throw new Error(`haproxy.cfg: the markers of the generated block '${block}' are missing`);
    out = `${out.slice(0, start)}${[begin(block), ...lines].join('\n')}\n${out.slice(end)}`;
  }
  return out;
}

/** `npm run generate`: rewrites haproxy.cfg's generated block and deploy/haproxy/errors/*.http. */
export function writeHaproxyErrors(): void {
  writeFileSync(HAPROXY_CFG, withGeneratedBlocks(readFileSync(HAPROXY_CFG, 'utf8')));
  mkdirSync(path.join(HAPROXY_DIR, 'errors'), { recursive: true });
  for (const e of LOAD_BALANCER_ERRORS.filter((x) => x.early)) writeFileSync(path.join(HAPROXY_DIR, errorFileOf(e.status)), errorFileText(e));
}

if (require.main === module) {
  writeHaproxyErrors();
  console.log('wrote deploy/haproxy/haproxy.cfg (generated blocks) and deploy/haproxy/errors/*.http');
}
