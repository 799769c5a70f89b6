import type { Migration } from '../migrator';

/** Users, products, orders and their items; money is integer KRW and never negative. */
export const initialSchema: Migration = {
  name: '0001-initial-schema',
  async up({ context: sequelize }) {
    await sequelize.query(`
      CREATE TABLE users (
        id          BIGSERIAL PRIMARY KEY,
        name        TEXT        NOT NULL,
        balance     BIGINT      NOT NULL DEFAULT 0 CONSTRAINT users_balance_non_negative CHECK (balance >= 0),
        created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE TABLE products (
        id          BIGSERIAL PRIMARY KEY,
        name        TEXT        NOT NULL,
        price       BIGINT      NOT NULL CONSTRAINT products_price_non_negative CHECK (price >= 0),
        stock       INTEGER     NOT NULL CONSTRAINT products_stock_non_negative CHECK (stock >= 0),
        created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE TABLE orders (
        id               BIGSERIAL PRIMARY KEY,
        user_id          BIGINT      NOT NULL REFERENCES users (id),
        status           TEXT        NOT NULL CONSTRAINT orders_status_known CHECK (status IN ('PAID', 'CANCELLED')),
        total_amount     BIGINT      NOT NULL CONSTRAINT orders_total_non_negative CHECK (total_amount >= 0),
        idempotency_key  TEXT        CONSTRAINT orders_idempotency_key_unique UNIQUE,
        request_hash     TEXT,
        created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
        paid_at          TIMESTAMPTZ,
        updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE TABLE order_items (
        order_id    BIGINT  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        product_id  BIGINT  NOT NULL REFERENCES products (id),
        quantity    INTEGER NOT NULL CONSTRAINT order_items_quantity_positive CHECK (quantity > 0),
        unit_price  BIGINT  NOT NULL CONSTRAINT order_items_unit_price_non_negative CHECK (unit_price >= 0),
        PRIMARY KEY (order_id, product_id)
      );
    `);
  },
  async down({ context: sequelize }) {
    await sequelize.query('DROP TABLE order_items, orders, products, users');
  },
};
