/**
 * Hostile input, property-based: every public endpoint gets generated garbage in every place a client controls
 * (path segment, query string, JSON body, Content-Type, Idempotency-Key), and must answer with a documented 4xx and
 * the contract's error body naming the field, never a 5xx, and never change the database.
 *
 * Each property computes what the contract says the answer is (an oracle written from the README, independent of
 * the service's zod schemas) and compares. Where the README is silent (the Idempotency-Key format, whether `05` or
 * `+5` is an integer in a query) the oracle takes the strict reading: plain decimal digits, 1-128 visible ASCII. Requests go out through node:http so the exact bytes are sent: no URL
 * normalisation of `..`, `%2F` or `%00`, raw JSON text so `__proto__` is an own key, chunked bodies.
 */
import http from 'node:http';
import net from 'node:net';
import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import fc from 'fast-check';
import { parseTree, type Node as JsonNode } from 'jsonc-parser';
import { ROUTES } from '../../../contract/routes';
import { RATE_LIMIT_BOUNDS, RETRY_AFTER_MAX_SECONDS, windowOf } from '../../src/components/incident-controls/rate-limiter';
import { MAX_ECHOED_CHARS } from '../../src/lib/text';
import { useTestApp } from '../support/test-app';

const ADMIN_TOKEN = 'hostile-admin-token-0123456789';
// A correctness suite: a generous pool wait, so a loaded CI machine's slow first connection is not a failure here.
const t = useTestApp({ ADMIN_TOKEN, DB_POOL_ACQUIRE_TIMEOUT_MS: '5000' });

const BODY_LIMIT = 16 * 1024;
const MAX_CHARGE = 10_000_000;
const MAX_ID = Number.MAX_SAFE_INTEGER;

let cases = 0;
let properties = 0;

// ---------------------------------------------------------------------------------------------------------------
// The wire: exact bytes, any header, optional chunked body.

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: any;
}

interface Outgoing {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked, in pieces of this many bytes, instead of a Content-Length. */
  chunkSize?: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });

