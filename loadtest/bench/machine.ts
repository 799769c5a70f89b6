import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Client } from 'pg';

export interface Machine {
  os: string;
  kernel: string;
  cpuModel: string;
  cpuCount: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  redis: string;
  /** 1-minute load average when the bench started: the machine is shared, figures move with it. */
  loadAverageAtStart: number;
  pinning: string;
}

function osName(): string {
  try {
    const line = readFileSync('/etc/os-release', 'utf8').split('\n').find((l) => l.startsWith('PRETTY_NAME='));
    if (line) return line.slice('PRETTY_NAME='.length).replace(/^"|"$/g, '');
  } catch {
    // not Linux, or no os-release
  }
  return `${os.type()} ${os.release()}`;
}

export async function describeMachine(pg: Client, redis: { info(section: string): Promise<unknown> }, pinning: string): Promise<Machine> {
  const cpus = os.cpus();
  const { rows } = await pg.query<{ server_version: string }>('SHOW server_version');
  const info = String(await redis.info('server'));
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    os: osName(),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: `PostgreSQL ${rows[0]?.server_version ?? 'unknown'}`,
    redis: `Redis ${redisVersion}`,
    loadAverageAtStart: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    pinning,
  };
}

export interface DataVolume {
  orders: number;
  orderItems: number;
  users: number;
  products: number;
  rollupRows: number;
  /** PAID orders in the popular window (days=3): what the from-orders ranking aggregates. */
  paidOrdersInWindow: number;
}

export async function dataVolume(pg: Client, timeZone: string, days: number): Promise<DataVolume> {
  const { rows } = await pg.query<Record<keyof DataVolume, string>>(
    `SELECT (SELECT count(*) FROM orders) AS "orders", (SELECT count(*) FROM order_items) AS "orderItems",
            (SELECT count(*) FROM users) AS "users", (SELECT count(*) FROM products) AS "products",
            (SELECT count(*) FROM product_daily_sales) AS "rollupRows",
            (SELECT count(*) FROM orders WHERE status = 'PAID'
                AND paid_at >= ((now() AT TIME ZONE $1)::date - ($2::int - 1))::timestamp AT TIME ZONE $1) AS "paidOrdersInWindow"`,
    [timeZone, days],
  );
  const row = rows[0]!;
  return {
    orders: Number(row.orders),
    orderItems: Number(row.orderItems),
    users: Number(row.users),
    products: Number(row.products),
    rollupRows: Number(row.rollupRows),
    paidOrdersInWindow: Number(row.paidOrdersInWindow),
  };
}
