export type OrderStatus = 'PAID' | 'CANCELLED';

export interface OrderLine {
  productId: number;
  quantity: number;
}

export interface PricedOrderLine extends OrderLine {
  unitPrice: number;
}

export interface PlaceOrderRequest {
  userId: number;
  items: OrderLine[];
}

export interface PlacedOrder {
  orderId: number;
  userId: number;
  status: 'PAID';
  totalAmount: number;
  items: PricedOrderLine[];
  createdAt: string;
  paidAt: string;
}

export interface OrderStatusView {
  orderId: number;
  userId: number;
  status: OrderStatus;
  totalAmount: number;
  createdAt: string;
  paidAt: string | null;
  updatedAt: string;
}

export interface PopularProduct {
  rank: number;
  productId: number;
  name: string;
  price: number;
  quantity: number;
  revenue: number;
}

export interface PopularProducts {
  days: number;
  from: string;
  to: string;
  products: PopularProduct[];
}

/**
 * How long an Idempotency-Key is kept, in hours (as Stripe keeps its keys). Within it, a request with the same caller
 * (userId) and key gets the stored response back; after it, the key is forgotten and the next request with it is a
 * new order.
 */
export const IDEMPOTENCY_KEY_RETENTION_HOURS = 24;

/** A response exactly as it was sent: status, Content-Type and the body's text, to be replayed byte for byte. */
export interface StoredResponse {
  status: number;
  contentType: string;
  body: string;
}
