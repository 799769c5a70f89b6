/**
 * What one client may take of the public API's edge, enforced by the load balancer (deploy/haproxy, generated from
 * these numbers) and, for the time limit, by the service's own HTTP server: a client that sends its request slowly
 * (a header line every few seconds, a body byte at a time) is answered 408 REQUEST_TIMEOUT and disconnected instead of
 * holding a connection for as long as it keeps sending.
 */

/**
 * Time to receive a whole request, headers and body, in ms: HAProxy's `timeout http-request` (with `option
 * http-buffer-request`, so the body is within it) and Node's `headersTimeout` and `requestTimeout`. Ten seconds is
 * far more than the largest accepted request (16 KiB) needs on any working network.
 */
export const REQUEST_RECEIVE_TIMEOUT_MS = 10_000;

/**
 * Open connections one client address may hold on the load balancer; a connection over it is closed at once.
 * Behind Docker's userland proxy every client on the host itself shares one address (the bridge gateway).
 */
export const CLIENT_MAX_CONNECTIONS = 256;

/**
 * Requests one client address may send per `CLIENT_REQUEST_RATE_WINDOW_SECONDS` through the load balancer; past it
 * the balancer answers 429 RATE_LIMITED itself, with `Retry-After`. 1,000 req/s averaged over the window: about half
 * of what the stack serves on 2 cores, so one scripted loop cannot take the whole API, while the load tests' mixes
 * (5-40 req/s, `npm run loadtest`) stay far below it. The service's traffic limiting (the guide's 임시 조치) is the
 * limit for all clients together.
 */
export const CLIENT_MAX_REQUESTS_PER_WINDOW = 10_000;
export const CLIENT_REQUEST_RATE_WINDOW_SECONDS = 10;
