import { bodyParser } from '@koa/bodyparser';
import { parse as parseContentType, type ParsedMediaType } from 'content-type';
import type { Context } from 'koa';
import { AppError, validationFailed } from '../app-error';

export const JSON_BODY_LIMIT_BYTES = 16 * 1024;

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
 * 415 UNSUPPORTED_MEDIA_TYPE (see checkMediaType), 400 VALIDATION_FAILED (not JSON, or a `__proto__` key).
 * Streaming, the limit and parsing are @koa/bodyparser's (co-body, raw-body, @hapi/bourne).
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
  return (ctx.request as { body?: unknown }).body;
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
