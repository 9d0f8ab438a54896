/**
 * What the platform does with each recommended Connect event (the guide's
 * meaning of each, done for real against the platform's own database).
 *
 * Every handler is idempotent (senders deliver duplicates; the inbox also
 * dedupes), checks that the event belongs to a connected account, and writes
 * its state change and an `actions` row in one transaction.
 */

import {
  createWebhookRouter,
  idOf,
  type LivemodePolicy,
  type WebhookContext,
  type WebhookRouter,
} from '@switchboard/webhooks';
import type { PlatformDb } from './db.js';
import type { Refetch } from './refetch.js';

export interface PlatformOptions {
  /**
   * A live platform acts on live events only: its live Connect endpoint also
   * receives connected accounts' test events, which must not move real money.
   */
  livemode: LivemodePolicy;
  now?: () => number;
  /**
   * Fetch the latest copy of each event's object as its connected account
   * (refetch.ts) and act on that; without it, handlers act on the event's copy.
   */
  refetch?: Refetch;
}

const list = (v: string[] | null | undefined): string => JSON.stringify(v ?? []);

/** The router with the seven handlers, bound to a database. */
export function createPlatformRouter(db: PlatformDb, options: PlatformOptions): WebhookRouter {
  const now = options.now ?? Date.now;
  /** The object to act on: fetched as the connected account when the platform re-fetches. */
  const latest = <T extends { object: string }>(object: T, account: string): Promise<T> | T =>
    options.refetch ? options.refetch(object, account) : object;
  const record = (eventId: string, type: string, ctx: WebhookContext, summary: string) => {
    db.prepare(
      'INSERT INTO actions (event_id, type, account, livemode, summary, at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(eventId, type, ctx.account, ctx.livemode ? 1 : 0, summary, now());
  };
  /** Connect events only: an event without `account` did not come from a connected account. */
  const connected = (ctx: WebhookContext): string => {
    if (!ctx.account)
      throw new Error('Connect event without an account: is this endpoint registered with connect=true?');
    return ctx.account;
  };
  const ensureAccount = (account: string) => {
    db.prepare('INSERT INTO accounts (id, updated_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING').run(
      account,
      now(),
    );
  };

  return createWebhookRouter({ livemode: options.livemode })
    .on('account.application.deauthorized', (event, ctx) => {
      const account = connected(ctx);
      db.transaction(() => {
        // The platform lost access: keep the account's id and history, drop what it can no longer act on.
        ensureAccount(account);
        db.prepare(
          "UPDATE accounts SET status = 'deauthorized', deauthorized_at = ?, charges_enabled = 0, payouts_enabled = 0, updated_at = ? WHERE id = ?",
        ).run(now(), now(), account);
        const persons = db.prepare('DELETE FROM persons WHERE account = ?').run(account).changes;
        const external = db.prepare('DELETE FROM external_accounts WHERE account = ?').run(account).changes;
        db.prepare('DELETE FROM balances WHERE account = ?').run(account);
        db.prepare('DELETE FROM payout_blocks WHERE account = ?').run(account);
        const orders = db
          .prepare("UPDATE orders SET status = 'cancelled' WHERE account = ? AND status = 'pending'")
          .run(account).changes;
        record(
          event.id,
          event.type,
          ctx,
          `disconnected from ${event.data.object.name ?? event.data.object.id}: removed ${persons} person(s), ${external} external account(s), cancelled ${orders} pending order(s)`,
        );
      })();
    })
    .on('account.updated', async (event, ctx) => {
      const account = connected(ctx);
      const a = await latest(event.data.object, account);
      const r = a.requirements;
      db.transaction(() => {
        ensureAccount(account);
        db.prepare(
          `UPDATE accounts SET charges_enabled = ?, payouts_enabled = ?, details_submitted = ?, currently_due = ?,
             eventually_due = ?, past_due = ?, disabled_reason = ?, current_deadline = ?, updated_at = ? WHERE id = ?`,
        ).run(
          a.charges_enabled ? 1 : 0,
          a.payouts_enabled ? 1 : 0,
          a.details_submitted ? 1 : 0,
          list(r?.currently_due),
          list(r?.eventually_due),
          list(r?.past_due),
          r?.disabled_reason ?? null,
          r?.current_deadline ?? null,
          now(),
          account,
        );
        const due = r?.currently_due?.length ?? 0;
        record(
          event.id,
          event.type,
          ctx,
          `charges ${a.charges_enabled ? 'enabled' : 'disabled'}, payouts ${a.payouts_enabled ? 'enabled' : 'disabled'}, ${due} requirement(s) due${r?.disabled_reason ? ` (${r.disabled_reason})` : ''}`,
        );
      })();
    })
    .on('person.updated', async (event, ctx) => {
      const account = connected(ctx);
      const p = await latest(event.data.object, account);
      db.transaction(() => {
        db.prepare(
          `INSERT INTO persons (id, account, verification_status, currently_due, past_due, updated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET verification_status = excluded.verification_status,
             currently_due = excluded.currently_due, past_due = excluded.past_due, updated_at = excluded.updated_at`,
        ).run(
          p.id,
          account,
          p.verification?.status ?? null,
          list(p.requirements?.currently_due),
          list(p.requirements?.past_due),
          now(),
        );
        record(
          event.id,
          event.type,
          ctx,
          `person ${p.id} is ${p.verification?.status ?? 'unknown'}, ${p.requirements?.currently_due?.length ?? 0} requirement(s) due`,
        );
      })();
    })
    .on('account.external_account.updated', async (event, ctx) => {
      const account = connected(ctx);
      const x = await latest(event.data.object, account);
      db.transaction(() => {
        db.prepare(
          `INSERT INTO external_accounts (id, account, object, status, last4, bank_name, currency, default_for_currency, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET status = excluded.status, last4 = excluded.last4, bank_name = excluded.bank_name,
             currency = excluded.currency, default_for_currency = excluded.default_for_currency, updated_at = excluded.updated_at`,
        ).run(
          x.id,
          account,
          x.object,
          x.status ?? null,
          x.last4,
          x.object === 'bank_account' ? x.bank_name : null,
          x.currency ?? null,
          x.default_for_currency ? 1 : 0,
          now(),
        );
        // Payouts stay blocked until the external account is updated to a usable state.
        const usable = x.status !== 'errored' && x.status !== 'verification_failed';
        const unblocked = usable
          ? db.prepare('DELETE FROM payout_blocks WHERE account = ?').run(account).changes
          : 0;
        record(
          event.id,
          event.type,
          ctx,
          `payout destination ${x.object} ••${x.last4} is ${x.status ?? 'unknown'}${unblocked ? '; payouts unblocked' : ''}`,
        );
      })();
    })
    .on('payout.failed', async (event, ctx) => {
      const account = connected(ctx);
      const p = await latest(event.data.object, account);
      db.transaction(() => {
        db.prepare(
          `INSERT INTO payouts (id, account, amount, currency, status, failure_code, updated_at) VALUES (?, ?, ?, ?, 'failed', ?, ?)
           ON CONFLICT (id) DO UPDATE SET status = 'failed', failure_code = excluded.failure_code, updated_at = excluded.updated_at`,
        ).run(p.id, account, p.amount, p.currency, p.failure_code, now());
        const destination = p.destination === null ? null : idOf(p.destination);
        db.prepare(
          `INSERT INTO payout_blocks (account, payout, failure_code, failure_message, destination, since) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (account) DO UPDATE SET payout = excluded.payout, failure_code = excluded.failure_code,
             failure_message = excluded.failure_message, destination = excluded.destination`,
        ).run(account, p.id, p.failure_code, p.failure_message, destination, now());
        if (destination)
          db.prepare("UPDATE external_accounts SET status = 'errored', updated_at = ? WHERE id = ?").run(
            now(),
            destination,
          );
        record(
          event.id,
          event.type,
          ctx,
          `payout ${p.id} failed (${p.failure_code ?? 'unknown'}): payouts blocked until ${destination ?? 'the external account'} is updated`,
        );
      })();
    })
    .on('balance.available', async (event, ctx) => {
      const account = connected(ctx);
      const b = await latest(event.data.object, account);
      db.transaction(() => {
        db.prepare(
          `INSERT INTO balances (account, livemode, available, pending, connect_reserved, updated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (account, livemode) DO UPDATE SET available = excluded.available, pending = excluded.pending,
             connect_reserved = excluded.connect_reserved, updated_at = excluded.updated_at`,
        ).run(
          account,
          ctx.livemode ? 1 : 0,
          JSON.stringify(b.available),
          JSON.stringify(b.pending),
          JSON.stringify(b.connect_reserved ?? []),
          now(),
        );
        const shown = b.available
          .map((x) => `${(x.amount / 100).toFixed(2)} ${x.currency.toUpperCase()}`)
          .join(', ');
        record(event.id, event.type, ctx, `available balance ${shown || 'empty'}`);
      })();
    })
    .on('payment_intent.succeeded', async (event, ctx) => {
      const account = connected(ctx);
      const pi = await latest(event.data.object, account);
      const orderId = pi.metadata['order_id'];
      db.transaction(() => {
        const order = orderId
          ? (db.prepare('SELECT id, status, amount FROM orders WHERE id = ?').get(orderId) as
              | { id: string; status: string; amount: number }
              | undefined)
          : undefined;
        if (!order) {
          record(
            event.id,
            event.type,
            ctx,
            `payment ${pi.id} succeeded for no known order: nothing to fulfil`,
          );
          return;
        }
        if (order.status === 'fulfilled') {
          record(event.id, event.type, ctx, `order ${order.id} was already fulfilled`);
          return;
        }
        if (pi.amount_received < order.amount) {
          record(
            event.id,
            event.type,
            ctx,
            `payment ${pi.id} received ${pi.amount_received} < ${order.amount}: order ${order.id} not fulfilled`,
          );
          return;
        }
        db.prepare(
          "UPDATE orders SET status = 'fulfilled', payment_intent = ?, account = ?, fulfilled_at = ? WHERE id = ?",
        ).run(pi.id, account, now(), order.id);
        record(
          event.id,
          event.type,
          ctx,
          `order ${order.id} fulfilled (${(pi.amount_received / 100).toFixed(2)} ${pi.currency.toUpperCase()} via ${pi.id})`,
        );
      })();
    });
}
