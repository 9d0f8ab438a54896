/**
 * The reference platform, assembled: its database, the seven handlers, a
 * durable inbox (verify → store → 2xx; a worker applies events with retries
 * and the ordering guard), the HTTP server, and catch-up through the Events
 * API on start so a platform that was down recovers what it missed.
 */

import type { Server } from 'node:http';
import {
  catchUp,
  createInbox,
  createSqliteInbox,
  type Inbox,
  type LivemodePolicy,
} from '@switchboard/webhooks';
import { createNodeWebhookHandler } from '@switchboard/webhooks/node';
import { createPlatformServer, listen } from './app.js';
import { openPlatformDb, type PlatformDb } from './db.js';
import { createPlatformRouter } from './handlers.js';
import { createRefetch } from './refetch.js';
import { type PlatformState, platformState } from './state.js';

export interface StartPlatformOptions {
  dbPath: string;
  /** The Connect endpoint's signing secret(s). */
  secret: string | string[];
  livemode: LivemodePolicy;
  port?: number;
  /** Where to catch up from on start (and on `catchUp()`): a Switchboard (or Stripe) API and a secret key. */
  catchUp?: { apiBase: string; apiKey: string };
  /** How often the inbox worker polls when idle (default 100 ms: a demo wants to see results at once). */
  pollIntervalMs?: number;
  /** Milliseconds since the epoch, for signature tolerance and the inbox (tests pass a manual clock). */
  now?: () => number;
  /** Run the inbox worker (default true); tests step `inbox.runOnce()` instead. */
  worker?: boolean;
  /**
   * Act on the latest copy of each event's object, fetched from `catchUp`'s
   * API as the connected account (refetch.ts), not on the event's copy.
   */
  refetch?: boolean;
}

export interface Action {
  event_id: string;
  type: string;
  account: string | null;
  livemode: number;
  summary: string;
}

export interface Platform {
  url: string;
  db: PlatformDb;
  inbox: Inbox;
  server: Server;
  state(): PlatformState;
  actions(): Action[];
  createOrder(order: { id: string; amount: number; currency: string; account?: string }): Promise<void>;
  /** Feed the inbox with every connected account's events it does not have yet. */
  catchUp(): Promise<{ accounts: number; stored: number }>;
  close(): Promise<void>;
}

export async function startPlatform(options: StartPlatformOptions): Promise<Platform> {
  const db = openPlatformDb(options.dbPath);
  const store = createSqliteInbox(db);
  await store.migrate();
  const router = createPlatformRouter(db, {
    livemode: options.livemode,
    ...(options.now ? { now: options.now } : {}),
    ...(options.refetch && options.catchUp ? { refetch: createRefetch(options.catchUp) } : {}),
  });
  const now = options.now ?? Date.now;
  const inbox = createInbox({ store, router, clock: now, pollIntervalMs: options.pollIntervalMs ?? 100 });
  const webhook = createNodeWebhookHandler({
    ...(Array.isArray(options.secret) ? { secrets: options.secret } : { secret: options.secret }),
    inbox,
    now,
  });
  const server = createPlatformServer({ db, webhook });
  const url = await listen(server, options.port ?? 0);

  async function catchUpAll(): Promise<{ accounts: number; stored: number }> {
    const source = options.catchUp;
    if (!source) return { accounts: 0, stored: 0 };
    // Connect events live in each connected account: list the platform's accounts, then each one's events.
    const res = await fetch(`${source.apiBase}/v1/accounts?limit=100`, {
      headers: { authorization: `Bearer ${source.apiKey}` },
    });
    if (!res.ok) throw new Error(`listing connected accounts failed: HTTP ${res.status}`);
    const known = (db.prepare('SELECT id FROM accounts').all() as { id: string }[]).map((r) => r.id);
    const listed = ((await res.json()) as { data: { id: string }[] }).data.map((a) => a.id);
    const accounts = [...new Set([...listed, ...known])];
    let stored = 0;
    for (const account of accounts) {
      const r = await catchUp({
        apiBase: source.apiBase,
        apiKey: source.apiKey,
        stripeAccount: account,
        inbox,
      });
      stored += r.stored;
    }
    return { accounts: accounts.length, stored };
  }

  if (options.catchUp) await catchUpAll();
  if (options.worker !== false) inbox.start();

  return {
    url,
    db,
    inbox,
    server,
    state: () => platformState(db),
    actions: () =>
      db
        .prepare('SELECT event_id, type, account, livemode, summary FROM actions ORDER BY seq')
        .all() as Action[],
    async createOrder(order) {
      db.prepare(
        'INSERT INTO orders (id, account, amount, currency) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ).run(order.id, order.account ?? null, order.amount, order.currency);
    },
    catchUp: catchUpAll,
    async close() {
      await inbox.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      db.close();
    },
  };
}
