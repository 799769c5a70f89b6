/**
 * Idempotency-Key on POST /api/orders, as service/docs/api-contract.md states it (Stripe's and the IETF httpapi
 * idempotency-key draft's semantics): a key is 1-128 visible ASCII characters, scoped to the caller (the order's
 * userId), kept 24 h with the response exactly as it was sent; a replay is that response byte for byte plus
 * `Idempotent-Replayed: true`. Key shapes are generated (fast-check), so every kind of key is covered, not only the
 * examples.
 */
import http from 'node:http';
import fc from 'fast-check';
import { Sequelize } from 'sequelize';
import { IDEMPOTENCY_KEY_RETENTION_HOURS } from '../../src/components/orders/model';
import { requestFingerprint } from '../../src/components/orders/place-order';
import { createMigrator, migrateUp } from '../../src/infra/migrator';
import { post } from '../support/http';
import { createTestDatabase, dropTestDatabase, startTestApp, useTestApp, type TestApp } from '../support/test-app';

// These tests are about keys, not load shedding: on a loaded machine a request may wait long for a pooled connection.
const t = useTestApp({ DB_POOL_ACQUIRE_TIMEOUT_MS: '10000' });

interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body exactly as received. */
  text: string;
  body: any;
}

/**
 * POST /api/orders through node:http, so the header goes out as given (fetch would trim or refuse some shapes) and
 * the body comes back as the exact bytes the server sent. `key: undefined` sends no Idempotency-Key header at all.
 */
function placeOrder(body: unknown, key?: string, api = t.app.api): Promise<RawReply> {
  const url = new URL(`${api}/api/orders`);
  const payload = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(payload.length) };
  if (key !== undefined) headers['idempotency-key'] = key;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, text, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const keyRows = (userId: number, key: string) =>
  t.app.sql<{ order_id: string }>('SELECT order_id FROM idempotency_keys WHERE user_id = $1 AND key = $2', [userId, key]);
const ordersOf = async (userId: number) =>
  Number((await t.app.sql<{ n: string }>('SELECT count(*) AS n FROM orders WHERE user_id = $1', [userId]))[0]!.n);
/** Makes the caller's key look `hours` old, as if that much time had passed since it was first used. */
const age = (userId: number, key: string, hours: number) =>
  t.app.sql(`UPDATE idempotency_keys SET created_at = now() - make_interval(secs => $3) WHERE user_id = $1 AND key = $2`, [
    userId, key, hours * 3600,
  ]);

/**
 * The response's headers, less those that differ on every response by design: Date, X-Request-Id (each request has
 * its own), the connection's own, and the replay marker.
 */
const contractHeaders = (reply: RawReply) => {
  const { date, 'x-request-id': _id, connection, 'keep-alive': _ka, 'idempotent-replayed': _r, ...rest } = reply.headers;
  return rest;
};

/** Keys the contract accepts: 1 to 128 visible ASCII characters (0x21-0x7E). */
const validKey = fc.stringMatching(/^[\x21-\x7e]{1,128}$/);
const visible = (min: number, max: number) => fc.stringMatching(new RegExp(`^[\\x21-\\x7e]{${min},${max}}$`));

/**
 * Every other shape a client can put on the wire, with why it is refused. HTTP drops leading and trailing
 * whitespace of a header value, so "whitespace only" arrives as an empty key.
 */
const invalidKey: fc.Arbitrary<{ kind: string; key: string }> = fc.oneof(
  fc.constant({ kind: 'empty', key: '' }),
  fc.stringMatching(/^[ \t]{1,10}$/).map((key) => ({ kind: 'whitespace only', key })),
  fc.integer({ min: 129, max: 2_000 }).chain((n) => visible(n, n)).map((key) => ({ kind: 'longer than 128', key })),
  fc
    .tuple(visible(1, 20), fc.constantFrom(' ', '\t', '  '), visible(1, 20))
    .map(([a, space, b]) => ({ kind: 'inner whitespace', key: `${a}${space}${b}` })),
  fc
    .tuple(visible(0, 20), fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), visible(0, 20))
    .map(([a, c, b]) => ({ kind: 'non-ASCII byte', key: `${a}${c}${b}` })),
);

