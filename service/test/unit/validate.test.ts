import { z } from 'zod';
import { AppError } from '../../src/lib/app-error';
import { idParam, intParam, validate } from '../../src/lib/http/validate';

describe('idParam', () => {
  test.each(['1', '42', '9007199254740991'])('accepts %s', (value) => {
    expect(validate(idParam, value, 'id')).toBe(Number(value));
  });

  test.each(['0', '-1', '01', '1e3', ' 5', '5 ', '0x10', '1.0', ''])('rejects %j as not a positive integer', (value) => {
    expect(() => validate(idParam, value, 'id')).toThrow(/^id: must be a positive integer$/);
  });

  test.each(['9007199254740992', '9007199254740993', '99999999999999999', '99999999999999999999', '1'.padEnd(400, '0')])(
    'rejects %s, past Number.MAX_SAFE_INTEGER, as too large whatever its length',
    (value) => {
      expect(() => validate(idParam, value, 'id')).toThrow(/^id: is too large$/);
    },
  );
});

describe('intParam', () => {
  const days = intParam(1, 30, 3);
  test('uses the default when absent and parses within range', () => {
    expect(validate(days, undefined, 'days')).toBe(3);
    expect(validate(days, '30', 'days')).toBe(30);
  });
  test.each(['0', '31', '-1', '2.5', 'abc', '1e1'])('rejects %j', (value) => {
    expect(() => validate(days, value, 'days')).toThrow(/days: must be an integer from 1 to 30/);
  });
});

describe('validate', () => {
  test('reports each failing field with its path and a message', () => {
    const schema = z.strictObject({ amount: z.number(), note: z.string() });
    try {
      validate(schema, { amount: 'x', extra: true }, 'body');
      throw new Error('expected a validation error');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      const appError = error as AppError;
      expect(appError.status).toBe(400);
      expect(appError.code).toBe('VALIDATION_FAILED');
      expect(appError.details.map((d) => d.field)).toEqual(expect.arrayContaining(['body.amount', 'body.note', 'body']));
      expect(appError.message).toMatch(/^body\.\w+: .+ \(and 2 more\)$/);
    }
  });
});
