/** The platform's state as JSON: what `/state` serves and the demo prints. */

import type { PlatformDb } from './db.js';

const parse = (v: unknown): unknown => (typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : v);

function rows(db: PlatformDb, sql: string): Record<string, unknown>[] {
  return (db.prepare(sql).all() as Record<string, unknown>[]).map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, parse(v)])),
  );
}

export interface PlatformState {
  accounts: Record<string, unknown>[];
  persons: Record<string, unknown>[];
  external_accounts: Record<string, unknown>[];
  payout_blocks: Record<string, unknown>[];
  payouts: Record<string, unknown>[];
  balances: Record<string, unknown>[];
  orders: Record<string, unknown>[];
  actions: Record<string, unknown>[];
}

export function platformState(db: PlatformDb): PlatformState {
  return {
    accounts: rows(db, 'SELECT * FROM accounts ORDER BY id'),
    persons: rows(db, 'SELECT * FROM persons ORDER BY id'),
    external_accounts: rows(db, 'SELECT * FROM external_accounts ORDER BY id'),
    payout_blocks: rows(db, 'SELECT * FROM payout_blocks ORDER BY account'),
    payouts: rows(db, 'SELECT * FROM payouts ORDER BY id'),
    balances: rows(db, 'SELECT * FROM balances ORDER BY account, livemode'),
    orders: rows(db, 'SELECT * FROM orders ORDER BY id'),
    actions: rows(db, 'SELECT * FROM actions ORDER BY seq'),
  };
}
