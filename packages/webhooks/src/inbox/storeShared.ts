// What the SQLite and PostgreSQL stores share: names, row mapping, limits.
import type { WebhookEvent } from '../events.js';
import { INBOX_STATUSES, type InboxRecord, type InboxStats, type InboxStatus } from './types.js';

/** Default table name prefix: tables `webhook_inbox` and `webhook_inbox_watermarks`. */
export const DEFAULT_TABLE_PREFIX = 'webhook_';

/** Longest error message kept per event; a stack trace can be huge. */
export const MAX_ERROR_LENGTH = 2000;

export const COLUMNS =
  'id, type, account, livemode, created, body, received_at, status, attempts, next_attempt_at, ' +
  'last_error, lease_token, lease_until, completed_at, outcome';

// Identifiers are spliced into SQL (placeholders cannot name tables), so
// only plain names are accepted.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a table prefix or schema name; `what` names the option in the error. */
export function checkIdentifier(value: unknown, what: string, allowEmpty: boolean): string {
  if (typeof value !== 'string' || (value === '' ? !allowEmpty : !IDENTIFIER.test(value))) {
    throw new TypeError(
      `${what} must be letters, digits and underscores, not starting with a digit; got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

export function truncateError(error: string): string {
  return error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error;
}

/** A claim token; unique is all it needs to be (it is no secret). */
export function leaseToken(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

/** The columns of an event as stored; validated by the inbox before it gets here. */
export function eventColumns(event: WebhookEvent<unknown>): {
  id: string;
  type: string;
  account: string | null;
  livemode: boolean;
  created: number;
} {
  const account = typeof event.account === 'string' && event.account !== '' ? event.account : null;
  return {
    id: event.id,
    type: event.type,
    account,
    livemode: event.livemode === true,
    created: event.created,
  };
}

/** A row as a driver returns it: PostgreSQL's BIGINT arrives as a string, SQLite's booleans as 0/1. */
export interface RawRow {
  id: string;
  type: string;
  account: string | null;
  livemode: boolean | number | bigint;
  created: DbNumber;
  body: string;
  received_at: DbNumber;
  status: string;
  attempts: DbNumber;
  next_attempt_at: DbNumber | null;
  last_error: string | null;
  lease_token: string | null;
  lease_until: DbNumber | null;
  completed_at: DbNumber | null;
  outcome: string | null;
}

/** An integer as drivers hand it over: pg's BIGINT is a string, better-sqlite3 with safeIntegers a bigint. */
export type DbNumber = number | string | bigint;

export const num = (value: DbNumber): number => (typeof value === 'number' ? value : Number(value));
const numOrNull = (value: DbNumber | null): number | null => (value === null ? null : num(value));

export function toRecord(row: RawRow): InboxRecord {
  return {
    id: row.id,
    type: row.type,
    account: row.account,
    livemode: row.livemode === true || Number(row.livemode) === 1,
    created: num(row.created),
    body: row.body,
    receivedAt: num(row.received_at),
    status: row.status as InboxStatus,
    attempts: num(row.attempts),
    nextAttemptAt: numOrNull(row.next_attempt_at),
    lastError: row.last_error,
    leaseToken: row.lease_token,
    leaseUntil: numOrNull(row.lease_until),
    completedAt: numOrNull(row.completed_at),
    outcome: row.outcome,
  };
}

/** Oldest first, the order claims promise (RETURNING has none of its own). */
export function byCreated(a: InboxRecord, b: InboxRecord): number {
  return a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function toStats(rows: ReadonlyArray<{ status: string; n: DbNumber }>): InboxStats {
  const stats = { total: 0 } as InboxStats;
  for (const status of INBOX_STATUSES) stats[status] = 0;
  for (const row of rows) {
    const n = num(row.n);
    if ((INBOX_STATUSES as readonly string[]).includes(row.status)) stats[row.status as InboxStatus] = n;
    stats.total += n;
  }
  return stats;
}
