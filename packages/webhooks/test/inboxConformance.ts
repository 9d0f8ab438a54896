// The behaviour every InboxStore must have, run through createInbox() on a
// real database. A store test supplies `open`, which makes a fresh, migrated
// store and a cleanup that keeps the data when the test failed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ConnectEvent,
  createInbox,
  createWebhookRouter,
  type InboxOptions,
  type InboxStore,
  type WebhookEvent,
} from '../src/index.js';

export interface OpenedStore {
  store: InboxStore;
  /** A second store on the same database with another table prefix. */
  withPrefix(prefix: string): Promise<InboxStore>;
  cleanup(failed: boolean): Promise<void>;
}

export type OpenStore = () => Promise<OpenedStore>;

/** A clock tests move by hand. */
export function manualClock(start = Date.UTC(2026, 10, 28, 10, 0, 0)) {
  let now = start;
  const clock = () => now;
  clock.advance = (ms: number) => {
    now += ms;
  };
  return clock;
}

let seq = 0;
/** An `account.updated` event for `account`, created at `created` (Unix seconds). */
export function accountUpdated(
  created: number,
  options: { id?: string; account?: string; livemode?: boolean; charges?: boolean } = {},
): WebhookEvent<Record<string, unknown>> {
  const account = options.account ?? 'acct_1Inbox';
  seq += 1;
  return {
    id: options.id ?? `evt_${created}_${seq}`,
    object: 'event',
    account,
    api_version: '2026-10-28.endive',
    created,
    data: { object: { id: account, object: 'account', charges_enabled: options.charges ?? true } },
    livemode: options.livemode ?? false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'account.updated',
  };
}

export function balanceAvailable(created: number, id: string): WebhookEvent<Record<string, unknown>> {
  return {
    ...accountUpdated(created, { id }),
    type: 'balance.available',
    data: { object: { object: 'balance', available: [] } },
  };
}

/** Accepts an event with its compact JSON as the raw body. */
const put = (
  inbox: { accept: (raw: string, event: WebhookEvent<unknown>) => Promise<unknown> },
  event: WebhookEvent<unknown>,
) => inbox.accept(JSON.stringify(event), event);