function send(method: string, path: string, out: Outgoing = {}): Promise<Reply> {
  const base = new URL(t.app.api);
  const body = out.body === undefined ? undefined : Buffer.isBuffer(out.body) ? out.body : Buffer.from(out.body, 'utf8');
  const headers: Record<string, string> = { ...out.headers };
  if (body && !out.chunkSize) headers['content-length'] = String(body.length);
  if (body && out.chunkSize) headers['transfer-encoding'] = 'chunked';
  return new Promise<Reply>((resolve, reject) => {
    let answered = false;
    const req = http.request(
      // A chunked upload the server cuts short closes the connection: keep it off the shared keep-alive pool.
      { host: base.hostname, port: base.port, method, path, headers, agent: out.chunkSize ? false : agent },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // keep the text: the assertion will show it
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
      },
    );
    // The server may answer 413 and close while we are still uploading; that write error is expected then.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (body && out.chunkSize) {
      for (let at = 0; at < body.length; at += out.chunkSize) req.write(body.subarray(at, at + out.chunkSize));
      req.end();
    } else {
      req.end(body);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// What the contract says: expected status, error codes, and which fields a 400 may name.

interface Expected {
  status: number;
  /** Acceptable error codes for a 4xx. */
  codes?: string[];
  /** For a 400: every detail's field must start with one of these. */
  fields?: string[];
  /** A 400 for a body that is not JSON at all: no details, the message says so. */
  notJson?: boolean;
}

const ok = (): Expected => ({ status: 200 });
const invalid = (...fields: string[]): Expected => ({ status: 400, codes: ['VALIDATION_FAILED'], fields });
const notFound = (code: string): Expected => ({ status: 404, codes: [code] });
const conflict = (code: string): Expected => ({ status: 409, codes: [code] });
const NOT_JSON: Expected = { status: 400, codes: ['VALIDATION_FAILED'], notJson: true };
const TOO_LARGE: Expected = { status: 413, codes: ['PAYLOAD_TOO_LARGE'] };
const UNSUPPORTED: Expected = { status: 415, codes: ['UNSUPPORTED_MEDIA_TYPE'] };
const NO_ROUTE: Expected = { status: 404, codes: ['NOT_FOUND'] };

function describeCase(what: string, reply: Reply): string {
  return `${what}\n  -> ${reply.status} ${reply.text.slice(0, 400)}`;
}

/** The documented answer, checked in full: status, error body shape, code, and the field a 400 names. */
function expectAnswer(reply: Reply, expected: Expected | Expected[], what: string): void {
  const options = Array.isArray(expected) ? expected : [expected];
  const context = describeCase(what, reply);
  if (reply.status >= 500) throw new Error(`server error for hostile input: ${context}`);
  const matches = options.filter((option) => option.status === reply.status);
  if (matches.length === 0) throw new Error(`expected status ${options.map((o) => o.status).join(' or ')}: ${context}`);
  // Where the contract allows more than one answer with this status, any one of them will do.
  const failures: Error[] = [];
  for (const match of matches) {
    try {
      return expectErrorBody(reply, match, context);
    } catch (error) {
      failures.push(error as Error);
    }
  }
  throw failures[0]!;
}

function expectErrorBody(reply: Reply, match: Expected, context: string): void {
  if (reply.status < 400) return;

  const error = reply.body?.error;
  if (typeof error !== 'object' || error === null) throw new Error(`no {"error":{...}} body: ${context}`);
  if (typeof error.code !== 'string') throw new Error(`error.code is not a string: ${context}`);
  if (typeof error.message !== 'string' || error.message.trim() === '') throw new Error(`empty error.message: ${context}`);
  if (!Array.isArray(error.details)) throw new Error(`error.details is not an array: ${context}`);
  if (match.codes && !match.codes.includes(error.code)) {
    throw new Error(`expected code ${match.codes.join(' or ')}: ${context}`);
  }
  if (reply.status !== 400) return;

  if (match.notJson) {
    if (!/body/i.test(error.message) || !/JSON/.test(error.message)) throw new Error(`a malformed body must be named: ${context}`);
    return;
  }
  if (error.details.length === 0) throw new Error(`a 400 must list the offending fields in details: ${context}`);
  for (const detail of error.details as { field?: unknown; message?: unknown }[]) {
    if (typeof detail.field !== 'string' || typeof detail.message !== 'string' || detail.message === '') {
      throw new Error(`every detail needs a field and a message: ${context}`);
    }
    const fields = match.fields ?? [];
    if (fields.length && !fields.some((field) => detail.field === field || (detail.field as string).startsWith(`${field}.`))) {
      throw new Error(`detail names ${detail.field}, expected one of ${fields.join(', ')}: ${context}`);
    }
  }
  if (!error.message.startsWith(String(error.details[0].field))) {
    throw new Error(`the message must name the field first: ${context}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The database must not move: one fingerprint of every table a write could touch.

type Fingerprint = Record<string, unknown>;
let baseline: Fingerprint;

async function fingerprint(): Promise<Fingerprint> {
  const [row] = await t.app.sql(`
    SELECT (SELECT count(*) FROM users)::text AS users,
           (SELECT coalesce(sum(balance), 0) FROM users)::text AS balances,
           (SELECT count(*) FROM products)::text AS products,
           (SELECT coalesce(sum(stock), 0) FROM products)::text AS stock,
           (SELECT count(*) FROM orders)::text AS orders,
           (SELECT count(*) FILTER (WHERE status = 'PAID') FROM orders)::text AS paid_orders,
           (SELECT count(*) FROM order_items)::text AS order_items,
           (SELECT coalesce(sum(quantity), 0) FROM product_daily_sales)::text AS daily_sales`);
  return row!;
}

async function expectDatabaseUnchanged(what: string): Promise<void> {
  const now = await fingerprint();
  if (JSON.stringify(now) !== JSON.stringify(baseline)) {
    throw new Error(`the database changed after a rejected request: ${what}\n  before ${JSON.stringify(baseline)}\n  after  ${JSON.stringify(now)}`);
  }
}

function expectNoPrototypePollution(what: string): void {
  const probe = {} as Record<string, unknown>;
  if (probe.polluted !== undefined || 'polluted' in Object.prototype || (Object.prototype as any).isAdmin !== undefined) {
    throw new Error(`Object.prototype was polluted by: ${what}`);
  }
}

// Fixture state the oracles read; every user has a zero balance and no order is PAID, so no generated request,
// however well-formed, can legitimately write: a valid order is 404 or 409, a valid cancel is 404 or 409.
const state = {
  users: new Set<number>(),
  products: new Map<number, { price: number; stock: number }>(),
  orders: new Map<number, 'CANCELLED'>(),
};

async function run<T>(arbitrary: fc.Arbitrary<T>, numRuns: number, predicate: (value: T) => Promise<void>): Promise<void> {
  properties++;
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      cases++;
      await predicate(value);
    }),
    { numRuns, endOnFailure: false },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Generators of hostile values.

const sqlFragments = [
  '1; DROP TABLE orders',
  "' OR 1=1 --",
  '1 OR 1=1',
  "1'; DELETE FROM users; --",
  '1); UPDATE users SET balance = 999999999; --',
  '$1',
  '1::bigint',
  'NULL',
  '(SELECT 1)',
];
const numberLike = [
  '1e3', '1E3', '0x10', '0b1', '0o7', '+1', '-1', '-0', '0', '00', '01', '1.0', '1.5', ' 1', '1 ', '\t1', '1\n',
  'NaN', 'Infinity', '-Infinity', '9007199254740991', '9007199254740992', '9007199254740993', '99999999999999999',
  '18446744073709551616', '1_000', '1,2', '1;2', '１', '١', '½', '1n',
];
const oddStrings = [
  '', ' ', '\u0000', '%00', '\u202e1', '💥', '👨‍👩‍👧', '\ud800', 'null', 'undefined', 'true', 'false', '[]', '{}',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '../../etc/passwd', '<script>alert(1)</script>',
  '${7*7}', '{{7*7}}', 'a'.repeat(300),
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...sqlFragments, ...numberLike, ...oddStrings), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme' }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary' }), weight: 1 },
  { arbitrary: fc.integer().map(String), weight: 1 },
  { arbitrary: fc.double().map(String), weight: 1 },
  { arbitrary: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String), weight: 1 },
);

/** Integers as a client might type them into a query string: mostly around the documented ranges. */
const intString: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -5, max: 120 }).map(String),
  fc.nat().map(String),
  fc.constantFrom('0', '1', '3', '5', '20', '30', '31', '50', '51', '100', '101', '1000000', '1000001', '10000000'),
);

const jsonKey: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'amount', 'userId', 'items', 'productId', 'quantity', ''), weight: 3 },
  { arbitrary: hostileString, weight: 1 },
);

/**
 * Numbers whose text is not the number a double makes of it (issue 22, kind 3), near the values the API takes: a
 * fraction below a double's resolution (`2.0000000000000001` parses to 2), digits past 2^53, exponents that vanish.
 */
const inexactNumberText: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom(0, 1, 2, 7, 100, 9_999_999, 10_000_000), fc.integer({ min: 16, max: 30 }), fc.integer({ min: 1, max: 9 }))
    .map(([int, zeros, digit]) => `${int}.${'0'.repeat(zeros)}${digit}`),
  fc.tuple(fc.constantFrom(0, 1, 9_999_999, 99), fc.integer({ min: 16, max: 30 })).map(([int, nines]) => `${int}.${'9'.repeat(nines)}`),
  fc.bigInt({ min: 2n ** 53n + 1n, max: 2n ** 60n }).filter((n) => BigInt(Number(n)) !== n).map(String),
  fc.constantFrom('9007199254740991.4', '9007199254740993', '1.00000000000000001e1', '1e-400', '10000000.00000000001'),
);

/** A JSON number or string literal, as text: exponents, overflow, -0, beyond MAX_SAFE_INTEGER, strings of anything. */
const scalarText: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      'null', 'true', 'false', '0', '-0', '-1', '1.5', '1e3', '1E400', '-1E400', '1e-400', '0.1e1', '1.0', '1.0000000000000001',
      '10000000', '10000001', '10000000.5', '9007199254740991', '9007199254740992', '9007199254740993', '18446744073709551616',
      `1${'0'.repeat(400)}`, '[]', '{}', '""',
    ),
    weight: 3,
  },
  { arbitrary: fc.integer().map(String), weight: 1 },
  { arbitrary: inexactNumberText, weight: 2 },
  { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)), weight: 1 },
  { arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String), weight: 1 },
  { arbitrary: hostileString.map((s) => JSON.stringify(s)), weight: 2 },
);

/** Any JSON value as text, objects written key by key so `__proto__` and duplicate keys survive as sent. */
const { value: jsonText } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalarText, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
  object: fc
    .array(fc.tuple(jsonKey, tie('value')), { maxLength: 4 })
    .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
}));

const malformedJson: fc.Arbitrary<string> = fc.constantFrom(
  '{', '}', '[', '{"amount":1', '{"amount":}', "{'amount':1}", '{amount:1}', '{"amount":1,}', '[1,]', 'NaN', 'undefined',
  '{"amount":NaN}', '{"amount":Infinity}', '{"amount":0x10}', '{"amount":+1}', '{"amount":01}', '{"amount":.5}',
  '{"amount":1.}', '\ufeff{"amount":1}', '{"amount":1}}', '{"amount":1} {"amount":2}', '{"amount":1} x', '/* */{"amount":1}',
  '{"amount":"\u0000"}', '{"amount":"\n"}', '{"userId":1,"items":[{"productId":1,"quantity":1}]', '{"userId":1 "items":[]}',
  '{"a":1,"a"}', '"\\x41"', '"\\u12"', '\u0000', '1; DROP TABLE orders', "' OR 1=1 --", 'amount=1',
);

/** Cut a JSON object short anywhere: always malformed (or empty). */
const truncated = (text: fc.Arbitrary<string>) =>
  fc.tuple(text, fc.nat()).map(([s, n]) => s.slice(0, s.length > 1 ? n % (s.length - 1) : 0));

const idText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom('1', '2', '3', '4', '5', '99', '9007199254740991'), weight: 3 },
  { arbitrary: scalarText, weight: 2 },
);
const quantityText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 100 }).map(String), weight: 3 },
  { arbitrary: scalarText, weight: 2 },
);
const itemText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.tuple(idText, quantityText).map(([p, q]) => `{"productId":${p},"quantity":${q}}`), weight: 4 },
  { arbitrary: fc.tuple(idText, quantityText, jsonKey, jsonText).map(([p, q, k, v]) => `{"productId":${p},"quantity":${q},${JSON.stringify(k)}:${v}}`), weight: 1 },
  // A key given twice (issue 22, kind 4): the parser keeps one, a gateway may keep the other.
  { arbitrary: fc.tuple(idText, idText, quantityText).map(([p, p2, q]) => `{"productId":${p},"quantity":${q},"productId":${p2}}`), weight: 1 },
  { arbitrary: fc.tuple(idText, quantityText, quantityText).map(([p, q, q2]) => `{"quantity":${q},"productId":${p},"quantity":${q2}}`), weight: 1 },
  { arbitrary: jsonText, weight: 1 },
);
const itemsText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.array(itemText, { maxLength: 22 }).map((xs) => `[${xs.join(',')}]`), weight: 4 },
  { arbitrary: jsonText, weight: 1 },
);
/**
 * Well-formed orders for the fixture users and products (and unknown ones): every user has a zero balance, so each
 * is a 404 or a 409 that must roll back the stock it already took.
 */
const wellFormedOrderText: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(1, 2, 3, 4, 99, MAX_ID),
    fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 100 })), { selector: ([id]) => id, minLength: 1, maxLength: 5 }),
  )
  .map(([userId, items]) => JSON.stringify({ userId, items: items.map(([productId, quantity]) => ({ productId, quantity })) }));

const orderText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: wellFormedOrderText, weight: 5 },
  { arbitrary: fc.tuple(idText, itemsText).map(([u, i]) => `{"userId":${u},"items":${i}}`), weight: 6 },
  { arbitrary: fc.tuple(idText, itemsText, jsonKey, jsonText).map(([u, i, k, v]) => `{"userId":${u},"items":${i},${JSON.stringify(k)}:${v}}`), weight: 2 },
  { arbitrary: itemsText.map((i) => `{"items":${i}}`), weight: 1 },
  { arbitrary: fc.tuple(idText, idText, itemsText).map(([u, u2, i]) => `{"userId":${u},"items":${i},"userId":${u2}}`), weight: 2 },
  { arbitrary: fc.tuple(idText, itemsText, itemsText).map(([u, i, i2]) => `{"items":${i},"userId":${u},"items":${i2}}`), weight: 1 },
  { arbitrary: jsonText, weight: 1 },
  { arbitrary: malformedJson, weight: 1 },
  { arbitrary: truncated(fc.tuple(idText, itemsText).map(([u, i]) => `{"userId":${u},"items":${i}}`)), weight: 1 },
  { arbitrary: fc.constantFrom('', '   ', '\n'), weight: 1 },
);

const chargeText: fc.Arbitrary<string> = fc
  .oneof(
    { arbitrary: scalarText.map((v) => `{"amount":${v}}`), weight: 4 },
    { arbitrary: jsonText.map((v) => `{"amount":${v}}`), weight: 2 },
    { arbitrary: fc.tuple(scalarText, fc.constantFrom('1', '100', '10000000')).map(([a, b]) => `{"amount":${a},"amount":${b}}`), weight: 2 },
    { arbitrary: fc.tuple(fc.constantFrom('1', '100', '10000000'), jsonKey, jsonText).map(([a, k, v]) => `{"amount":${a},${JSON.stringify(k)}:${v}}`), weight: 2 },
    { arbitrary: jsonText, weight: 2 },
    { arbitrary: malformedJson, weight: 1 },
    { arbitrary: truncated(scalarText.map((v) => `{"amount":${v}}`)), weight: 1 },
    { arbitrary: fc.constantFrom('', '   ', '\n'), weight: 1 },
  )
  // Whatever the text, it must not parse to a valid charge: a valid one would (rightly) write.
  .filter((text) => {
    const parsed = parse(text);
    return parsed.duplicate || !validCharge(parsed.value);
  });

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8'];
const NON_JSON_TYPES = [
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/json',
  'application/vnd.api+json', 'application/json-patch+json', 'application/jsonp', 'text/html', 'application/octet-stream',
];
/** Content-Type headers whose treatment the contract leaves open between 400 and 415. */
const ODD_TYPES = ['', '*/*', 'application/*', 'json', ';', 'application/json;;', 'application/json, text/plain'];
type ContentType = { kind: 'json' | 'other' | 'odd' | 'missing'; value?: string };
const contentType: fc.Arbitrary<ContentType> = fc.oneof(
  { arbitrary: fc.constantFrom(...JSON_TYPES).map((value): ContentType => ({ kind: 'json', value })), weight: 12 },
  { arbitrary: fc.constantFrom(...NON_JSON_TYPES).map((value): ContentType => ({ kind: 'other', value })), weight: 2 },
  { arbitrary: fc.constantFrom(...ODD_TYPES).map((value): ContentType => ({ kind: 'odd', value })), weight: 1 },
  { arbitrary: fc.constant<ContentType>({ kind: 'missing' }), weight: 1 },
);

/** What a client can put on the wire for a header: UTF-8 bytes of anything, sent as they are. */
const wireHeader = (s: string) => Buffer.from(s, 'utf8').toString('latin1').replace(/[^\t\x20-\x7e\x80-\xff]/g, '');

const idempotencyKey: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 4 },
  { arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,128}$/), weight: 2 },
  {
    arbitrary: fc.constantFrom('', ' ', '\t', 'a b', 'x'.repeat(128), 'x'.repeat(129), 'ключ', '💥', '__proto__', ...sqlFragments),
    weight: 2,
  },
  { arbitrary: hostileString.map((s) => s.slice(0, 200)), weight: 2 },
).map((key) => (key === undefined ? undefined : wireHeader(key)));

/** A path segment exactly as it goes on the wire. */
const rawSegments = [
  '%00', '%2F', '%2f', '..', '.', '%2E%2E', '%2e', '%', '%%', '%zz', '%E0%A4%A', '%C0%AF', '%FF', '1%2F2', '1%00', '%001',
  '%31', '%31%32', '1%20', '%201', '1;DROP%20TABLE%20orders', "'%20OR%201=1%20--", '-1', '0', '00', '01', '1.0', '1e3', '1E3',
  '0x1', '+1', '%2B1', '1,2', '1_000', '9007199254740991', '9007199254740992', '9007199254740993', '99999999999999999',
  '1'.repeat(17), '__proto__', 'constructor', 'prototype', 'toString', 'null', 'undefined', 'true', 'NaN', 'Infinity',
  '%5B%5D', '%7B%7D', '..%2F..%2Fetc%2Fpasswd', '%EF%BC%91', '%D9%A1', '1%0A', '%0D%0A1', '%F0%9F%92%A5', '1;', '1:2', '1@2',
  '../1', '1/..', '1/', './1',
];
const pathSegment: fc.Arbitrary<string> = fc
  .oneof(
    { arbitrary: fc.constantFrom(...rawSegments), weight: 4 },
    { arbitrary: hostileString.map((s) => encodeURIComponent(s.toWellFormed())), weight: 3 },
    { arbitrary: fc.integer({ min: 1, max: 12 }).map(String), weight: 2 },
    { arbitrary: fc.bigInt({ min: 1n, max: 10n ** 20n }).map(String), weight: 1 },
  )
  .filter((segment) => segment !== '');

type Pair = [string, string];
/** A raw query string: generated pairs (duplicates included), or hand-written ones a client could send. */
const rawQuery = (keys: string[]): fc.Arbitrary<string> => {
  const key = fc.oneof(
    { arbitrary: fc.constantFrom(...keys), weight: 6 },
    { arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', `${keys[0]}[]`, keys[0]!.toUpperCase(), ` ${keys[0]}`, '', 'a'), weight: 1 },
    { arbitrary: hostileString, weight: 1 },
  );
  const value = fc.oneof({ arbitrary: intString, weight: 3 }, { arbitrary: hostileString, weight: 2 });
  const pairs = fc.array(fc.tuple(key, value), { maxLength: 4 }).map((ps: Pair[]) => new URLSearchParams(ps).toString());
  const k = keys[0]!;
  const handWritten = fc.constantFrom(
    `${k}=%`, `${k}=%zz`, `${k}=%31`, `${k}=1%00`, `${k}=%00`, k, `${k}=`, '&&&', '=', `${k}=1&${k}=1`, `${k}=1;${k}=2`,
    `${k}=1%26${k}%3D2`, `${k}=+5`, `${k}=%2B5`, `${k}=5%20`, `${k}[]=5`, `${k}[0]=5`, `${k}=1e1`, `${k}=0x10`, `${k}=-0`,
    `${k}=9007199254740993`, `${k}=99999999999999999999`, `__proto__=1`, `__proto__[${k}]=1`, `constructor[prototype][x]=1`,
    `${k}=1;%20DROP%20TABLE%20orders`, `${k}='%20OR%201=1%20--`, `${k}=%F0%9F%92%A5`, `${k}=%EF%BC%91`,
  );
  // Each key at most once with integer-looking values: reaches the 200 and 404 answers, not only the 400s.
  const wellFormed = fc
    .uniqueArray(fc.tuple(fc.constantFrom(...keys), intString), { selector: ([name]) => name, maxLength: keys.length })
    .map((ps: Pair[]) => new URLSearchParams(ps).toString());
  return fc.oneof({ arbitrary: pairs, weight: 4 }, { arbitrary: wellFormed, weight: 2 }, { arbitrary: handWritten, weight: 1 });
};

// ---------------------------------------------------------------------------------------------------------------
// The oracles: the README's contract, written independently of the service's schemas.

/** A JSON number as the client wrote it: the oracle judges the text, never the double a parser makes of it. */
class Written {
  constructor(readonly text: string) {}
}

/** The exact integer a JSON number's text denotes (`2.0`, `1e3` are integers), or undefined when it is none. */
function exactInteger(text: string): bigint | undefined {
  const [, sign, int = '', fraction = '', exponent = '0'] = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text) ?? [];
  const shift = Number(exponent) - fraction.length;
  if (Math.abs(shift) > 1_000) return /[1-9]/.test(int + fraction) ? (shift > 0 ? 10n ** 1_000n : undefined) : 0n;
  let digits = int + fraction;
  if (shift < 0) {
    if (/[1-9]/.test(digits.slice(shift))) return undefined;
    digits = digits.slice(0, shift) || '0';
  }
  return (sign ? -1n : 1n) * BigInt(digits) * 10n ** BigInt(Math.max(shift, 0));
}

const isInt = (v: unknown, min: number, max: number): v is Written => {
  const n = v instanceof Written ? exactInteger(v.text) : undefined;
  return n !== undefined && n >= BigInt(min) && n <= BigInt(max);
};
const num = (v: unknown) => Number((v as Written).text);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Written);
const onlyKeys = (o: Record<string, unknown>, keys: string[]) => Object.keys(o).every((k) => keys.includes(k));

/**
 * A body as the contract reads it: `ok` when it is JSON at all; `value` with every number a Written (its text);
 * `duplicate` when some object, at any depth, names a key twice (a 400 whatever the rest says).
 */
function parse(text: string): { ok: boolean; value: unknown; duplicate: boolean } {
  if (text.trim() === '') return { ok: true, value: undefined, duplicate: false };
  // RFC 8259 §8.1: a parser may ignore a leading byte order mark; the service's (iconv-lite's UTF-8 decoder) does.
  const json = text.replace(/^\uFEFF/, '');
  try {
    JSON.parse(json);
  } catch {
    return { ok: false, value: undefined, duplicate: false };
  }
  let duplicate = false;
  const build = (node: JsonNode): unknown => {
    if (node.type === 'number') return new Written(json.slice(node.offset, node.offset + node.length));
    if (node.type === 'array') return node.children!.map(build);
    if (node.type !== 'object') return node.value;
    const object: Record<string, unknown> = {};
    for (const property of node.children!) {
      const [key, value] = property.children! as [JsonNode, JsonNode];
      if (Object.hasOwn(object, key.value)) duplicate = true;
      Object.defineProperty(object, key.value, { value: build(value), enumerable: true, writable: true, configurable: true });
    }
    return object;
  };
  return { ok: true, value: build(parseTree(json)!), duplicate };
}

function validCharge(v: unknown): boolean {
  return isObject(v) && onlyKeys(v, ['amount']) && isInt(v.amount, 1, MAX_CHARGE);
}

/** The order a body places, or undefined when the contract refuses it. */
function validOrder(v: unknown): { userId: number; items: { productId: number; quantity: number }[] } | undefined {
  if (!isObject(v) || !onlyKeys(v, ['userId', 'items']) || !isInt(v.userId, 1, MAX_ID)) return undefined;
  const items = v.items;
  if (!Array.isArray(items) || items.length < 1 || items.length > 20) return undefined;
  const ok = items.every((i) => isObject(i) && onlyKeys(i, ['productId', 'quantity']) && isInt(i.productId, 1, MAX_ID) && isInt(i.quantity, 1, 100));
  if (!ok) return undefined;
  const order = { userId: num(v.userId), items: items.map((i) => ({ productId: num(i.productId), quantity: num(i.quantity) })) };
  return new Set(order.items.map((i) => i.productId)).size === items.length ? order : undefined;
}

/** A positive integer id in a path or query: plain decimal digits, at most MAX_SAFE_INTEGER. */
const validId = (s: string) => /^[1-9][0-9]*$/.test(s) && s.length <= 16 && Number(s) <= MAX_ID;
/** An integer query parameter in [min, max], plain decimal digits. */
const validInt = (s: string, min: number, max: number) => /^(0|[1-9][0-9]*)$/.test(s) && s.length <= 8 && Number(s) >= min && Number(s) <= max;

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

type PathId = { route: false } | { route: true; id?: number };

/** The id a path segment carries, or why there is none. */
function pathId(raw: string): PathId {
  if (raw.includes('/')) return { route: false };
  const decoded = decodeSegment(raw);
  return { route: true, id: validId(decoded) ? Number(decoded) : undefined };
}

/** The answer to a path segment meant as an id: no route, 400 on params.id, or what `found` says for a valid id. */
function idAnswer<T>(path: PathId, found: (id: number) => T): T | Expected {
  if (!path.route) return NO_ROUTE;
  return path.id === undefined ? invalid('params.id') : found(path.id);
}

/**
 * For a route that ends in the id: the router may take one trailing slash as the same route; either that or
 * "no such route" is a documented answer.
 */
function lastSegmentAnswers(raw: string, answer: (path: PathId) => Expected): Expected | Expected[] {
  const bare = raw.endsWith('/') ? raw.slice(0, -1) : undefined;
  if (bare && !bare.includes('/')) return [answer(pathId(bare)), NO_ROUTE];
  return answer(pathId(raw));
}

/**
 * Body handling common to both body routes: size first, then media type, then JSON, then `validate` (what the route
 * does with a parsed body). A missing or odd Content-Type may be refused (415) or read as JSON; both are documented.
 */
function bodyAnswers(ct: ContentType, text: string, validate: (body: unknown) => Expected, chunked = false): Expected[] {
  const bytes = Buffer.byteLength(text);
  if (!chunked && bytes > BODY_LIMIT) return [TOO_LARGE];
  const asJson = (): Expected[] => {
    if (chunked && bytes > BODY_LIMIT) return [TOO_LARGE];
    const parsed = parse(text);
    if (!parsed.ok) return [NOT_JSON];
    return [parsed.duplicate ? invalid('body') : validate(parsed.value)];
  };
  if (ct.kind === 'json') return asJson();
  if (bytes === 0 && !chunked) return [validate(undefined)]; // no body at all: validated as missing
  if (ct.kind === 'other') return [UNSUPPORTED];
  return [UNSUPPORTED, ...asJson()];
}

/** POST /api/users/:id/balance/charge with a body: the generated bodies are never a valid charge. */
const chargeAnswer = (userId: number) => (body: unknown): Expected =>
  !validCharge(body) ? invalid('body') : state.users.has(userId) ? ok() : notFound('USER_NOT_FOUND');

/** POST /api/orders with a parsed body: every user has a zero balance, so a valid order is a 404 or a 409. */
function orderAnswer(parsed: unknown): Expected {
  const body = validOrder(parsed);
  if (!body) return invalid('body');
  if (!state.users.has(body.userId)) return notFound('USER_NOT_FOUND');
  if (body.items.some((item) => !state.products.has(item.productId))) return notFound('PRODUCT_NOT_FOUND');
  if (body.items.some((item) => state.products.get(item.productId)!.stock < item.quantity)) return conflict('OUT_OF_STOCK');
  return conflict('INSUFFICIENT_BALANCE');
}

/** POST /api/orders: the Idempotency-Key header is checked before the body is read. */
function expectedOrder(key: string | undefined, ct: ContentType, text: string, chunked = false): Expected[] {
  // A declared body too large for any route is refused before anything else is looked at.
  if (!chunked && Buffer.byteLength(text) > BODY_LIMIT) return [TOO_LARGE];
  // A present key, even empty, must be 1-128 visible characters once the optional whitespace around it is stripped.
  const trimmed = key?.replace(/^[ \t]+|[ \t]+$/g, '');
  if (trimmed !== undefined && !/^[\x21-\x7e]{1,128}$/.test(trimmed)) return [invalid('headers.Idempotency-Key')];
  return bodyAnswers(ct, text, orderAnswer, chunked);
}

type Query = Map<string, string[]>;
function parseQuery(raw: string): Query {
  const query: Query = new Map();
  for (const [key, value] of new URLSearchParams(raw)) query.set(key, [...(query.get(key) ?? []), value]);
  return query;
}

/** Fields of a query that break the contract: unknown keys name `query`, bad values `query.<name>`. */
function queryFaults(query: Query, rules: Record<string, (value: string) => boolean>): string[] {
  const faults: string[] = [];
  for (const [key, values] of query) {
    if (!Object.hasOwn(rules, key)) faults.push('query');
    else if (values.length !== 1 || !rules[key]!(values[0]!)) faults.push(`query.${key}`);
  }
  return faults;
}

const one = (query: Query, key: string) => query.get(key)?.[0];

// ---------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  // Zero balances and no PAID order: nothing a generated request sends may legitimately write.
  for (let i = 0; i < 3; i++) state.users.add(await t.given.user(0));
  for (const [price, stock] of [[1_000, 5], [500, 0], [1, 100], [30_000, 2]] as const) {
    state.products.set(await t.given.product(price, stock), { price, stock });
  }
  const [userId] = [...state.users];
  const [productId] = [...state.products.keys()];
  const [order] = await t.app.sql<{ id: string }>(
    `INSERT INTO orders (user_id, status, total_amount, created_at, paid_at, updated_at)
     VALUES ($1, 'CANCELLED', 1000, now() - interval '1 day', now() - interval '1 day', now()) RETURNING id`,
    [userId],
  );
  await t.app.sql('INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, 1, 1000)', [order!.id, productId]);
  state.orders.set(Number(order!.id), 'CANCELLED');
  baseline = await fingerprint();
});

