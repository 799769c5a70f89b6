import type { Database } from '../../infra/database';

export interface Product {
  id: number;
  name: string;
  price: number;
  stock: number;
}

interface ProductRow {
  id: string;
  name: string;
  price: string;
  stock: number;
}

const toProduct = (row: ProductRow): Product => ({
  id: Number(row.id),
  name: row.name,
  price: Number(row.price),
  stock: row.stock,
});

export function createProductRepository(db: Database) {
  return {
    async list(limit: number, offset: number): Promise<Product[]> {
      const rows = await db.query<ProductRow>(
        'products_list',
        'SELECT id, name, price, stock FROM products ORDER BY id LIMIT $1 OFFSET $2',
        [limit, offset],
      );
      return rows.map(toProduct);
    },
    async findById(id: number): Promise<Product | undefined> {
      const [row] = await db.query<ProductRow>(
        'product_by_id',
        'SELECT id, name, price, stock FROM products WHERE id = $1',
        [id],
      );
      return row && toProduct(row);
    },
  };
}

export type ProductRepository = ReturnType<typeof createProductRepository>;