describe('POST /api/orders with Idempotency-Key', () => {
  test('the same key and body returns the original response and places no second order', async () => {
    const userId = await t.given.user(10_000);
    const productId = await t.given.product(1_000, 10);
    const body = { userId, items: [{ productId, quantity: 2 }] };

    const first = await placeOrder(body, 'checkout-1');
    const again = await placeOrder(body, 'checkout-1');

    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await keyRows(userId, 'checkout-1')).toEqual([{ order_id: String(first.body.orderId) }]);
    expect(await ordersOf(userId)).toBe(1);
    expect(await t.given.balanceOf(userId)).toBe(8_000);
    expect(await t.given.stockOf(productId)).toBe(8);
  });

  test('a replay is the original response byte for byte (status, body with its item order, headers) plus Idempotent-Replayed', async () => {
    const userId = await t.given.user(100_000);
    const low = await t.given.product(1_000, 10);
    const high = await t.given.product(2_000, 10);
    // Listed high id first: the rebuilt replay of old sorted the items by product id.
    const body = { userId, items: [{ productId: high, quantity: 1 }, { productId: low, quantity: 3 }] };

    const first = await placeOrder(body, 'replay-bytes');
    const replay = await placeOrder(body, 'replay-bytes');

    expect(first.status).toBe(201);
    expect(first.body.items.map((i: { productId: number }) => i.productId)).toEqual([high, low]);
    expect(replay.status).toBe(first.status);
    expect(replay.text).toBe(first.text);
    expect(contractHeaders(replay)).toEqual(contractHeaders(first));
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await ordersOf(userId)).toBe(1);
  });

  test('the same key with a different body is 422 IDEMPOTENCY_KEY_REUSED and changes nothing', async () => {
    const userId = await t.given.user(10_000);
    const productId = await t.given.product(1_000, 10);
    await placeOrder({ userId, items: [{ productId, quantity: 1 }] }, 'checkout-2');

    const reused = await placeOrder({ userId, items: [{ productId, quantity: 3 }] }, 'checkout-2');

    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await t.given.stockOf(productId)).toBe(9);
    expect(await ordersOf(userId)).toBe(1);
  });

  test('keys are scoped to the caller: user B using user A\'s key places a new order of their own', async () => {
    const alice = await t.given.user(10_000);
    const bob = await t.given.user(10_000);
    const productId = await t.given.product(1_000, 10);

    const a = await placeOrder({ userId: alice, items: [{ productId, quantity: 1 }] }, 'shared-key');
    const b = await placeOrder({ userId: bob, items: [{ productId, quantity: 2 }] }, 'shared-key');
    const bAgain = await placeOrder({ userId: bob, items: [{ productId, quantity: 2 }] }, 'shared-key');

    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.body.orderId).not.toBe(a.body.orderId);
    expect(b.body.userId).toBe(bob);
    expect(bAgain.text).toBe(b.text);
    expect(await ordersOf(alice)).toBe(1);
    expect(await ordersOf(bob)).toBe(1);
    expect(await t.given.stockOf(productId)).toBe(7);
  });

  test(`a key is kept ${IDEMPOTENCY_KEY_RETENTION_HOURS} h: just before, it replays; after, it is forgotten and the same request is a new order`, async () => {
    const userId = await t.given.user(100_000);
    const productId = await t.given.product(1_000, 10);
    const body = { userId, items: [{ productId, quantity: 1 }] };
    const first = await placeOrder(body, 'kept-a-day');

    await age(userId, 'kept-a-day', IDEMPOTENCY_KEY_RETENTION_HOURS - 1 / 60);
    const withinRetention = await placeOrder(body, 'kept-a-day');
    await age(userId, 'kept-a-day', IDEMPOTENCY_KEY_RETENTION_HOURS + 1 / 3600);
    const afterRetention = await placeOrder(body, 'kept-a-day');
    const replayOfTheNewOne = await placeOrder(body, 'kept-a-day');

    expect(withinRetention.text).toBe(first.text);
    expect(withinRetention.headers['idempotent-replayed']).toBe('true');
    expect(afterRetention.status).toBe(201);
    expect(afterRetention.headers['idempotent-replayed']).toBeUndefined();
    expect(afterRetention.body.orderId).not.toBe(first.body.orderId);
    expect(replayOfTheNewOne.text).toBe(afterRetention.text);
    expect(await keyRows(userId, 'kept-a-day')).toEqual([{ order_id: String(afterRetention.body.orderId) }]);
    expect(await ordersOf(userId)).toBe(2);
    expect(await t.given.stockOf(productId)).toBe(8);
  });

  test('an expired key can be used again with another body', async () => {
    const userId = await t.given.user(100_000);
    const productId = await t.given.product(1_000, 10);
    await placeOrder({ userId, items: [{ productId, quantity: 1 }] }, 'expired-other-body');
    await age(userId, 'expired-other-body', IDEMPOTENCY_KEY_RETENTION_HOURS + 1);

    const other = await placeOrder({ userId, items: [{ productId, quantity: 4 }] }, 'expired-other-body');

    expect(other.status).toBe(201);
    expect(await t.given.stockOf(productId)).toBe(5);
  });

  test('a present but empty key is 400 naming the header, never "no key": sent twice, no order at all', async () => {
    const userId = await t.given.user(10_000);
    const productId = await t.given.product(1_000, 10);
    const body = { userId, items: [{ productId, quantity: 1 }] };

    const replies = [await placeOrder(body, ''), await placeOrder(body, '')];

    for (const reply of replies) {
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe('VALIDATION_FAILED');
      expect(reply.body.error.details[0].field).toBe('headers.Idempotency-Key');
    }
    expect(await ordersOf(userId)).toBe(0);
    expect(await t.given.stockOf(productId)).toBe(10);
  });

  test('concurrent submissions of one key create exactly one order; the rest replay it or are told it is in progress', async () => {
    const userId = await t.given.user(100_000);
    const productId = await t.given.product(1_000, 100);
    const body = { userId, items: [{ productId, quantity: 1 }] };

    const responses = await Promise.all(Array.from({ length: 20 }, () => placeOrder(body, 'double-click')));

    const created = responses.filter((r) => r.status === 201);
    const inProgress = responses.filter((r) => r.status === 409);
    expect(created.length + inProgress.length).toBe(20);
    expect(new Set(created.map((r) => r.text)).size).toBe(1);
    expect(inProgress.every((r) => r.body.error.code === 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
    expect(await ordersOf(userId)).toBe(1);
    expect(await t.given.stockOf(productId)).toBe(99);
    expect(await t.given.balanceOf(userId)).toBe(99_000);
  });

  test('across two service instances on one database, concurrent duplicates still make exactly one order', async () => {
    const second: TestApp = await startTestApp({ DATABASE_URL: t.app.config.database.url, DB_POOL_ACQUIRE_TIMEOUT_MS: '10000' });
    try {
      const userId = await t.given.user(100_000);
      const productId = await t.given.product(1_000, 100);
      const body = { userId, items: [{ productId, quantity: 1 }] };

      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => placeOrder(body, 'two-instances', i % 2 === 0 ? t.app.api : second.api)),
      );

      expect(responses.filter((r) => r.status !== 201 && r.status !== 409)).toEqual([]);
      expect(new Set(responses.filter((r) => r.status === 201).map((r) => r.text)).size).toBe(1);
      expect(await ordersOf(userId)).toBe(1);
      expect(await t.given.stockOf(productId)).toBe(99);
    } finally {
      await second.close();
    }
  });

  test('a refused order does not burn the key: the retry after a top-up succeeds', async () => {
    const userId = await t.given.user(500);
    const productId = await t.given.product(1_000, 10);
    const body = { userId, items: [{ productId, quantity: 1 }] };

    const refused = await placeOrder(body, 'retry-after-topup');
    await post(`${t.app.api}/api/users/${userId}/balance/charge`, { amount: 1_000 });
    const retried = await placeOrder(body, 'retry-after-topup');

    expect(refused.status).toBe(409);
    expect(retried.status).toBe(201);
    expect(await ordersOf(userId)).toBe(1);
  });
});