afterAll(() => {
  agent.destroy();
  console.log(`hostile-input: ${properties} properties, ${cases} cases`);
});

describe('hostile input never gets a 5xx, always gets the documented error body, and never writes', () => {
  test('GET /api/products: limit and offset', async () => {
    await run(rawQuery(['limit', 'offset']), 300, async (raw) => {
      const reply = await send('GET', `/api/products?${raw}`);
      const query = parseQuery(raw);
      const faults = queryFaults(query, { limit: (v) => validInt(v, 1, 100), offset: (v) => validInt(v, 0, 1_000_000) });
      expectAnswer(reply, faults.length ? invalid(...faults) : ok(), `GET /api/products?${raw}`);
    });
    await expectDatabaseUnchanged('GET /api/products');
  });

  test('GET /api/products/:id', async () => {
    await run(pathSegment, 300, async (segment) => {
      const reply = await send('GET', `/api/products/${segment}`);
      const expected = lastSegmentAnswers(segment, (path) =>
        idAnswer(path, (id) => (state.products.has(id) ? ok() : notFound('PRODUCT_NOT_FOUND'))),
      );
      expectAnswer(reply, expected, `GET /api/products/${segment}`);
    });
    await expectDatabaseUnchanged('GET /api/products/:id');
  });

  test('GET /api/users/:id/balance', async () => {
    await run(pathSegment, 300, async (segment) => {
      const reply = await send('GET', `/api/users/${segment}/balance`);
      const expected = idAnswer(pathId(segment), (id) => (state.users.has(id) ? ok() : notFound('USER_NOT_FOUND')));
      expectAnswer(reply, expected, `GET /api/users/${segment}/balance`);
    });
    await expectDatabaseUnchanged('GET /api/users/:id/balance');
  });

  test('POST /api/users/:id/balance/charge: path id, Content-Type and JSON body', async () => {
    const segment = fc.oneof({ arbitrary: fc.constantFrom(...[...state.users].map(String), '1', '99999'), weight: 3 }, { arbitrary: pathSegment, weight: 1 });
    await run(fc.record({ segment, ct: contentType, text: chargeText }), 300, async ({ segment, ct, text }) => {
      const headers: Record<string, string> = ct.value === undefined ? {} : { 'content-type': ct.value };
      const reply = await send('POST', `/api/users/${segment}/balance/charge`, { headers, body: text });
      const what = `POST /api/users/${segment}/balance/charge  content-type=${JSON.stringify(ct.value)}  body=${JSON.stringify(text)}`;
      const expected = idAnswer(pathId(segment), (id) => bodyAnswers(ct, text, chargeAnswer(id)));
      expectAnswer(reply, expected, what);
      expectNoPrototypePollution(what);
      await expectDatabaseUnchanged(what);
    });
  });

  test('POST /api/orders: Idempotency-Key, Content-Type and JSON body', async () => {
    await run(fc.record({ key: idempotencyKey, ct: contentType, text: orderText }), 300, async ({ key, ct, text }) => {
      const headers: Record<string, string> = ct.value === undefined ? {} : { 'content-type': ct.value };
      if (key !== undefined) headers['idempotency-key'] = key;
      const reply = await send('POST', '/api/orders', { headers, body: text });
      const what = `POST /api/orders  idempotency-key=${JSON.stringify(key)}  content-type=${JSON.stringify(ct.value)}  body=${JSON.stringify(text)}`;
      expectAnswer(reply, expectedOrder(key, ct, text), what);
      expectNoPrototypePollution(what);
      await expectDatabaseUnchanged(what);
    });
  });

  test('POST /api/orders/:id/cancel', async () => {
    await run(pathSegment, 300, async (segment) => {
      const reply = await send('POST', `/api/orders/${segment}/cancel`);
      const expected = idAnswer(pathId(segment), (id) =>
        state.orders.has(id) ? conflict('ORDER_NOT_CANCELLABLE') : notFound('ORDER_NOT_FOUND'),
      );
      expectAnswer(reply, expected, `POST /api/orders/${segment}/cancel`);
      await expectDatabaseUnchanged(`POST /api/orders/${segment}/cancel`);
    });
  });

  test('GET /api/orders/status: orderId, userId, limit', async () => {
    await run(rawQuery(['orderId', 'userId', 'limit']), 300, async (raw) => {
      const reply = await send('GET', `/api/orders/status?${raw}`);
      const query = parseQuery(raw);
      const faults = queryFaults(query, { orderId: validId, userId: validId, limit: (v) => validInt(v, 1, 100) });
      let expected: Expected;
      if (faults.length) expected = invalid(...faults, 'query');
      else if (query.has('orderId') === query.has('userId')) expected = invalid('query');
      // limit pages a user's orders; with an orderId it means nothing, and is refused rather than ignored.
      else if (query.has('orderId') && query.has('limit')) expected = invalid('query.limit');
      else if (query.has('orderId')) expected = state.orders.has(Number(one(query, 'orderId'))) ? ok() : notFound('ORDER_NOT_FOUND');
      else expected = state.users.has(Number(one(query, 'userId'))) ? ok() : notFound('USER_NOT_FOUND');
      expectAnswer(reply, expected, `GET /api/orders/status?${raw}`);
    });
    await expectDatabaseUnchanged('GET /api/orders/status');
  });

  test('GET /api/orders/popular: days and limit', async () => {
    await run(rawQuery(['days', 'limit']), 300, async (raw) => {
      const reply = await send('GET', `/api/orders/popular?${raw}`);
      const faults = queryFaults(parseQuery(raw), { days: (v) => validInt(v, 1, 30), limit: (v) => validInt(v, 1, 50) });
      expectAnswer(reply, faults.length ? invalid(...faults) : ok(), `GET /api/orders/popular?${raw}`);
    });
    await expectDatabaseUnchanged('GET /api/orders/popular');
  });

  test('deeply nested JSON in every body: 400 when it fits in 16 KiB, 413 when it does not', async () => {
    const nesting = fc.record({
      route: fc.constantFrom('charge', 'orders'),
      // behind-duplicate: the deep value under a key given again, so JSON.parse drops it and only the text holds it.
      shape: fc.constantFrom('arrays', 'objects', 'in-field', 'in-item', 'proto-chain', 'behind-duplicate'),
      depth: fc.oneof(fc.integer({ min: 1_000, max: 3_500 }), fc.integer({ min: 3_500, max: 10_000 })),
    });
    await run(nesting, 150, async ({ route, shape, depth }) => {
      const deep = (inner: string) =>
        shape === 'arrays' || shape === 'in-item' || shape === 'behind-duplicate' ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`
          : shape === 'proto-chain' ? `${'{"__proto__":'.repeat(depth)}${inner}${'}'.repeat(depth)}`
            : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
      const text =
        shape === 'in-field' ? (route === 'charge' ? `{"amount":${deep('1')}}` : `{"userId":${deep('1')},"items":[{"productId":1,"quantity":1}]}`)
          : shape === 'in-item' ? `{"userId":1,"items":[{"productId":1,"quantity":1},${deep('{"productId":2,"quantity":1}')}]}`
            : shape === 'behind-duplicate' ? (route === 'charge' ? `{"amount":${deep('1')},"amount":1}` : `{"userId":${deep('1')},"userId":1,"items":[{"productId":1,"quantity":1}]}`)
              : deep('1');
      const url = route === 'charge' ? `/api/users/${[...state.users][0]}/balance/charge` : '/api/orders';
      const reply = await send('POST', url, { headers: { 'content-type': 'application/json' }, body: text });
      const what = `POST ${url} with ${shape} nested ${depth} deep (${text.length} bytes): ${text.slice(0, 60)}…`;
      expectAnswer(reply, Buffer.byteLength(text) > BODY_LIMIT ? TOO_LARGE : invalid('body'), what);
      expectNoPrototypePollution(what);
      await expectDatabaseUnchanged(what);
    });
  });

  test('oversized bodies: 413 by Content-Length or while streaming, whatever the content', async () => {
    const oversized = fc.record({
      route: fc.constantFrom('charge', 'orders'),
      bytes: fc.oneof(fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT + 64 }), fc.integer({ min: BODY_LIMIT + 1, max: 256 * 1024 })),
      filler: fc.constantFrom('x', ' ', '💥', '\\u0000'),
      ct: contentType,
      chunkSize: fc.option(fc.constantFrom(1_024, 4_096, 65_536), { nil: undefined }),
    });
    await run(oversized, 100, async ({ route, bytes, filler, ct, chunkSize }) => {
      const head = route === 'charge' ? '{"amount":1,"pad":"' : '{"userId":1,"items":[{"productId":1,"quantity":1}],"pad":"';
      const pad = filler.repeat(Math.ceil((bytes - head.length) / Buffer.byteLength(filler)));
      const text = `${head}${pad}"}`;
      const headers: Record<string, string> = ct.value === undefined ? {} : { 'content-type': ct.value };
      const url = route === 'charge' ? `/api/users/${[...state.users][0]}/balance/charge` : '/api/orders';
      const reply = await send('POST', url, { headers, body: text, chunkSize });
      const size = Buffer.byteLength(text);
      const what = `POST ${url} ${size} bytes of ${JSON.stringify(filler)}, content-type=${JSON.stringify(ct.value)}, ${chunkSize ? `chunked by ${chunkSize}` : 'content-length'}`;
      const expected = route === 'charge'
        ? bodyAnswers(ct, text, chargeAnswer(state.users.values().next().value!), chunkSize !== undefined)
        : expectedOrder(undefined, ct, text, chunkSize !== undefined);
      expectAnswer(reply, expected, what);
      await expectDatabaseUnchanged(what);
    });
  });

  test('prototype-pollution keys anywhere in a body: 400, and Object.prototype stays clean', async () => {
    const pollutingKey = fc.constantFrom('__proto__', 'constructor', 'prototype');
    const payload = fc.constantFrom('{"polluted":1}', '{"polluted":1,"isAdmin":true}', '{"prototype":{"polluted":1}}', '1', 'null', '[]');
    const polluting = fc.record({
      route: fc.constantFrom('charge', 'orders'),
      at: fc.constantFrom('top', 'only', 'item', 'nested', 'twice'),
      key: pollutingKey,
      payload,
    });
    await run(polluting, 150, async ({ route, at, key, payload }) => {
      const k = JSON.stringify(key);
      const valid = route === 'charge' ? '"amount":1' : '"userId":1,"items":[{"productId":1,"quantity":1}]';
      const text =
        at === 'only' ? `{${k}:${payload}}`
          : at === 'top' ? `{${k}:${payload},${valid}}`
            : at === 'twice' ? `{${valid},${k}:${payload},${k}:${payload}}`
              : at === 'item' ? (route === 'charge' ? `{"amount":{${k}:${payload}}}` : `{"userId":1,"items":[{"productId":1,"quantity":1,${k}:${payload}}]}`)
                : `{${valid},"x":{"y":[{${k}:${payload}}]}}`;
      const url = route === 'charge' ? `/api/users/${[...state.users][0]}/balance/charge` : '/api/orders';
      const reply = await send('POST', url, { headers: { 'content-type': 'application/json' }, body: text });
      const what = `POST ${url} ${text}`;
      expectAnswer(reply, invalid('body'), what);
      expectNoPrototypePollution(what);
      await expectDatabaseUnchanged(what);
    });
  });
});

