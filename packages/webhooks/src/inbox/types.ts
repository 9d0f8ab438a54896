// The storage contract of the inbox. Two implementations live next to this
// file (SQLite and PostgreSQL); anything else that keeps these promises can
// be plugged into createInbox() too. Times are milliseconds since the epoch
// except `created`, which is the event's own Unix seconds.
import type { WebhookEvent } from '../events.js';

/**
 * Where an event is in its life:
 * `pending` → `processing` → `done` | `failed` (waiting for a retry) |
 * `dead` (retries exhausted) | `skipped` (the ordering guard found it stale).
 */
export type InboxStatus = 'pending' | 'processing' | 'done' | 'failed' | 'dead' | 'skipped';

export const INBOX_STATUSES: readonly InboxStatus[] = Object.freeze([
  'pending',
  'processing',
  'done',
  'failed',
  'dead',
  'skipped',
]);

/** One stored event. */
export interface InboxRecord {
  /** The event id (`evt_…`): the primary key, hence the dedupe. */
  id: string;
  type: string;
  /** The connected account, or null for the platform's own events. */
  account: string | null;
  livemode: boolean;
  /** The event's `created`, Unix seconds. */
  created: number;
  /** The body as received (for a webhook, the signed bytes as UTF-8 text). */
  body: string;
  receivedAt: number;
  status: InboxStatus;
  /** Claims so far, including the one in progress. */
  attempts: number;
  /** When the event may be claimed next (`pending`, `failed`); null once settled. */
  nextAttemptAt: number | null;
  lastError: string | null;
  /** Token of the claim that holds the event while `processing`. */
  leaseToken: string | null;
  /** When that claim expires and another worker may take the event over. */
  leaseUntil: number | null;
  completedAt: number | null;
  /** What happened, in a word: `handled`, `no_handler`, `livemode`, `older_than_watermark`, … */
  outcome: string | null;
}

/** The last event applied for one object, as the ordering guard remembers it. */
export interface Watermark {
  /** `created` (Unix seconds) of the last applied event. */
  created: number;
  eventId: string;
}

/** How an event that ran to the end is recorded. */
export interface CompleteResult {
  /** `done` when the event was applied (or deliberately ignored), `skipped` when the ordering guard dropped it. */
  status: 'done' | 'skipped';
  now: number;
  /**
   * The token from the claim. When given, a worker whose lease ran out (and
   * whose event another worker took over) cannot settle the event any more.
   */
  lease?: string;
  /** A word on the outcome, stored with the event. */
  outcome?: string;
  /**
   * Advances this object's watermark in the same transaction, unless the
   * stored one is already newer (another worker applied a later event).
   */
  watermark?: { key: string; created: number; eventId: string };
}

export interface CompleteOutcome {
  /** False when the event was not `processing` under this lease any more. */
  completed: boolean;
  /** True when the watermark was written. */
  advanced: boolean;
}

/** Counts of events by status. */
export type InboxStats = Record<InboxStatus, number> & { total: number };

/**
 * Durable storage for received events. Every method is one atomic step, so
 * several workers (threads, processes, machines) may share one store.
 */
export interface InboxStore {
  /** Creates the tables if they do not exist. Safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** Stores the event unless its id is already there. */
  receive(rawBody: string, event: WebhookEvent<unknown>, now: number): Promise<{ duplicate: boolean }>;
  /**
   * Takes up to `limit` due events (pending, failed and due, or processing
   * with an expired lease), oldest `created` first, marks them `processing`
   * under a fresh lease of `leaseMs` and counts the attempt.
   */
  claim(now: number, limit: number, leaseMs: number): Promise<InboxRecord[]>;
  /** Settles a claimed event; see {@link CompleteResult}. */
  complete(id: string, result: CompleteResult): Promise<CompleteOutcome>;
  /**
   * Records a failed attempt: `failed` until `nextAttemptAt`, or `dead` when
   * it is null. Returns false when the event was not `processing` (under
   * `lease`, when given).
   */
  fail(id: string, error: string, nextAttemptAt: number | null, lease?: string): Promise<boolean>;
  /** Puts a `dead`, `failed` or `skipped` event back in the queue with a fresh attempt count. */
  requeue(id: string, now: number): Promise<boolean>;
  get(id: string): Promise<InboxRecord | null>;
  /** The ordering guard's memory for one object key. */
  watermark(key: string): Promise<Watermark | null>;
  stats(): Promise<InboxStats>;
}

/** The part of an inbox the webhook adapters use. */
export interface InboxAcceptor {
  accept(rawBody: string | Uint8Array, event: WebhookEvent<unknown>): Promise<{ duplicate: boolean }>;
}