describe('Idempotency-Key shapes, generated', () => {
  test('any valid key: the first request places the order, the replay is byte for byte, another caller with the key gets their own order', async () => {
    const productId = await t.given.product(1, 1_000_000);
    await fc.assert(
      fc.asyncProperty(validKey, async (key) => {
        const alice = await t.given.user(1_000);
        const bob = await t.given.user(1_000);
        const body = { userId: alice, items: [{ productId, quantity: 1 }] };

        const first = await placeOrder(body, key);
        const replay = await placeOrder(body, key);
        const other = await placeOrder({ userId: bob, items: [{ productId, quantity: 1 }] }, key);

        expect(first.status).toBe(201);
        expect(replay.text).toBe(first.text);
        expect(replay.headers['idempotent-replayed']).toBe('true');
        expect(other.status).toBe(201);
        expect(other.body.userId).toBe(bob);
        expect(await ordersOf(alice)).toBe(1);
        expect(await ordersOf(bob)).toBe(1);
      }),
      { numRuns: 40 },
    );
  });

  test('any other key shape is 400 VALIDATION_FAILED naming the header, and places nothing', async () => {
    const userId = await t.given.user(1_000_000);
    const productId = await t.given.product(1, 1_000_000);
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(invalidKey, async ({ kind, key }) => {
        seen.add(kind);
        const reply = await placeOrder({ userId, items: [{ productId, quantity: 1 }] }, key);

        expect({ kind, status: reply.status, code: reply.body?.error?.code, field: reply.body?.error?.details?.[0]?.field }).toEqual({
          kind, status: 400, code: 'VALIDATION_FAILED', field: 'headers.Idempotency-Key',
        });
      }),
      { numRuns: 100 },
    );
    expect(await ordersOf(userId)).toBe(0);
    expect(await t.given.stockOf(productId)).toBe(1_000_000);
    expect([...seen].sort()).toEqual(['empty', 'inner whitespace', 'longer than 128', 'non-ASCII byte', 'whitespace only']);
  });
});