/** Every byte of an answer is printable ASCII (JSON escapes the rest): nothing binary is echoed. */
function expectPrintable(reply: Reply, what: string): void {
  if (!/^[\x20-\x7e]*$/.test(reply.text)) throw new Error(`an answer carried non-printable bytes: ${describeCase(what, reply)}`);
}

/** Raw bytes over one socket; resolves with everything the server sent once it closes (or after `waitMs`). */
function rawExchange(text: string, waitMs = 5_000): Promise<{ reply: string; closed: boolean }> {
  const base = new URL(t.app.api);
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = net.connect(Number(base.port), base.hostname, () => socket.write(text));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply, closed: false });
    }, waitMs);
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply, closed: true });
    });
    socket.on('error', reject);
  });
}

describe('the edge, issue 22: methods, numbers as written, duplicate keys', () => {
  /** Every path of the contract with the methods its routes take (GET brings HEAD), from contract/routes.ts. */
  const allowedByPath = new Map<string, Set<string>>();
  for (const { method, route } of Object.values(ROUTES)) {
    const path = route.replace(/:id/g, '1');
    const methods = allowedByPath.get(path) ?? new Set<string>();
    methods.add(method);
    if (method === 'GET') methods.add('HEAD');
    allowedByPath.set(path, methods);
  }
  const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'PROPFIND'];
  const allowOf = (reply: Reply) => new Set(String(reply.headers.allow ?? '').split(',').map((m) => m.trim()).filter(Boolean));

  test('every 405 carries Allow (RFC 9110 §15.5.6): every path of the contract, every method it does not take', async () => {
    let checked = 0;
    for (const [path, allowed] of allowedByPath) {
      for (const method of METHODS.filter((m) => !allowed.has(m))) {
        const reply = await send(method, path);
        const what = `${method} ${path}`;
        expect({ what, status: reply.status, allow: [...allowOf(reply)].sort() }).toEqual({ what, status: 405, allow: [...allowed].sort() });
        if (method !== 'HEAD') expect({ what, code: reply.body?.error?.code }).toEqual({ what, code: 'METHOD_NOT_ALLOWED' });
        checked++;
      }
      const options = await send('OPTIONS', path);
      expect({ path, allow: [...allowOf(options)].sort() }).toEqual({ path, allow: [...allowed].sort() });
    }
    expect(checked).toBeGreaterThan(allowedByPath.size);
  });

  test('a method on a path no route serves is 404 NOT_FOUND, without Allow', async () => {
    for (const method of METHODS.filter((m) => m !== 'HEAD')) {
      const reply = await send(method, '/api/nope');
      expect({ method, status: reply.status, code: reply.body?.error?.code, allow: reply.headers.allow }).toEqual({ method, status: 404, code: 'NOT_FOUND', allow: undefined });
    }
  });

  test('the examples that were taken: an amount or quantity that is not the integer it parses to, a key given twice', async () => {
    const [userId] = [...state.users];
    const [productId] = [...state.products.keys()];
    const json = { 'content-type': 'application/json' };
    const cases: [string, string, string][] = [
      [`/api/users/${userId}/balance/charge`, '{"amount":9999999.9999999999}', 'body.amount'],
      [`/api/users/${userId}/balance/charge`, '{"amount":1.0000000000000001}', 'body.amount'],
      [`/api/users/${userId}/balance/charge`, '{"amount":1,"amount":2}', 'body.amount'],
      ['/api/orders', `{"userId":${userId},"items":[{"productId":${productId},"quantity":2.0000000000000001}]}`, 'body.items.0.quantity'],
      ['/api/orders', `{"userId":${userId},"userId":${userId},"items":[{"productId":${productId},"quantity":1}]}`, 'body.userId'],
      ['/api/orders', `{"userId":${userId},"items":[{"productId":${productId},"quantity":1,"quantity":2}]}`, 'body.items.0.quantity'],
    ];
    for (const [path, body, field] of cases) {
      const reply = await send('POST', path, { headers: json, body });
      expect({ body, status: reply.status, field: reply.body?.error?.details?.[0]?.field }).toEqual({ body, status: 400, field });
      await expectDatabaseUnchanged(`POST ${path} ${body}`);
    }
  });
});

