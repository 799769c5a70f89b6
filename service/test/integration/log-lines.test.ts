/**
 * One log line per refused request, at the level the contract states (issue 22, kind 6): a burst of every kind of
 * refusal the service gives at once — bad input (400), unknown path (404), wrong method (405), bad media type (415),
 * a body too large (413), and the database's own answers to a real cause from outside: another session holding an
 * ACCESS EXCLUSIVE lock on `orders`, so the status reads wait on it (LOCK_TIMEOUT) and the pool's other requests find
 * no connection (DATABASE_POOL_EXHAUSTED). Every request id must have exactly one line, a warning carrying its cause.
 */
import { Sequelize } from 'sequelize';
import { request } from '../support/http';
import { useTestApp } from '../support/test-app';

const t = useTestApp({ DB_POOL_MAX: '2', DB_POOL_ACQUIRE_TIMEOUT_MS: '300', DB_LOCK_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '3000' });

const BURST = 480;

test(`a burst of ${BURST} refused requests of every kind writes one warn line per request, with its cause`, async () => {
  const userId = await t.given.user(0);
  const kinds: ((id: string) => Promise<{ status: number }>)[] = [
    (id) => request('GET', `${t.app.api}/api/orders/status?userId=${userId}`, { headers: { 'x-request-id': id } }),
    (id) => request('GET', `${t.app.api}/api/products?limit=oops`, { headers: { 'x-request-id': id } }),
    (id) => request('GET', `${t.app.api}/api/nope`, { headers: { 'x-request-id': id } }),
    (id) => request('PATCH', `${t.app.api}/api/products/1`, { headers: { 'x-request-id': id } }),
    (id) => request('POST', `${t.app.api}/api/orders`, { body: 'userId=1', headers: { 'x-request-id': id, 'content-type': 'text/plain' } }),
    (id) => request('POST', `${t.app.api}/api/orders`, { body: '{"userId":1,"userId":2}', headers: { 'x-request-id': id, 'content-type': 'application/json' } }),
    (id) => request('POST', `${t.app.api}/api/orders`, { body: `{"pad":"${'x'.repeat(17_000)}"}`, headers: { 'x-request-id': id, 'content-type': 'application/json' } }),
  ];
  // The outside cause: a migration-style lock held by another client for longer than the burst.
  const other = new Sequelize(t.app.config.database.url, { dialect: 'postgres', logging: false, pool: { max: 1 } });
  const locked = other.transaction(async (transaction) => {
    await other.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE', { transaction });
    await other.query('SELECT pg_sleep(2.5)', { transaction });
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  let answers: { id: string; status: number }[];
  try {
    answers = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const id = `burst-${i}`;
        return { id, status: (await kinds[i % kinds.length]!(id)).status };
      }),
    );
  } finally {
    await locked;
    await other.close();
  }

  const statuses = new Set(answers.map((a) => a.status));
  for (const status of [400, 404, 405, 413, 415, 503]) expect({ status, seen: statuses.has(status) }).toEqual({ status, seen: true });
  expect(answers.every((a) => a.status >= 400)).toBe(true);
  const linesOf = (id: string) => t.app.logs.filter((line) => line.requestId === id);
  const wrong = answers
    .map((a) => ({ ...a, lines: linesOf(a.id).map((l) => `${l.level} ${l.message} ${l.status} ${l.code}`) }))
    .filter((a) => a.lines.length !== 1 || !a.lines[0]!.startsWith('warn ') || !a.lines[0]!.includes(` ${a.status} `));
  expect(wrong.slice(0, 5)).toEqual([]);
  // A database refusal's one line says why: its dbError and the code the client got.
  const refusedByDatabase = answers.filter((a) => a.status === 503).map((a) => linesOf(a.id)[0]!);
  expect(refusedByDatabase.every((l) => typeof l.dbError === 'string' && typeof l.code === 'string' && l.route === '/api/orders/status')).toBe(true);
  expect(t.app.logs.filter((l) => l.level === 'error')).toEqual([]);
});
