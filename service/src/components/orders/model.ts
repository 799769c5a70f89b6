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