describe('hostile input at the HTTP edge (issue 11): headers, encodings, lengths', () => {
  const opsUrl = (path: string) => `${t.app.ops}${path}`;
  const admin = (method: string, path: string, authorization: string, json?: unknown) =>
    fetch(opsUrl(path), {
      method,
      headers: { authorization, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
  afterEach(() => admin('DELETE', '/admin/rate-limit', `Bearer ${ADMIN_TOKEN}`));

  test('encodings: an unsupported Content-Encoding or charset is 415 UNSUPPORTED_MEDIA_TYPE, and nothing binary is echoed', async () => {
    const json = '{"userId":1,"items":[{"productId":1,"quantity":1}]}';
    const encoded = { gzip: gzipSync(json), 'x-gzip': gzipSync(json), deflate: deflateSync(json), br: brotliCompressSync(json) } as const;
    const encoding = fc.oneof(
      fc.constantFrom('gzip', 'x-gzip', 'deflate', 'br', 'GZIP', 'gzip, identity', 'compress', 'zstd', 'identity, gzip'),
      fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((e) => e !== 'identity'),
    );
    const charset = fc.oneof(
      fc.constantFrom('utf-16', 'UTF-16LE', 'iso-8859-1', 'latin1', 'us-ascii', 'windows-1252', 'utf-32', '"utf-16"', 'utf8'),
      fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((c) => c !== 'utf-8'),
    );
    const cases = fc.oneof(
      fc.record({ kind: fc.constant('encoding' as const), value: encoding, route: fc.constantFrom('orders', 'charge') }),
      fc.record({ kind: fc.constant('charset' as const), value: charset, route: fc.constantFrom('orders', 'charge') }),
    );
    await run(cases, 120, async ({ kind, value, route }) => {
      const body: Buffer = kind === 'encoding' ? (encoded as Record<string, Buffer>)[value.split(',')[0]!.trim().toLowerCase()] ?? gzipSync(json) : Buffer.from(json);
      const headers: Record<string, string> =
        kind === 'encoding' ? { 'content-type': 'application/json', 'content-encoding': value } : { 'content-type': `application/json; charset=${value}` };
      const url = route === 'orders' ? '/api/orders' : `/api/users/${[...state.users][0]}/balance/charge`;
      const reply = await send('POST', url, { headers, body });
      const what = `POST ${url} ${kind}=${value}`;
      expectAnswer(reply, UNSUPPORTED, what);
      expectPrintable(reply, what);
      await expectDatabaseUnchanged(what);
    });
  });

  test('encodings: binary bodies declared as JSON are 400 "not valid JSON", never echoed', async () => {
    await run(fc.uint8Array({ minLength: 1, maxLength: 2_000 }), 100, async (bytes) => {
      const body = Buffer.from(bytes);
      const reply = await send('POST', '/api/orders', { headers: { 'content-type': 'application/json' }, body });
      const what = `POST /api/orders with ${body.length} binary bytes ${body.subarray(0, 16).toString('hex')}`;
      if (reply.status !== 400) throw new Error(`expected 400: ${describeCase(what, reply)}`);
      expectPrintable(reply, what);
      await expectDatabaseUnchanged(what);
    });
  });

  test('lengths: a client-controlled string is bounded wherever it is echoed: error body and log line', async () => {
    const long = (min: number, max: number) => fc.integer({ min, max }).map((n) => 'a'.repeat(n));
    const cases = fc.oneof(
      long(300, 15_000).map((segment) => ({ what: 'path', path: `/${segment}`, headers: {} as Record<string, string> })),
      long(300, 6_000).map((key) => ({ what: 'query key', path: `/api/products?${key}=1`, headers: {} as Record<string, string> })),
      long(300, 6_000).map((key) => ({ what: 'body key', path: '/api/orders', headers: { 'content-type': 'application/json' }, body: `{"${key}":1}` })),
      long(129, 6_000).map((key) => ({ what: 'Idempotency-Key', path: '/api/orders', headers: { 'idempotency-key': key } as Record<string, string> })),
    );
    await run(cases, 60, async (c) => {
      const requestId = `bounded-${cases}-${Math.random().toString(36).slice(2)}`;
      const reply = await send(c.path.startsWith('/api/orders') ? 'POST' : 'GET', c.path, { headers: { ...c.headers, 'x-request-id': requestId }, body: (c as { body?: string }).body });
      const what = `${c.what} of ${c.path.length + ((c as { body?: string }).body?.length ?? 0)} chars`;
      if (reply.status < 400 || reply.status >= 500) throw new Error(`expected a 4xx: ${describeCase(what, reply)}`);
      // The error body: message and every field within the bound (plus the truncation marker).
      const { message, details } = reply.body.error as { message: string; details: { field?: string; message: string }[] };
      const limit = MAX_ECHOED_CHARS * 2 + 64;
      for (const text of [message, ...details.flatMap((d) => [d.field ?? '', d.message])]) {
        if (text.length > limit) throw new Error(`an error text of ${text.length} chars: ${describeCase(what, reply)}`);
      }
      const lines = t.app.logs.filter((line) => line.requestId === requestId);
      for (const line of lines) {
        const size = JSON.stringify(line).length;
        if (size > 1_500) throw new Error(`a log line of ${size} chars for ${what}`);
      }
    });
  });

  test('headers: the Bearer scheme is case-insensitive with one or more spaces (RFC 9110 §11.1); anything else is 401', async () => {
    const scheme = fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }).map((upper) => [...'bearer'].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
    const good = fc.oneof(
      fc.constant(`bearer ${ADMIN_TOKEN}`), // the issue's example
      fc.tuple(scheme, fc.integer({ min: 1, max: 3 })).map(([s, n]) => `${s}${' '.repeat(n)}${ADMIN_TOKEN}`),
    );
    const bad = fc.oneof(
      fc.constantFrom('', 'Bearer', `Bearer${ADMIN_TOKEN}`, `Basic ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN}x`, `Bearer x${ADMIN_TOKEN}`, `Bearer\t${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN} extra`, `Bearerr ${ADMIN_TOKEN}`),
      scheme.map((s) => `${s} wrong-token-0123456789abcdef`),
    );
    await run(fc.oneof(good.map((h) => ({ h, ok: true })), bad.map((h) => ({ h, ok: false }))), 80, async ({ h, ok: allowed }) => {
      const response = await admin('GET', '/admin/rate-limit', h);
      const body = (await response.json()) as { error?: { code: string } };
      if (allowed ? response.status !== 200 : response.status !== 401 || body.error?.code !== 'UNAUTHORIZED') {
        throw new Error(`Authorization: ${JSON.stringify(h)} -> ${response.status} ${JSON.stringify(body)}`);
      }
    });
  });

  test('admin numeric inputs: 400 outside the documented bounds (limit unchanged); inside, Retry-After is a whole number of seconds up to the ceiling', async () => {
    const { requestsPerSecond: rps, burst } = RATE_LIMIT_BOUNDS;
    const outside = fc.oneof(
      fc.record({ requestsPerSecond: fc.oneof(fc.constantFrom(5e-324, 0, -1, 1e308, rps.min / 2, rps.max * 2), fc.double({ max: rps.min, maxExcluded: true, noNaN: true })) }),
      fc.record({ requestsPerSecond: fc.constant(1), burst: fc.oneof(fc.constantFrom(0, -1, 0.5, 1e308, burst.max + 1), fc.double({ min: burst.max, minExcluded: true, noNaN: true })) }),
    );
    const inside = fc.record({
      // Slow enough that the bucket cannot refill while this test empties it (every limit: rate-limiter.test.ts).
      requestsPerSecond: fc.oneof(fc.constantFrom(rps.min, 0.5, 1), fc.double({ min: rps.min, max: 5, noNaN: true })),
      burst: fc.integer({ min: burst.min, max: 3 }),
    });
    await run(outside, 60, async (body) => {
      const response = await admin('PUT', '/admin/rate-limit', `Bearer ${ADMIN_TOKEN}`, body);
      const current = (await (await admin('GET', '/admin/rate-limit', `Bearer ${ADMIN_TOKEN}`)).json()) as { rateLimit: unknown };
      if (response.status !== 400 || current.rateLimit !== null) throw new Error(`${JSON.stringify(body)} -> ${response.status}, limit now ${JSON.stringify(current)}`);
    });
    await run(inside, 40, async (body) => {
      const set = await admin('PUT', '/admin/rate-limit', `Bearer ${ADMIN_TOKEN}`, body);
      if (set.status !== 200) throw new Error(`${JSON.stringify(body)} -> ${set.status}`);
      // Empty the window (it opens with the first request), then look at the refusal.
      let refused: Reply | undefined;
      for (let i = 0; i < windowOf(body).points + 2 && !refused; i++) {
        const reply = await send('GET', '/api/products');
        if (reply.status === 429) refused = reply;
      }
      const retryAfter = String(refused?.headers['retry-after']);
      if (!/^[1-9][0-9]*$/.test(retryAfter) || Number(retryAfter) > RETRY_AFTER_MAX_SECONDS) {
        throw new Error(`${JSON.stringify(body)} -> Retry-After ${retryAfter}`);
      }
    });
  });

  test('lengths: a declared body too large is refused before it is read: no 100 Continue, 413 with Connection: close', async () => {
    const declared = fc.oneof(fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 4 }), fc.constantFrom(104_857_600, 2 ** 40));
    const shape = fc.record({
      length: declared,
      expect: fc.boolean(),
      path: fc.constantFrom('/api/orders', '/api/users/1/balance/charge', '/api/products', '/nowhere'),
    });
    await run(shape, 30, async ({ length, expect: expectContinue, path }) => {
      const head =
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n` +
        `${expectContinue ? 'Expect: 100-continue\r\n' : ''}\r\n`;
      // Headers only (and, without Expect, the first bytes): the server must answer and close without waiting for more.
      const { reply, closed } = await rawExchange(expectContinue ? head : `${head}{"userId":1`);
      const what = `POST ${path} Content-Length: ${length}${expectContinue ? ' with Expect: 100-continue' : ''}`;
      if (!reply.startsWith('HTTP/1.1 413 ')) throw new Error(`expected 413 first: ${what}\n${reply.slice(0, 300)}`);
      if (!/\r\nconnection: close\r\n/i.test(reply)) throw new Error(`413 without Connection: close: ${what}\n${reply.slice(0, 300)}`);
      if (!closed) throw new Error(`the connection stayed open after 413: ${what}`);
      if (!/\r\nx-request-id: /i.test(reply) || !/\r\nx-content-type-options: nosniff\r\n/i.test(reply)) throw new Error(`413 without request id or security headers: ${what}`);
    });
    // A body that fits still gets its 100 Continue.
    const { reply } = await rawExchange('POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', 1_000);
    expect(reply.startsWith('HTTP/1.1 100 Continue\r\n')).toBe(true);
  });

  test('traffic limiting covers every public request: unknown paths and wrong methods get 429 too, without a log line each', async () => {
    await admin('PUT', '/admin/rate-limit', `Bearer ${ADMIN_TOKEN}`, { requestsPerSecond: RATE_LIMIT_BOUNDS.requestsPerSecond.min, burst: 1 });
    await send('GET', '/api/products'); // the one token
    const anyRequest = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
      path: fc.oneof(fc.constantFrom('/', '/nowhere', '/api/products', '/api/orders/popular', '/wp-admin/x.php', '/api/orders/1/cancel'), fc.webPath().map((p) => p || '/')),
    });
    await run(anyRequest, 60, async ({ method, path }) => {
      const logged = t.app.logs.length;
      const reply = await send(method, path);
      if (reply.status !== 429 || reply.body?.error?.code !== 'RATE_LIMITED') throw new Error(`expected 429: ${describeCase(`${method} ${path}`, reply)}`);
      if (t.app.logs.length !== logged) throw new Error(`a refused request was logged: ${JSON.stringify(t.app.logs.slice(logged))}`);
    });
  });
});
