import type { Context } from 'koa';
import { AppError, validationFailed } from '../app-error';

export const JSON_BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Reads a JSON request body with a hard size limit. Routes call it themselves, so a route that takes no body
 * never reads one.
 */
export async function readJsonBody(ctx: Context, limit = JSON_BODY_LIMIT_BYTES): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw tooLarge(limit);
  if (!ctx.is('application/json')) {
    if (declared === 0 && !ctx.get('transfer-encoding')) return undefined;
    throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request body must be sent as Content-Type: application/json');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.set('Connection', 'close');
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw validationFailed(`Request body is not valid JSON: ${(error as Error).message}`);
  }
}

function tooLarge(limit: number): AppError {
  return new AppError(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than ${limit} bytes`);
}