describe('migration 0003 moves the keys kept before it', () => {
  test('a key used within 24 h before the migration replays its order; an older one is gone and the key is free', async () => {
    const database = await createTestDatabase(false);
    const sequelize = new Sequelize(database.url, { dialect: 'postgres', logging: false });
    let app: TestApp | undefined;
    try {
      await createMigrator(sequelize).up({ to: '0002-hot-query-indexes' });
      const [[user]] = (await sequelize.query(`INSERT INTO users (name, balance) VALUES ('u', 100000) RETURNING id`)) as [{ id: string }[], unknown];
      const [[product]] = (await sequelize.query(`INSERT INTO products (name, price, stock) VALUES ('p', 1000, 10) RETURNING id`)) as [{ id: string }[], unknown];
      const userId = Number(user!.id);
      const productId = Number(product!.id);
      const request = { userId, items: [{ productId, quantity: 1 }] };
      const placedBefore = async (key: string, age: string) => {
        const [[order]] = (await sequelize.query(
          `INSERT INTO orders (user_id, status, total_amount, idempotency_key, request_hash, created_at, paid_at)
           VALUES ($1, 'PAID', 1000, $2, $3, now() - $4::interval, now() - $4::interval) RETURNING id`,
          { bind: [userId, key, requestFingerprint(request), age] },
        )) as [{ id: string }[], unknown];
        await sequelize.query('INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, 1, 1000)', {
          bind: [order!.id, productId],
        });
        return Number(order!.id);
      };
      const recent = await placedBefore('before-0003-recent', '1 hour');
      await placedBefore('before-0003-old', '25 hours');

      await migrateUp(sequelize);
      app = await startTestApp({ DATABASE_URL: database.url });
      const replay = await placeOrder(request, 'before-0003-recent', app.api);
      const fresh = await placeOrder(request, 'before-0003-old', app.api);

      expect(replay.status).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(expect.objectContaining({ orderId: recent, userId, status: 'PAID', totalAmount: 1000, items: [{ productId, quantity: 1, unitPrice: 1000 }] }));
      expect(fresh.status).toBe(201);
      expect(fresh.headers['idempotent-replayed']).toBeUndefined();
      const [[count]] = (await sequelize.query('SELECT count(*)::int AS n FROM orders')) as [{ n: number }[], unknown];
      expect(count!.n).toBe(3);
    } finally {
      await app?.close();
      await sequelize.close();
      await dropTestDatabase(database.name);
    }
  });
});
