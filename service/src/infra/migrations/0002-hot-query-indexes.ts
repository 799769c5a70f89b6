import { HOT_QUERY_INDEXES } from '../../../../contract/queries';
import type { Migration } from '../migrator';

const [{ name: STATUS_INDEX_NAME, table: STATUS_INDEX_TABLE, columns: STATUS_INDEX_COLUMNS }] = HOT_QUERY_INDEXES;

/**
 * What the two incident endpoints need (plans measured at 1M orders in service/docs/queries.md):
 * - status by user: newest orders of one user, an index-ordered scan that stops after LIMIT rows;
 * - popular: a daily per-product sales rollup, kept in the order transaction, so the ranking aggregates
 *   at most days x products rows instead of every order item in the window;
 * - paid-time index for the ad-hoc "what sold in this window" queries a responder runs from the runbook.
 */
export const hotQueryIndexes: Migration = {
  name: '0002-hot-query-indexes',
  async up({ context: sequelize }) {
    await sequelize.query(`
      CREATE INDEX ${STATUS_INDEX_NAME} ON ${STATUS_INDEX_TABLE} ${STATUS_INDEX_COLUMNS};
      CREATE INDEX orders_paid_at_idx ON orders (paid_at) WHERE status = 'PAID';
      CREATE TABLE product_daily_sales (
        sales_date  DATE   NOT NULL,
        product_id  BIGINT NOT NULL REFERENCES products (id),
        quantity    BIGINT NOT NULL CONSTRAINT product_daily_sales_quantity_non_negative CHECK (quantity >= 0),
        revenue     BIGINT NOT NULL CONSTRAINT product_daily_sales_revenue_non_negative CHECK (revenue >= 0),
        PRIMARY KEY (sales_date, product_id)
      );
    `);
  },
  async down({ context: sequelize }) {
    await sequelize.query(`
      DROP TABLE product_daily_sales;
      DROP INDEX orders_paid_at_idx;
      DROP INDEX ${STATUS_INDEX_NAME};
    `);
  },
};
