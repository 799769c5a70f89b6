import { z } from 'zod';
import { validationFailed } from '../app-error';
import { bounded } from '../text';

/** Parses input with a zod schema or throws 400 VALIDATION_FAILED naming each offending field. */
export function validate<Schema extends z.ZodType>(schema: Schema, input: unknown, where: string): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    // Query keys and unknown body keys are the client's text: bounded before they are echoed.
    field: bounded([where, ...issue.path.map(String)].join('.')),
    message: bounded(issue.message),
  }));
  const first = details[0]!;
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  throw validationFailed(`${first.field}: ${first.message}${more}`, details);
}

const MAX_ID = Number.MAX_SAFE_INTEGER;

/** A positive integer id as it arrives in a path or query string: digits only, no signs, exponents or spaces. */
export const idParam = z
  .string()
  .regex(/^[1-9][0-9]*$/, 'must be a positive integer')
  // Compared as digits first: past 16 of them Number() rounds, and 2^53 + 1 would pass as 2^53.
  .refine((digits) => digits.length < 16 || (digits.length === 16 && Number(digits) <= MAX_ID), 'is too large')
  .transform(Number);

/** An integer query parameter within [min, max], with a default when absent. */
export const intParam = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,6})$/, `must be an integer from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be an integer from ${min} to ${max}`)
    .default(fallback);

/** A positive integer id sent as a JSON number. */
export const idNumber = z.number({ error: 'must be a number' }).int('must be an integer').positive('must be positive').max(MAX_ID, 'is too large');

/**
 * Validates a route's query string once per distinct string and remembers the result (frozen), so a hot route that
 * shoppers call with the same few query strings skips parsing. Only successes are remembered, at most `maxRemembered`.
 */
export function rememberedQuery<Schema extends z.ZodType>(schema: Schema, maxRemembered = 1_000) {
  type Query = Readonly<z.output<Schema>>;
  const remembered = new Map<string, Query>();
  return {
    /** The validated query of a request, or 400 VALIDATION_FAILED. */
    of(ctx: { querystring: string; query: unknown }): Query {
      const known = remembered.get(ctx.querystring);
      if (known !== undefined) return known;
      const parsed: Query = Object.freeze(validate(schema, ctx.query, 'query'));
      if (remembered.size < maxRemembered) remembered.set(ctx.querystring, parsed);
      return parsed;
    },
  };
}
