import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { Migration } from '../migrator';

const BATCH = 1_000;

/**
 * Copies the keys of the last 24 h from `orders`, each with the response the old code would have replayed, in the
 * same JSON as the service's order responses (frozen here: a migration must not change when the service does).
 */
async function moveKeptKeys(sequelize: Sequelize, transaction: Transaction) {
  const rows = await sequelize.query<{
    id: string; user_id: string; idempotency_key: string; request_hash: string; total_amount: string;
    created_at: Date; paid_at: Date | null; items: { productId: string; quantity: number; unitPrice: string }[];
  }>(
    `SELECT o.id, o.user_id, o.idempotency_key, o.request_hash, o.total_amount, o.created_at, o.paid_at,
            (SELECT json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity, 'unitPrice', i.unit_price)
                             ORDER BY i.product_id)
               FROM order_items i WHERE i.order_id = o.id) AS items
       FROM orders o
      WHERE o.idempotency_key IS NOT NULL AND o.request_hash IS NOT NULL
        AND o.idempotency_key ~ '^[!-~]{1,128}$'
        AND o.created_at >= now() - interval '24 hours'`,
    { type: QueryTypes.SELECT, transaction },
  );
  for (let from = 0; from < rows.length; from += BATCH) {
    const batch = rows.slice(from, from + BATCH);
    const bodies = batch.map((row) =>
      JSON.stringify({
        orderId: Number(row.id),
        userId: Number(row.user_id),
        status: 'PAID',
        totalAmount: Number(row.total_amount),
        items: (row.items ?? []).map((i) => ({ productId: Number(i.productId), quantity: i.quantity, unitPrice: Number(i.unitPrice) })),
        createdAt: new Date(row.created_at).toISOString(),
        paidAt: new Date(row.paid_at ?? row.created_at).toISOString(),
      }),
    );
    await sequelize.query(
      `INSERT INTO idempotency_keys
         (user_id, key, request_hash, order_id, response_status, response_content_type, response_body, created_at)
       SELECT v.user_id, v.key, v.request_hash, v.order_id, 201, 'application/json; charset=utf-8', v.body, v.created_at
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
              AS v(user_id, key, request_hash, order_id, body, created_at)`,
      {
        transaction,
        bind: [
          batch.map((r) => r.user_id), batch.map((r) => r.idempotency_key), batch.map((r) => r.request_hash),
          batch.map((r) => r.id), bodies, batch.map((r) => new Date(r.created_at).toISOString()),
        ],
      },
    );
  }
}

/**
 * Idempotency keys scoped to the caller and kept with the response as it was sent (issue 11):
 * - `idempotency_keys` holds one row per (user_id, key): the request's fingerprint, the order it created and the
 *   exact response (status, Content-Type, body text), replayed byte for byte; rows older than the retention
 *   (IDEMPOTENCY_KEY_RETENTION_HOURS, 24 h) are forgotten by the next keyed order of the same user;
 * - the keys still within the retention move over from `orders`, their responses rebuilt as the old code rebuilt
 *   them on replay (items in product id order), since the sent bytes were never kept;
 * - `orders.idempotency_key` (globally unique, so one shopper's key blocked another's) and `orders.request_hash` go.
 */
export const idempotencyKeys: Migration = {
  name: '0003-idempotency-keys',
  async up({ context: sequelize }) {
    // One transaction: the keys never exist in both places or in neither.
    await sequelize.transaction(async (transaction) => {
      await sequelize.query(`
      CREATE TABLE idempotency_keys (
        user_id                BIGINT      NOT NULL REFERENCES users (id),
        key                    TEXT        NOT NULL CONSTRAINT idempotency_keys_key_shape CHECK (key ~ '^[!-~]{1,128}$'),
        request_hash           TEXT        NOT NULL,
        order_id               BIGINT      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        response_status        SMALLINT    NOT NULL,
        response_content_type  TEXT        NOT NULL,
        response_body          TEXT        NOT NULL,
        created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
        CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key)
      );
      CREATE INDEX idempotency_keys_order_id_idx ON idempotency_keys (order_id);
      `, { transaction });
      await moveKeptKeys(sequelize, transaction);
      await sequelize.query('ALTER TABLE orders DROP COLUMN idempotency_key, DROP COLUMN request_hash', { transaction });
    });
  },
  async down({ context: sequelize }) {
    await sequelize.query(`
      ALTER TABLE orders ADD COLUMN idempotency_key TEXT CONSTRAINT orders_idempotency_key_unique UNIQUE,
                         ADD COLUMN request_hash TEXT;
      DROP TABLE idempotency_keys;
    `);
  },
};