export function describeInboxConformance(name: string, open: OpenStore): void {
  describe(`${name}: inbox conformance`, () => {
    let opened: OpenedStore;
    let store: InboxStore;
    let clock: ReturnType<typeof manualClock>;
    let seen: string[];
    const handler = vi.fn(async (event: ConnectEvent) => {
      seen.push(event.id);
    });
    const make = (options: Partial<InboxOptions> = {}) =>
      createInbox({
        store,
        clock,
        retry: { delaysMs: [1000, 5000] },
        onError: () => {},
        handler,
        ...options,
      } as InboxOptions);

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
      clock = manualClock();
      seen = [];
      handler.mockClear();
    });
    afterEach(async (ctx) => {
      await opened.cleanup(ctx.task.result?.state === 'fail');
    });

    it('stores an event with every column, and migrate() runs again harmlessly', async () => {
      await store.migrate();
      const event = accountUpdated(1_800_000_000, { id: 'evt_cols', livemode: true });
      const raw = JSON.stringify(event, null, 2);
      const inbox = make();
      expect(await inbox.accept(raw, event)).toEqual({ duplicate: false });
      expect(await store.get('evt_cols')).toEqual({
        id: 'evt_cols',
        type: 'account.updated',
        account: 'acct_1Inbox',
        livemode: true,
        created: 1_800_000_000,
        body: raw,
        receivedAt: clock(),
        status: 'pending',
        attempts: 0,
        nextAttemptAt: clock(),
        lastError: null,
        leaseToken: null,
        leaseUntil: null,
        completedAt: null,
        outcome: null,
      });
      expect(await store.get('evt_missing')).toBeNull();
      expect(await inbox.has('evt_cols')).toBe(true);
      expect(await inbox.has('evt_missing')).toBe(false);
    });

    it('stores a platform event (no account) with account null, and a Uint8Array body as text', async () => {
      const { account: _omit, ...event } = accountUpdated(100, { id: 'evt_platform' });
      const raw = JSON.stringify(event);
      await make().accept(new TextEncoder().encode(raw), event);
      const record = await store.get('evt_platform');
      expect(record?.account).toBeNull();
      expect(record?.body).toBe(raw);
    });

    it('dedupes: the same event twice is stored and handled once', async () => {
      const inbox = make();
      const event = accountUpdated(100);
      expect(await put(inbox, event)).toEqual({ duplicate: false });
      expect(await put(inbox, event)).toEqual({ duplicate: true });
      expect(await inbox.runOnce()).toMatchObject({ claimed: 1, done: 1 });
      // A redelivery after it was handled is still a duplicate.
      expect(await put(inbox, event)).toEqual({ duplicate: true });
      expect(await inbox.runOnce()).toMatchObject({ claimed: 0 });
      expect(seen).toEqual([event.id]);
      expect(await store.get(event.id)).toMatchObject({ status: 'done', outcome: 'handled', attempts: 1 });
      expect((await store.stats()).done).toBe(1);
    });

    it('passes the handler the parsed event and a context with the attempt', async () => {
      const inbox = make();
      const event = accountUpdated(100, { livemode: true });
      await put(inbox, event);
      await inbox.runOnce();
      expect(handler).toHaveBeenCalledWith(event, {
        account: 'acct_1Inbox',
        livemode: true,
        isConnect: true,
        attempt: 1,
        receivedAt: clock(),
      });
    });

    it('claims oldest created first, at most the batch size, under a lease', async () => {
      const inbox = make({ batchSize: 2 });
      for (const created of [300, 100, 200]) await put(inbox, balanceAvailable(created, `evt_b${created}`));
      expect(await inbox.runOnce()).toMatchObject({ claimed: 2, done: 2 });
      expect(await inbox.runOnce()).toMatchObject({ claimed: 1, done: 1 });
      expect(seen).toEqual(['evt_b100', 'evt_b200', 'evt_b300']);

      await put(inbox, balanceAvailable(400, 'evt_b400'));
      const [claimed, ...rest] = await store.claim(clock(), 10, 30_000);
      expect(rest).toEqual([]);
      expect(claimed).toMatchObject({
        id: 'evt_b400',
        status: 'processing',
        attempts: 1,
        leaseUntil: clock() + 30_000,
      });
      expect(claimed?.leaseToken).toEqual(expect.any(String));
      // Held by the lease: nobody else gets it.
      expect(await store.claim(clock(), 10, 30_000)).toEqual([]);
    });

    it('retries with backoff on the clock, then dead-letters', async () => {
      const failing = vi.fn(async () => {
        throw new Error('database is down');
      });
      const inbox = make({ handler: failing });
      const event = accountUpdated(100);
      await put(inbox, event);
      const t0 = clock();

      expect(await inbox.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      expect(await store.get(event.id)).toMatchObject({
        status: 'failed',
        attempts: 1,
        nextAttemptAt: t0 + 1000,
        lastError: 'Error: database is down',
        leaseToken: null,
      });
      expect(await inbox.runOnce()).toMatchObject({ claimed: 0 });
      clock.advance(999);
      expect(await inbox.runOnce()).toMatchObject({ claimed: 0 });
      clock.advance(1);
      expect(await inbox.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      expect(await store.get(event.id)).toMatchObject({
        status: 'failed',
        attempts: 2,
        nextAttemptAt: t0 + 6000,
      });
      clock.advance(4999);
      expect(await inbox.runOnce()).toMatchObject({ claimed: 0 });
      clock.advance(1);
      expect(await inbox.runOnce()).toMatchObject({ claimed: 1, dead: 1 });
      expect(await store.get(event.id)).toMatchObject({ status: 'dead', attempts: 3, nextAttemptAt: null });
      clock.advance(86_400_000);
      expect(await inbox.runOnce()).toMatchObject({ claimed: 0 });
      expect(failing).toHaveBeenCalledTimes(3);
      expect(await store.stats()).toMatchObject({ dead: 1, total: 1 });

      // Out of the dead letter by hand, once the cause is fixed.
      expect(await store.requeue(event.id, clock())).toBe(true);
      expect(await store.requeue(event.id, clock())).toBe(false);
      expect(await make().runOnce()).toMatchObject({ claimed: 1, done: 1 });
      expect(await store.get(event.id)).toMatchObject({ status: 'done', attempts: 1, lastError: null });
    });

    it('with no retry delays, the first failure is final', async () => {
      const inbox = make({ retry: { delaysMs: [] }, handler: () => Promise.reject(new Error('no')) });
      await put(inbox, accountUpdated(100, { id: 'evt_once' }));
      expect(await inbox.runOnce()).toMatchObject({ dead: 1 });
      expect((await store.get('evt_once'))?.status).toBe('dead');
    });

    it('a failure then a success ends done, the error cleared', async () => {
      let calls = 0;
      const inbox = make({
        handler: async () => {
          calls += 1;
          if (calls === 1) throw new Error('flaky');
        },
      });
      await put(inbox, accountUpdated(100, { id: 'evt_flaky' }));
      await inbox.runOnce();
      clock.advance(1000);
      expect(await inbox.runOnce()).toMatchObject({ done: 1 });
      expect(await store.get('evt_flaky')).toMatchObject({ status: 'done', attempts: 2, lastError: null });
    });

    it('an event claimed by a worker that died is claimed again after its lease', async () => {
      const inbox = make({ leaseMs: 60_000 });
      const event = accountUpdated(100);
      await put(inbox, event);
      // The dead worker: it claimed the event and never settled it.
      const [stale] = await store.claim(clock(), 10, 60_000);
      expect(stale?.id).toBe(event.id);

      expect(await inbox.runOnce()).toMatchObject({ claimed: 0 });
      clock.advance(59_999);
      expect(await inbox.runOnce()).toMatchObject({ claimed: 0 });
      clock.advance(1);
      expect(await inbox.runOnce()).toMatchObject({ claimed: 1, done: 1 });
      expect(seen).toEqual([event.id]);
      expect(await store.get(event.id)).toMatchObject({ status: 'done', attempts: 2 });

      // The old worker waking up cannot settle it any more.
      const lease = stale!.leaseToken!;
      expect(await store.complete(event.id, { status: 'done', now: clock(), lease })).toEqual({
        completed: false,
        advanced: false,
      });
      expect(await store.fail(event.id, 'late', null, lease)).toBe(false);
      expect((await store.get(event.id))?.status).toBe('done');
    });

    it('a worker that lost its lease mid-handler does not overwrite the new owner', async () => {
      let release!: () => void;
      let started!: () => void;
      const inHandler = new Promise<void>((resolve) => {
        started = resolve;
      });
      const slow = createInbox({
        store,
        clock,
        leaseMs: 1000,
        handler: () =>
          new Promise<void>((resolve) => {
            release = resolve;
            started();
          }),
      });
      const event = accountUpdated(100);
      await put(slow, event);
      const running = slow.runOnce();
      await inHandler;
      clock.advance(1000);
      // The lease ran out: another worker takes the event over and fails it.
      const other = make({ handler: () => Promise.reject(new Error('second worker')) });
      expect(await other.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      release();
      expect(await running).toMatchObject({ claimed: 1, lost: 1, done: 0 });
      expect(await store.get(event.id)).toMatchObject({
        status: 'failed',
        attempts: 2,
        lastError: 'Error: second worker',
      });
    });

    it('a stored body that is not an event goes straight to the dead letter', async () => {
      const event = accountUpdated(100, { id: 'evt_garbled' });
      await store.receive('{"id": "evt_garbled", trailing garbage', event, clock());
      expect(await make().runOnce()).toMatchObject({ claimed: 1, dead: 1 });
      expect(await store.get('evt_garbled')).toMatchObject({ status: 'dead', attempts: 1 });
      expect((await store.get('evt_garbled'))?.lastError).toMatch(/not an event/);
      expect(handler).not.toHaveBeenCalled();
    });

    describe('ordering guard', () => {
      it('skips an account.updated older than the last applied one', async () => {
        const inbox = make();
        const newer = accountUpdated(200, { id: 'evt_newer', charges: true });
        const older = accountUpdated(150, { id: 'evt_older', charges: false });
        await put(inbox, newer);
        await inbox.runOnce();
        expect(await store.watermark('acct_1Inbox:account:acct_1Inbox')).toEqual({
          created: 200,
          eventId: 'evt_newer',
        });

        await put(inbox, older);
        expect(await inbox.runOnce()).toMatchObject({ claimed: 1, skipped: 1, done: 0 });
        expect(seen).toEqual(['evt_newer']);
        expect(await store.get('evt_older')).toMatchObject({
          status: 'skipped',
          outcome: 'older_than_watermark',
        });
        expect(await store.watermark('acct_1Inbox:account:acct_1Inbox')).toEqual({
          created: 200,
          eventId: 'evt_newer',
        });

        const newest = accountUpdated(250, { id: 'evt_newest' });
        await put(inbox, newest);
        expect(await inbox.runOnce()).toMatchObject({ done: 1 });
        expect(await store.watermark('acct_1Inbox:account:acct_1Inbox')).toEqual({
          created: 250,
          eventId: 'evt_newest',
        });
        expect(await store.stats()).toMatchObject({ done: 2, skipped: 1, total: 3 });
      });

      it('events delivered out of order but claimed together are applied oldest first', async () => {
        const inbox = make();
        await put(inbox, accountUpdated(300, { id: 'evt_3' }));
        await put(inbox, accountUpdated(100, { id: 'evt_1' }));
        await put(inbox, accountUpdated(200, { id: 'evt_2' }));
        expect(await inbox.runOnce()).toMatchObject({ done: 3, skipped: 0 });
        expect(seen).toEqual(['evt_1', 'evt_2', 'evt_3']);
      });

      it('calls onTie for the same second, and applies by default', async () => {
        const onTie = vi.fn();
        const inbox = make({ onTie });
        await put(inbox, accountUpdated(200, { id: 'evt_a' }));
        await inbox.runOnce();
        await put(inbox, accountUpdated(200, { id: 'evt_b' }));
        expect(await inbox.runOnce()).toMatchObject({ done: 1 });
        expect(onTie).toHaveBeenCalledTimes(1);
        expect(onTie.mock.calls[0]![0]).toMatchObject({ id: 'evt_b' });
        expect(onTie.mock.calls[0]![1]).toEqual({
          key: 'acct_1Inbox:account:acct_1Inbox',
          watermark: { created: 200, eventId: 'evt_a' },
          attempt: 1,
        });
        expect(seen).toEqual(['evt_a', 'evt_b']);
        expect(await store.watermark('acct_1Inbox:account:acct_1Inbox')).toEqual({
          created: 200,
          eventId: 'evt_b',
        });
      });

      it("marks a tie skipped when onTie says 'skip', and retries when onTie throws", async () => {
        let answer: 'skip' | 'throw' = 'throw';
        const inbox = make({
          onTie: async () => {
            if (answer === 'throw') throw new Error('API unreachable');
            return 'skip' as const;
          },
        });
        await put(inbox, accountUpdated(200, { id: 'evt_a' }));
        await inbox.runOnce();
        await put(inbox, accountUpdated(200, { id: 'evt_b' }));
        expect(await inbox.runOnce()).toMatchObject({ retried: 1 });
        answer = 'skip';
        clock.advance(1000);
        expect(await inbox.runOnce()).toMatchObject({ skipped: 1 });
        expect(await store.get('evt_b')).toMatchObject({ status: 'skipped', outcome: 'tie_skipped' });
        expect(seen).toEqual(['evt_a']);
      });

      it('keeps objects apart: accounts, object types and unguarded events', async () => {
        const inbox = make();
        await put(inbox, accountUpdated(200, { id: 'evt_x', account: 'acct_X' }));
        await inbox.runOnce();
        await put(inbox, accountUpdated(100, { id: 'evt_y', account: 'acct_Y' }));
        // balance.available has no object id: never guarded.
        await put(inbox, balanceAvailable(300, 'evt_bal1'));
        await inbox.runOnce();
        await put(inbox, balanceAvailable(100, 'evt_bal0'));
        expect(await inbox.runOnce()).toMatchObject({ done: 1 });
        expect(seen).toEqual(['evt_x', 'evt_y', 'evt_bal1', 'evt_bal0']);
      });

      it('can be turned off, or keyed differently', async () => {
        const off = make({ orderingKey: null });
        await put(off, accountUpdated(200, { id: 'evt_a' }));
        await put(off, accountUpdated(100, { id: 'evt_b' }));
        await off.runOnce();
        await put(off, accountUpdated(50, { id: 'evt_c' }));
        await off.runOnce();
        expect(seen).toEqual(['evt_b', 'evt_a', 'evt_c']);

        const byType = make({ orderingKey: (event) => `type:${event.type}` });
        await put(byType, accountUpdated(40, { id: 'evt_d', account: 'acct_Other' }));
        await byType.runOnce();
        await put(byType, accountUpdated(30, { id: 'evt_e', account: 'acct_Another' }));
        expect(await byType.runOnce()).toMatchObject({ skipped: 1 });
        expect(await store.watermark('type:account.updated')).toEqual({ created: 40, eventId: 'evt_d' });
      });

      it('complete() never moves a watermark backwards', async () => {
        await put(make(), accountUpdated(100, { id: 'evt_1' }));
        await put(make(), accountUpdated(100, { id: 'evt_2' }));
        const [a, b] = await store.claim(clock(), 10, 1000);
        const key = 'k';
        expect(
          await store.complete(a!.id, {
            status: 'done',
            now: clock(),
            watermark: { key, created: 500, eventId: 'evt_1' },
          }),
        ).toEqual({ completed: true, advanced: true });
        expect(
          await store.complete(b!.id, {
            status: 'done',
            now: clock(),
            watermark: { key, created: 400, eventId: 'evt_2' },
          }),
        ).toEqual({ completed: true, advanced: false });
        expect(await store.watermark(key)).toEqual({ created: 500, eventId: 'evt_1' });
      });
    });

    it('with a router: the router dispatches, and its skip reason is the outcome', async () => {
      const onAccount = vi.fn();
      const router = createWebhookRouter({ livemode: 'live-only' }).on('account.updated', onAccount);
      const inbox = createInbox({ store, clock, router });
      await put(inbox, accountUpdated(100, { id: 'evt_live', livemode: true }));
      await put(inbox, accountUpdated(101, { id: 'evt_test', livemode: false }));
      await put(inbox, { ...balanceAvailable(102, 'evt_other'), livemode: true });
      expect(await inbox.runOnce()).toMatchObject({ done: 3 });
      expect(onAccount).toHaveBeenCalledTimes(1);
      expect((await store.get('evt_live'))?.outcome).toBe('handled');
      expect((await store.get('evt_test'))?.outcome).toBe('livemode');
      expect((await store.get('evt_other'))?.outcome).toBe('no_handler');
    });

    it('two workers on one store handle each event exactly once', async () => {
      const a = make({ batchSize: 3 });
      const b = make({ batchSize: 3 });
      for (let i = 0; i < 20; i += 1) await put(a, balanceAvailable(1000 + i, `evt_w${i}`));
      for (let round = 0; round < 10; round += 1) await Promise.all([a.runOnce(), b.runOnce()]);
      expect([...seen].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `evt_w${i}`).sort());
      expect(await store.stats()).toMatchObject({ done: 20, total: 20, pending: 0, processing: 0 });
    });

    it('counts events by status', async () => {
      const inbox = make({
        handler: (event) => (event.id === 'evt_bad' ? Promise.reject(new Error('x')) : undefined),
      });
      await put(inbox, balanceAvailable(1, 'evt_ok'));
      await put(inbox, balanceAvailable(2, 'evt_bad'));
      await inbox.runOnce();
      await put(inbox, balanceAvailable(3, 'evt_new'));
      expect(await store.stats()).toEqual({
        pending: 1,
        processing: 0,
        done: 1,
        failed: 1,
        dead: 0,
        skipped: 0,
        total: 3,
      });
    });

    it('a table prefix keeps two inboxes on one database apart', async () => {
      const other = await opened.withPrefix('other_');
      await put(make(), balanceAvailable(1, 'evt_mine'));
      expect(await other.get('evt_mine')).toBeNull();
      expect(await other.receive('{}', balanceAvailable(1, 'evt_mine'), clock())).toEqual({
        duplicate: false,
      });
      expect((await other.stats()).total).toBe(1);
    });
  });
}
