import { bodyParser } from '@koa/bodyparser';
import { parse as parseContentType, type ParsedMediaType } from 'content-type';
import { createScanner, SyntaxKind, visit, type JSONPath } from 'jsonc-parser';
import type { Context } from 'koa';
import { AppError, validationFailed, type ErrorDetail } from '../app-error';
import { bounded } from '../text';

export const JSON_BODY_LIMIT_BYTES = 16 * 1024;
/** The deepest nesting of arrays and objects a body may have (the deepest route's shape has 3). */
export const JSON_MAX_DEPTH = 32;

const tooLarge = (limit: number) => new AppError(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than ${limit} bytes`);
const unsupported = (message: string) => new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', message);
const NOT_JSON_MESSAGE = 'Request body is not valid JSON';

/**
 * Whether a request declares a body larger than `limit` bytes (Content-Length, RFC 9112 §6.3): such a request is
 * refused before a byte of it is read. Malformed lengths are Node's parser's business (it answers 400 first).
 */
export const declaresTooLarge = (headers: { 'content-length'?: string }, limit = JSON_BODY_LIMIT_BYTES): boolean =>
  Number(headers['content-length'] ?? 0) > limit;

/**
 * The media type checks, from the headers alone: `Content-Type: application/json` (RFC 9110 §8.3 grammar, parsed by
 * jshttp/content-type; type and parameter names case-insensitive), a `charset` parameter if any must be UTF-8
 * (RFC 8259 §8.1), and no `Content-Encoding` other than identity (bodies are a few hundred bytes; inflating them would
 * only let a small upload expand). Throws 415 UNSUPPORTED_MEDIA_TYPE, never echoing the header.
 */
function checkMediaType(ctx: Context): void {
  let parsed: ParsedMediaType;
  try {
    parsed = parseContentType(ctx.get('content-type'));
  } catch {
    throw unsupported('Request body must be sent as Content-Type: application/json');
  }
  if (parsed.type !== 'application/json') throw unsupported('Request body must be sent as Content-Type: application/json');
  const charset = parsed.parameters.charset;
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') throw unsupported('Request body must be encoded as UTF-8');
  const encoding = ctx.get('content-encoding').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') throw unsupported('Content-Encoding is not supported; send the body uncompressed');
}

/**
 * Reads a JSON request body, as the routes that take one call it (a route without a body never reads one):
 * undefined when there is no body, else the parsed value. Errors, as the contract's AppErrors:
 * 413 PAYLOAD_TOO_LARGE (declared or streamed past `limit`; the connection is closed, as the rest is not read),
 * 415 UNSUPPORTED_MEDIA_TYPE (see checkMediaType), 400 VALIDATION_FAILED (not JSON, a `__proto__` key, or text that
 * means something else to another parser: see checkAsWritten). Streaming, the limit and parsing are @koa/bodyparser's
 * (co-body, raw-body, @hapi/bourne).
 */
export async function readJsonBody(ctx: Context, limit = JSON_BODY_LIMIT_BYTES): Promise<unknown> {
  if (declaresTooLarge(ctx.req.headers, limit)) {
    ctx.set('Connection', 'close');
    throw tooLarge(limit);
  }
  if (!ctx.request.length && !ctx.get('transfer-encoding')) return undefined;
  checkMediaType(ctx);
  try {
    await parserFor(limit)(ctx, async () => undefined);
  } catch (error) {
    // Whitespace only is no body at all.
    if (error instanceof SyntaxError && String((error as { body?: unknown }).body ?? '').trim() === '') return undefined;
    throw toAppError(ctx, error, limit);
  }
  const { rawBody = '', body } = ctx.request as { rawBody?: string; body?: unknown };
  const details = checkAsWritten(rawBody);
  if (details.length > 0) {
    const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
    throw validationFailed(`${details[0]!.field}: ${details[0]!.message}${more}`, details);
  }
  return body;
}

const fieldOf = (path: JSONPath, key?: string) => bounded(['body', ...path, ...(key === undefined ? [] : [key])].join('.'));

/**
 * What JSON.parse hides about a body that already parsed, as 400 details naming each field (`body.items.0.quantity`):
 * - a key given twice in one object, at any depth (JSON.parse keeps the last, many gateways and WAFs the first, so
 *   the two would act on different requests);
 * - a number whose written value is not the number it parses to (`1.0000000000000001` is 1, `9007199254740993` is
 *   9007199254740992): the service must check the value the client wrote, not a rounded one.
 * Scanned with jsonc-parser's visitor over the raw text; `[]` when there is nothing to say.
 */
export function checkAsWritten(text: string): ErrorDetail[] {
  // The visit below recurses per level: a body nested past any route's shape is refused before it (no stack overflow),
  // measured on the text, where a key given twice may hide a deep value JSON.parse dropped.
  if (deeperThan(text, JSON_MAX_DEPTH)) return [{ field: 'body', message: `is nested deeper than ${JSON_MAX_DEPTH} levels` }];
  const details: ErrorDetail[] = [];
  const keysOfOpenObjects: Set<string>[] = [];
  visit(
    text,
    {
      onObjectBegin: () => void keysOfOpenObjects.push(new Set()),
      onObjectEnd: () => void keysOfOpenObjects.pop(),
      onObjectProperty(property, _offset, _length, _line, _character, pathSupplier) {
        const keys = keysOfOpenObjects.at(-1)!;
        if (keys.has(property)) details.push({ field: fieldOf(pathSupplier(), property), message: 'is given more than once' });
        keys.add(property);
      },
      onLiteralValue(value, offset, length, _line, _character, pathSupplier) {
        if (typeof value === 'number' && !sameDecimal(text.slice(offset, offset + length), value)) {
          details.push({ field: fieldOf(pathSupplier()), message: 'cannot be represented exactly as a number (numbers of up to 15 significant digits always are)' });
        }
      },
    },
    { disallowComments: true },
  );
  return details;
}

/** Whether arrays and objects in a JSON text nest deeper than `limit`, by jsonc-parser's scanner (a loop, no recursion). */
function deeperThan(text: string, limit: number): boolean {
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let token = scanner.scan(); token !== SyntaxKind.EOF; token = scanner.scan()) {
    if (token === SyntaxKind.OpenBraceToken || token === SyntaxKind.OpenBracketToken) {
      if (++depth > limit) return true;
    } else if (token === SyntaxKind.CloseBraceToken || token === SyntaxKind.CloseBracketToken) depth--;
  }
  return false;
}

/** A JSON number's text as sign, significant digits and exponent: `-1.50e2` → ['-', '15', 1]; zero is ['', '0', 0]. */
function decimal(text: string): [string, string, number] {
  const [, sign = '', int = '', fraction = '', exponent = '0'] = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text) ?? [];
  const all = `${int}${fraction}`.replace(/^0+/, '');
  const digits = all.replace(/0+$/, '');
  if (digits === '') return ['', '0', 0];
  return [sign, digits, Number(exponent) - fraction.length + (all.length - digits.length)];
}

/** Whether a number written as `text` is exactly `value` (Number's shortest round-trip text names the same decimal). */
function sameDecimal(text: string, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  const [a, b] = [decimal(text), decimal(String(value))];
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

const parsers = new Map<number, ReturnType<typeof bodyParser>>();
function parserFor(limit: number) {
  let parser = parsers.get(limit);
  if (!parser) {
    // Not strict: any JSON value parses, and the route's schema says what is wrong with it.
    parser = bodyParser({ enableTypes: ['json'], jsonLimit: limit, jsonStrict: false, encoding: 'utf-8', parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'] });
    parsers.set(limit, parser);
  }
  return parser;
}

function toAppError(ctx: Context, error: unknown, limit: number): unknown {
  const { type, status } = error as { type?: string; status?: number };
  if (type === 'entity.too.large') {
    ctx.set('Connection', 'close');
    return tooLarge(limit);
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return unsupported('Request body must be UTF-8 JSON, uncompressed');
  if (error instanceof SyntaxError && /prototype property/.test(error.message)) {
    return validationFailed('body: must not contain a __proto__ key', [{ field: 'body', message: 'must not contain a __proto__ key' }]);
  }
  // What does not parse is named, never echoed (the parser's message quotes the input).
  if (error instanceof SyntaxError) return validationFailed(NOT_JSON_MESSAGE);
  if (typeof status === 'number' && status >= 400 && status < 500) return validationFailed('Request body could not be read');
  return error;
}
