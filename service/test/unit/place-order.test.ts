import { AppError } from '../../src/lib/app-error';
import { priceLines, requestFingerprint } from '../../src/components/orders/place-order';

describe('priceLines', () => {
  const products = [
    { id: 1, price: 1_500, stock: 10 },
    { id: 2, price: 20_000, stock: 1 },
  ];

  test('prices each line at the current product price and totals the order', () => {
    const { lines, totalAmount } = priceLines({ userId: 7, items: [{ productId: 1, quantity: 3 }, { productId: 2, quantity: 1 }] }, products);
    expect(lines).toEqual([
      { productId: 1, quantity: 3, unitPrice: 1_500 },
      { productId: 2, quantity: 1, unitPrice: 20_000 },
    ]);
    expect(totalAmount).toBe(24_500);
  });

  test('names every product that does not exist', () => {
    const attempt = () => priceLines({ userId: 7, items: [{ productId: 1, quantity: 1 }, { productId: 9, quantity: 1 }] }, products);
    expect(attempt).toThrow(AppError);
    expect(attempt).toThrow('Product 9 does not exist');
  });

  test('refuses more than the stock with the available quantity in the details', () => {
    try {
      priceLines({ userId: 7, items: [{ productId: 2, quantity: 2 }] }, products);
      throw new Error('expected OUT_OF_STOCK');
    } catch (error) {
      expect(error).toMatchObject({ status: 409, code: 'OUT_OF_STOCK', details: [{ productId: 2, requested: 2, available: 1 }] });
    }
  });
});

describe('requestFingerprint', () => {
  test('is the same whatever order the items are listed in', () => {
    const a = requestFingerprint({ userId: 1, items: [{ productId: 1, quantity: 1 }, { productId: 2, quantity: 5 }] });
    const b = requestFingerprint({ userId: 1, items: [{ productId: 2, quantity: 5 }, { productId: 1, quantity: 1 }] });
    expect(a).toBe(b);
  });

  test('differs when the user, a product or a quantity differs', () => {
    const base = { userId: 1, items: [{ productId: 1, quantity: 1 }] };
    const fingerprints = new Set([
      requestFingerprint(base),
      requestFingerprint({ ...base, userId: 2 }),
      requestFingerprint({ ...base, items: [{ productId: 3, quantity: 1 }] }),
      requestFingerprint({ ...base, items: [{ productId: 1, quantity: 2 }] }),
    ]);
    expect(fingerprints.size).toBe(4);
  });
});
