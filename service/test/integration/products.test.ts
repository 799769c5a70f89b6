import { get } from '../support/http';
import { useTestApp } from '../support/test-app';

const t = useTestApp();

describe('GET /api/products', () => {
  test('pages through products in id order with the contract shape', async () => {
    const ids = [await t.given.product(500, 3), await t.given.product(700, 0), await t.given.product(900, 9)];

    const first = await get(`${t.app.api}/api/products?limit=2&offset=0`);
    const second = await get(`${t.app.api}/api/products?limit=2&offset=2`);

    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      products: [
        { id: ids[0], name: expect.any(String), price: 500, stock: 3 },
        { id: ids[1], name: expect.any(String), price: 700, stock: 0 },
      ],
      limit: 2,
      offset: 0,
    });
    expect(second.body.products.map((p: { id: number }) => p.id)).toEqual([ids[2]]);
  });

  test('defaults to limit 20, offset 0', async () => {
    const response = await get(`${t.app.api}/api/products`);
    expect(response.body).toMatchObject({ limit: 20, offset: 0 });
  });

  test.each(['limit=0', 'limit=101', 'limit=abc', 'limit=1e1', 'offset=-1', 'limit=5&limit=6', 'sort=name'])(
    'rejects ?%s with 400 VALIDATION_FAILED naming the field',
    async (query) => {
      const response = await get(`${t.app.api}/api/products?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.details[0].field).toMatch(/^query/);
      expect(response.body.error.message.length).toBeGreaterThan(10);
    },
  );
});

describe('GET /api/products/:id', () => {
  test('returns the product', async () => {
    const id = await t.given.product(12_300, 7);
    const response = await get(`${t.app.api}/api/products/${id}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id, name: expect.any(String), price: 12_300, stock: 7 });
  });

  test('404 PRODUCT_NOT_FOUND for an unknown id', async () => {
    const response = await get(`${t.app.api}/api/products/987654321`);
    expect(response.status).toBe(404);
    expect(response.body.error).toEqual({ code: 'PRODUCT_NOT_FOUND', message: expect.stringContaining('987654321'), details: [] });
  });

  test.each(['abc', '0', '-1', '1.5', '99999999999999999999'])('400 for id %s', async (id) => {
    const response = await get(`${t.app.api}/api/products/${id}`);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });
});
