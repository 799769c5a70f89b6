import type { Database } from '../../infra/database';

export interface Balance {
  userId: number;
  balance: number;
}

interface BalanceRow {
  id: string;
  balance: string;
}

const toBalance = (row: BalanceRow): Balance => ({ userId: Number(row.id), balance: Number(row.balance) });

export function createUserRepository(db: Database) {
  return {
    async findBalance(userId: number): Promise<Balance | undefined> {
      const [row] = await db.query<BalanceRow>('user_balance', 'SELECT id, balance FROM users WHERE id = $1', [userId]);
      return row && toBalance(row);
    },
    async charge(userId: number, amount: number): Promise<Balance | undefined> {
      const [row] = await db.query<BalanceRow>(
        'user_charge',
        'UPDATE users SET balance = balance + $2, updated_at = now() WHERE id = $1 RETURNING id, balance',
        [userId, amount],
      );
      return row && toBalance(row);
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
