/**
 * The platform's own database: what it knows about its connected accounts,
 * kept up to date by webhooks. Plain SQLite through better-sqlite3.
 */

import Database from 'better-sqlite3';

export type PlatformDb = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  charges_enabled INTEGER NOT NULL DEFAULT 0,
  payouts_enabled INTEGER NOT NULL DEFAULT 0,
  details_submitted INTEGER NOT NULL DEFAULT 0,
  currently_due TEXT NOT NULL DEFAULT '[]',
  eventually_due TEXT NOT NULL DEFAULT '[]',
  past_due TEXT NOT NULL DEFAULT '[]',
  disabled_reason TEXT,
  current_deadline INTEGER,
  status TEXT NOT NULL DEFAULT 'active',
  deauthorized_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS persons (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  verification_status TEXT,
  currently_due TEXT NOT NULL DEFAULT '[]',
  past_due TEXT NOT NULL DEFAULT '[]',
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS external_accounts (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  object TEXT NOT NULL,
  status TEXT,
  last4 TEXT,
  bank_name TEXT,
  currency TEXT,
  default_for_currency INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
-- payout.failed blocks payouts of the account until its external account is updated.
CREATE TABLE IF NOT EXISTS payout_blocks (
  account TEXT PRIMARY KEY,
  payout TEXT NOT NULL,
  failure_code TEXT,
  failure_message TEXT,
  destination TEXT,
  since INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payouts (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  amount INTEGER,
  currency TEXT,
  status TEXT NOT NULL,
  failure_code TEXT,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS balances (
  account TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  available TEXT NOT NULL,
  pending TEXT NOT NULL,
  connect_reserved TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (account, livemode)
);
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  account TEXT,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  payment_intent TEXT,
  fulfilled_at INTEGER
);
-- What the platform did with each event: the demo prints it, /state shows it.
CREATE TABLE IF NOT EXISTS actions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  account TEXT,
  livemode INTEGER NOT NULL,
  summary TEXT NOT NULL,
  at INTEGER NOT NULL
);
`;

/** Open (and create) the platform database. WAL with synchronous=FULL: what it acknowledged stays. */
export function openPlatformDb(path: string): PlatformDb {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}
