import { get, post, request } from '../support/http';
import { useTestApp } from '../support/test-app';

const t = useTestApp();

describe('GET /api/users/:id/balance', () => {
  test('returns the balance', async () => {
    const userId = await t.given.user(42_000);
    const response = await get(`${t.app.api}/api/users/${userId}/balance`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ userId, balance: 42_000 });
  });

  test('404 USER_NOT_FOUND for an unknown user', async () => {
    const response = await get(`${t.app.api}/api/users/123456789/balance`);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('USER_NOT_FOUND');
  });
});

describe('POST /api/users/:id/balance/charge', () => {
  test('adds the amount and returns the new balance', async () => {
    const userId = await t.given.user(1_000);
    const response = await post(`${t.app.api}/api/users/${userId}/balance/charge`, { amount: 10_000_000 });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ userId, balance: 10_001_000 });
    expect(await t.given.balanceOf(userId)).toBe(10_001_000);
  });

  test('404 USER_NOT_FOUND for an unknown user, and nothing is written', async () => {
    const response = await post(`${t.app.api}/api/users/123456789/balance/charge`, { amount: 100 });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('USER_NOT_FOUND');
  });

  test.each([
    ['zero', { amount: 0 }],
    ['above the maximum', { amount: 10_000_001 }],
    ['a fraction', { amount: 1.5 }],
    ['a string', { amount: '100' }],
    ['negative', { amount: -5 }],
    ['missing', {}],
    ['with an unknown field', { amount: 100, currency: 'USD' }],
    ['an array', [100]],
    ['null', null],
  ])('400 VALIDATION_FAILED when the amount is %s, and the balance is unchanged', async (_case, body) => {
    const userId = await t.given.user(5_000);
    const response = await post(`${t.app.api}/api/users/${userId}/balance/charge`, body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.details.length).toBeGreaterThan(0);
    expect(await t.given.balanceOf(userId)).toBe(5_000);
  });

  test('400 for malformed JSON, 415 for another content type, 413 for an oversized body', async () => {
    const userId = await t.given.user(5_000);
    const url = `${t.app.api}/api/users/${userId}/balance/charge`;

    const malformed = await request('POST', url, { body: '{"amount": 1', headers: { 'content-type': 'application/json' } });
    const wrongType = await request('POST', url, { body: 'amount=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const huge = await request('POST', url, { json: { amount: 1, pad: 'x'.repeat(100_000) } });

    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('not valid JSON') });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await t.given.balanceOf(userId)).toBe(5_000);
  });
});
