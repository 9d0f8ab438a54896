/**
 * The storage contract's conformance suite: every engine runs it. Time is
 * always passed in; nothing sleeps.
 */

import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  type AccountRecord,
  type ApiKeyRecord,
  type AttemptRecord,
  type AttemptResult,
  type ClaimOptions,
  type DeliveryOutcome,
  type EndpointRecord,
  type EventRecord,
  IDEMPOTENCY_IN_PROGRESS,
  type NewDelivery,
  type ObjectRecord,
  type PlatformRecord,
  type Store,
  StoreError,
} from '../../src/store/index.js';

export interface StoreHandle {
  store: Store;
  /** `failed`: the test failed; an engine may keep its data to look at. */
  cleanup(failed: boolean): Promise<void>;
}

export const T0 = Date.UTC(2026, 0, 1);
const SEC = 1000;
const MIN = 60 * SEC;

export const PLATFORM: PlatformRecord = {
  id: 'acct_platform',
  applicationId: 'ca_platform',
  name: 'Platform',
  createdAt: T0,
};

export function apiKey(hash: string, livemode = false, hint = hash.slice(-4)): ApiKeyRecord {
  return { hash, platformId: PLATFORM.id, livemode, hint, createdAt: T0 };
}

export function account(id: string, over: Partial<AccountRecord> = {}): AccountRecord {
  return {
    id,
    platformId: PLATFORM.id,
    object: { id, object: 'account', type: 'express', charges_enabled: false },
    createdAt: T0,
    connectedModes: { test: true, live: false },
    deauthorizedAt: null,
    ...over,
  };
}

export function endpoint(id: string, over: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    id,
    ownerAccountId: PLATFORM.id,
    livemode: false,
    connect: false,
    url: `https://example.test/${id}`,
    enabledEvents: ['*'],
    status: 'enabled',
    disabledReason: null,
    apiVersion: null,
    description: null,
    metadata: {},
    secrets: [{ secret: `whsec_${id}`, expiresAt: null }],
    createdAt: T0,
    lastSuccessAt: null,
    failingSince: null,
    listenKey: null,
    ...over,
  };
}

/** A listen-session endpoint of the session owner `listenKey`. */
export function listenEndpoint(
  id: string,
  listenKey: string,
  over: Partial<EndpointRecord> = {},
): EndpointRecord {
  return endpoint(id, { url: `switchboard-listen://${id}`, listenKey, ...over });
}

export function event(id: string, over: Partial<EventRecord> = {}): EventRecord {
  const base = {
    id,
    accountId: PLATFORM.id,
    livemode: false,
    type: 'customer.created',
    createdUnix: Math.floor(T0 / SEC),
    requestId: null,
    idempotencyKey: null,
    ...over,
  };
  return {
    body: JSON.stringify({
      id,
      object: 'event',
      type: base.type,
      created: base.createdUnix,
      livemode: base.livemode,
    }),
    ...base,
  };
}

export function emulated(id: string, over: Partial<ObjectRecord> = {}): ObjectRecord {
  return {
    id,
    kind: 'customer',
    accountId: PLATFORM.id,
    livemode: false,
    createdUnix: Math.floor(T0 / SEC),
    object: { id, object: 'customer', email: null },
    deleted: false,
    lookupKey: null,
    ...over,
  };
}

export const deliveryId = (eventId: string, endpointId: string) => `wd_${eventId}_${endpointId}`;

export function delivery(eventId: string, endpointId: string, at = T0, listen?: boolean): NewDelivery {
  const d: NewDelivery = { id: deliveryId(eventId, endpointId), eventId, endpointId, nextAttemptAt: at };
  if (listen !== undefined) d.listen = listen;
  return d;
}

let attemptCounter = 0;

export function attempt(
  eventId: string,
  endpointId: string,
  over: Partial<AttemptRecord> = {},
): AttemptRecord {
  attemptCounter += 1;
  return {
    id: `wa_${attemptCounter}_${Math.random().toString(36).slice(2, 10)}`,
    deliveryId: deliveryId(eventId, endpointId),
    eventId,
    endpointId,
    attemptedAt: T0,
    durationMs: 12,
    statusCode: 200,
    error: null,
    responseBody: 'ok',
    manual: false,
    ...over,
  };
}

export function claimOptions(over: Partial<ClaimOptions> = {}): ClaimOptions {
  return {
    now: T0,
    limit: 100,
    leaseMs: 30 * SEC,
    owner: 'node-a',
    perEndpointLimit: 100,
    excludeEndpointIds: [],
    ...over,
  };
}

/** The result of an automatic attempt made by the lease owner. */
export function result(
  eventId: string,
  endpointId: string,
  outcome: DeliveryOutcome,
  over: Partial<AttemptRecord> = {},
  leaseOwner: string | null = 'node-a',
): AttemptResult {
  return { attempt: attempt(eventId, endpointId, over), outcome, leaseOwner };
}

const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

/** Run the contract's suite against one engine; `makeStore` gives an unmigrated store in a clean database. */
export function describeStoreConformance(name: string, makeStore: () => Promise<StoreHandle>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      const handle = await makeStore();
      store = handle.store;
      // Runs after the test's result is known: a failed test keeps its data.
      onTestFinished(async ({ task }) => {
        await handle.cleanup(task.result?.state === 'fail');
      });
      await store.migrate();
    });

    /** Platform, one enabled test-mode endpoint per id, and events each routed to every endpoint. */
    async function seed(endpointIds: string[], eventIds: string[], at = T0) {
      await store.initPlatform(PLATFORM, []);
      for (const id of endpointIds) await store.createEndpoint(endpoint(id));
      for (const e of eventIds) {
        await store.appendEvent(
          event(e),
          endpointIds.map((w) => delivery(e, w, at)),
        );
      }
    }

    describe('migrations and health', () => {
      it('migrate is idempotent and ping answers', async () => {
        await store.migrate();
        await store.migrate();
        await store.ping();
        expect(await store.getPlatform()).toBeNull();
      });
    });

    describe('platform and keys', () => {
      it('initPlatform creates once and returns the existing platform afterwards', async () => {
        const created = await store.initPlatform(PLATFORM, [
          apiKey('hash_test_1', false),
          apiKey('hash_live_1', true),
        ]);
        expect(created).toEqual(PLATFORM);
        expect(await store.getPlatform()).toEqual(PLATFORM);

        const other: PlatformRecord = {
          id: 'acct_other',
          applicationId: 'ca_other',
          name: 'Other',
          createdAt: T0 + 1,
        };
        const again = await store.initPlatform(other, [apiKey('hash_ignored')]);
        expect(again).toEqual(PLATFORM);
        expect(await store.findApiKey('hash_ignored')).toBeNull();
        expect(await store.listApiKeys(PLATFORM.id)).toHaveLength(2);
      });

      it('finds, lists and replaces keys', async () => {
        await store.initPlatform(PLATFORM, [apiKey('hash_a', false, 'aaaa')]);
        expect(await store.findApiKey('hash_a')).toEqual(apiKey('hash_a', false, 'aaaa'));
        expect(await store.findApiKey('hash_missing')).toBeNull();

        await store.putApiKeys([apiKey('hash_a', true, 'bbbb'), apiKey('hash_b', false, 'cccc')]);
        expect(await store.findApiKey('hash_a')).toEqual(apiKey('hash_a', true, 'bbbb'));
        const keys = await store.listApiKeys(PLATFORM.id);
        expect(keys.map((k) => k.hash).sort()).toEqual(['hash_a', 'hash_b']);
        expect(await store.listApiKeys('acct_nobody')).toEqual([]);
      });
    });

    describe('accounts', () => {
      beforeEach(async () => {
        await store.initPlatform(PLATFORM, []);
      });

      it('creates, reads and updates', async () => {
        const a = account('acct_1', {
          object: { id: 'acct_1', object: 'account', nested: { z: 1, a: [1, 2] } },
        });
        await store.createAccount(a);
        expect(await store.getAccount('acct_1')).toEqual(a);
        expect(await store.getAccount('acct_missing')).toBeNull();

        await store.updateAccount('acct_1', { id: 'acct_1', object: 'account', charges_enabled: true });
        expect((await store.getAccount('acct_1'))?.object).toEqual({
          id: 'acct_1',
          object: 'account',
          charges_enabled: true,
        });
        expect((await store.getAccount('acct_1'))?.deauthorizedAt).toBeNull();

        await store.updateAccount('acct_1', { id: 'acct_1' }, { deauthorizedAt: T0 + 5 });
        expect((await store.getAccount('acct_1'))?.deauthorizedAt).toBe(T0 + 5);
        // undefined leaves the mark alone, null clears it
        await store.updateAccount('acct_1', { id: 'acct_1', v: 2 });
        expect((await store.getAccount('acct_1'))?.deauthorizedAt).toBe(T0 + 5);
        await store.updateAccount('acct_1', { id: 'acct_1', v: 3 }, { deauthorizedAt: null });
        expect(await store.getAccount('acct_1')).toMatchObject({ deauthorizedAt: null, object: { v: 3 } });
      });

      it('keeps the modes an account is connected in, and changes them alone', async () => {
        await store.createAccount(account('acct_1', { connectedModes: { test: false, live: true } }));
        expect((await store.getAccount('acct_1'))?.connectedModes).toEqual({ test: false, live: true });
        await store.updateAccount('acct_1', { id: 'acct_1' }, { connectedModes: { test: true, live: true } });
        expect(await store.getAccount('acct_1')).toMatchObject({
          connectedModes: { test: true, live: true },
          deauthorizedAt: null,
        });
        await store.updateAccount('acct_1', { id: 'acct_1', v: 2 });
        expect((await store.getAccount('acct_1'))?.connectedModes).toEqual({ test: true, live: true });
      });

      it('lists the accounts a key of a mode sees, and by created (unix seconds)', async () => {
        await store.createAccount(
          account('acct_gone', {
            createdAt: T0 - 1000,
            connectedModes: { test: false, live: false },
            deauthorizedAt: T0,
          }),
        );
        await store.createAccount(account('acct_t', { createdAt: T0 }));
        await store.createAccount(
          account('acct_l', { createdAt: T0 + 1500, connectedModes: { test: false, live: true } }),
        );
        await store.createAccount(
          account('acct_b', { createdAt: T0 + 3000, connectedModes: { test: true, live: true } }),
        );
        const s = Math.floor(T0 / 1000);
        const seen = async (mode: 'test' | 'live') =>
          ids((await store.listAccounts(PLATFORM.id, { limit: 10 }, { seenByKeyOfMode: mode })).data);
        expect(await seen('live')).toEqual(['acct_b', 'acct_l']);
        expect(await seen('test')).toEqual(['acct_b', 'acct_l', 'acct_t']);
        const created = async (c: Record<string, number>) =>
          ids((await store.listAccounts(PLATFORM.id, { limit: 10 }, { created: c })).data);
        expect(await created({ gt: s })).toEqual(['acct_b', 'acct_l']);
        expect(await created({ gte: s + 1, lte: s + 1 })).toEqual(['acct_l']);
        expect(await created({ gte: s, lt: s + 1 })).toEqual(['acct_t']);
        expect(await created({ gte: s, lte: s + 3 })).toEqual(['acct_b', 'acct_l', 'acct_t']);
      });

      it('keeps the key order of the account object', async () => {
        await store.createAccount(
          account('acct_1', { object: { id: 'acct_1', zeta: 1, alpha: 2, object: 'account' } }),
        );
        const stored = await store.getAccount('acct_1');
        expect(Object.keys(stored!.object)).toEqual(['id', 'zeta', 'alpha', 'object']);
      });

      it('refuses a duplicate id', async () => {
        await store.createAccount(account('acct_1'));
        await expect(store.createAccount(account('acct_1'))).rejects.toMatchObject({ code: 'duplicate' });
      });

      it('lists newest first with cursors in both directions', async () => {
        for (const n of [1, 2, 3, 4, 5]) await store.createAccount(account(`acct_${n}`));

        const first = await store.listAccounts(PLATFORM.id, { limit: 2 });
        expect(ids(first.data)).toEqual(['acct_5', 'acct_4']);
        expect(first.hasMore).toBe(true);

        const second = await store.listAccounts(PLATFORM.id, { limit: 2, startingAfter: 'acct_4' });
        expect(ids(second.data)).toEqual(['acct_3', 'acct_2']);
        expect(second.hasMore).toBe(true);

        const last = await store.listAccounts(PLATFORM.id, { limit: 2, startingAfter: 'acct_2' });
        expect(ids(last.data)).toEqual(['acct_1']);
        expect(last.hasMore).toBe(false);

        const back = await store.listAccounts(PLATFORM.id, { limit: 2, endingBefore: 'acct_1' });
        expect(ids(back.data)).toEqual(['acct_3', 'acct_2']);
        expect(back.hasMore).toBe(true);

        const top = await store.listAccounts(PLATFORM.id, { limit: 2, endingBefore: 'acct_3' });
        expect(ids(top.data)).toEqual(['acct_5', 'acct_4']);
        expect(top.hasMore).toBe(false);

        const all = await store.listAccounts(PLATFORM.id, { limit: 10 });
        expect(ids(all.data)).toEqual(['acct_5', 'acct_4', 'acct_3', 'acct_2', 'acct_1']);
        expect(all.hasMore).toBe(false);

        expect((await store.listAccounts('acct_nobody', { limit: 10 })).data).toEqual([]);
      });

      it('rejects an unknown cursor and two cursors at once', async () => {
        await store.createAccount(account('acct_1'));
        const unknown = store.listAccounts(PLATFORM.id, { limit: 2, startingAfter: 'acct_nope' });
        await expect(unknown).rejects.toBeInstanceOf(StoreError);
        await expect(
          store.listAccounts(PLATFORM.id, { limit: 2, startingAfter: 'acct_nope' }),
        ).rejects.toMatchObject({ code: 'cursor_not_found' });
        await expect(
          store.listAccounts(PLATFORM.id, { limit: 2, endingBefore: 'acct_nope' }),
        ).rejects.toMatchObject({
          code: 'cursor_not_found',
        });
        await expect(
          store.listAccounts(PLATFORM.id, { limit: 2, startingAfter: 'acct_1', endingBefore: 'acct_1' }),
        ).rejects.toMatchObject({ code: 'invalid_page' });
      });
    });

    describe('webhook endpoints', () => {
      beforeEach(async () => {
        await store.initPlatform(PLATFORM, []);
      });

      it('creates, reads and refuses a duplicate id', async () => {
        const w = endpoint('we_1', {
          connect: true,
          livemode: true,
          enabledEvents: ['account.updated', 'payout.failed'],
          apiVersion: '2026-10-28.endive',
          description: 'main',
          metadata: { b: '2', a: '1' },
          secrets: [
            { secret: 'whsec_new', expiresAt: null },
            { secret: 'whsec_old', expiresAt: T0 + MIN },
          ],
          lastSuccessAt: T0 - 5,
        });
        await store.createEndpoint(w);
        expect(await store.getEndpoint('we_1')).toEqual(w);
        expect(await store.getEndpoint('we_missing')).toBeNull();
        await expect(store.createEndpoint(endpoint('we_1'))).rejects.toMatchObject({ code: 'duplicate' });
      });

      it('applies patches field by field', async () => {
        await store.createEndpoint(endpoint('we_1', { description: 'before', metadata: { k: 'v' } }));

        const urlOnly = await store.updateEndpoint('we_1', { url: 'https://example.test/new' });
        expect(urlOnly).toMatchObject({
          url: 'https://example.test/new',
          description: 'before',
          metadata: { k: 'v' },
        });

        const patched = await store.updateEndpoint('we_1', {
          enabledEvents: ['a.b'],
          description: null,
          metadata: { x: 'y' },
          secrets: [{ secret: 'whsec_2', expiresAt: null }],
        });
        const expected = endpoint('we_1', {
          url: 'https://example.test/new',
          enabledEvents: ['a.b'],
          description: null,
          metadata: { x: 'y' },
          secrets: [{ secret: 'whsec_2', expiresAt: null }],
        });
        expect(patched).toEqual(expected);
        expect(await store.getEndpoint('we_1')).toEqual(expected);

        const disabled = await store.updateEndpoint('we_1', { status: 'disabled' });
        expect(disabled).toMatchObject({ status: 'disabled', disabledReason: 'manual' });
        const reenabled = await store.updateEndpoint('we_1', { status: 'enabled' });
        expect(reenabled).toMatchObject({ status: 'enabled', disabledReason: null });
        const auto = await store.updateEndpoint('we_1', { status: 'disabled', disabledReason: 'failing' });
        expect(await store.getEndpoint('we_1')).toMatchObject({
          status: 'disabled',
          disabledReason: 'failing',
        });
        expect(auto?.disabledReason).toBe('failing');

        expect(await store.updateEndpoint('we_missing', { url: 'https://x.test' })).toBeNull();
      });

      it('lists per owner and mode, counts, and pages', async () => {
        for (const n of [1, 2, 3]) await store.createEndpoint(endpoint(`we_${n}`));
        await store.createEndpoint(endpoint('we_live', { livemode: true }));
        await store.createEndpoint(endpoint('we_acct', { ownerAccountId: 'acct_1' }));

        const page = await store.listEndpoints(PLATFORM.id, false, { limit: 2 });
        expect(ids(page.data)).toEqual(['we_3', 'we_2']);
        expect(page.hasMore).toBe(true);
        const next = await store.listEndpoints(PLATFORM.id, false, { limit: 2, startingAfter: 'we_2' });
        expect(ids(next.data)).toEqual(['we_1']);
        expect(next.hasMore).toBe(false);
        const prev = await store.listEndpoints(PLATFORM.id, false, { limit: 1, endingBefore: 'we_1' });
        expect(ids(prev.data)).toEqual(['we_2']);
        expect(prev.hasMore).toBe(true);

        expect(ids((await store.listEndpoints(PLATFORM.id, true, { limit: 10 })).data)).toEqual(['we_live']);
        expect(ids((await store.listEndpoints('acct_1', false, { limit: 10 })).data)).toEqual(['we_acct']);
        // A cursor from another owner's list names no object of this one.
        await expect(
          store.listEndpoints(PLATFORM.id, false, { limit: 2, startingAfter: 'we_live' }),
        ).rejects.toMatchObject({ code: 'cursor_not_found' });

        await store.updateEndpoint('we_2', { status: 'disabled' });
        expect(await store.countEndpoints(PLATFORM.id, false)).toBe(3);
        expect(await store.countEndpoints(PLATFORM.id, true)).toBe(1);
        expect(await store.countEndpoints('acct_nobody', false)).toBe(0);
      });

      it('lists routable endpoints: enabled, of the given owners, both modes', async () => {
        await store.createEndpoint(endpoint('we_test'));
        await store.createEndpoint(endpoint('we_live', { livemode: true, connect: true }));
        await store.createEndpoint(endpoint('we_off', { status: 'disabled', disabledReason: 'manual' }));
        await store.createEndpoint(endpoint('we_acct', { ownerAccountId: 'acct_1' }));
        await store.createEndpoint(endpoint('we_other', { ownerAccountId: 'acct_2' }));

        const routable = await store.listRoutableEndpoints([PLATFORM.id, 'acct_1']);
        expect(ids(routable).sort()).toEqual(['we_acct', 'we_live', 'we_test']);
        expect(routable.find((w) => w.id === 'we_live')).toEqual(
          endpoint('we_live', { livemode: true, connect: true }),
        );
        expect(await store.listRoutableEndpoints([])).toEqual([]);
      });

      it('disabling pauses the pending deliveries of that endpoint only; enabling again resumes them', async () => {
        await seed(['we_1', 'we_2'], ['evt_1', 'evt_2']);
        expect((await store.getEvent('evt_1'))?.pendingWebhooks).toBe(2);

        await store.updateEndpoint('we_1', { status: 'disabled' });
        // Still owed (Stripe: re-enabled before its next retry, an endpoint still gets it), but never due.
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({
          status: 'pending',
          nextAttemptAt: null,
        });
        expect((await store.getDelivery('evt_1', 'we_2'))?.status).toBe('pending');
        expect((await store.getEvent('evt_1'))?.pendingWebhooks).toBe(2);
        const claimed = await store.claimDue(claimOptions());
        expect(claimed.map((c) => c.endpointId)).toEqual(['we_2', 'we_2']);

        await store.updateEndpoint('we_1', { status: 'enabled' });
        const resumed = await store.claimDue(claimOptions());
        expect(resumed.map((c) => [c.eventId, c.endpointId])).toEqual([
          ['evt_1', 'we_1'],
          ['evt_2', 'we_1'],
        ]);
      });

      it('a disabled endpoint is passed over even for a delivery that comes back due while it is disabled', async () => {
        await seed(['we_1'], ['evt_1']);
        await store.claimDue(claimOptions());
        await store.updateEndpoint('we_1', { status: 'disabled' });
        // The attempt in flight reports a retry: the row is due again, the endpoint is not.
        await store.recordAttempts([result('evt_1', 'we_1', { kind: 'retry', at: T0 }, { statusCode: 500 })]);
        expect(await store.claimDue(claimOptions({ now: T0 + MIN }))).toEqual([]);
        await store.updateEndpoint('we_1', { status: 'enabled' });
        expect((await store.claimDue(claimOptions({ now: T0 + MIN }))).map((c) => c.eventId)).toEqual([
          'evt_1',
        ]);
      });

      it("tracks an endpoint's run of failures: from the first failure after the last 2xx to the next 2xx", async () => {
        await seed(['we_1'], ['evt_1', 'evt_2', 'evt_3']);
        await store.claimDue(claimOptions());
        await store.recordAttempts([
          result('evt_1', 'we_1', { kind: 'retry', at: T0 + MIN }, { statusCode: 500, attemptedAt: T0 + 10 }),
          result('evt_2', 'we_1', { kind: 'retry', at: T0 + MIN }, { statusCode: 500, attemptedAt: T0 + 20 }),
        ]);
        expect(await store.getEndpoint('we_1')).toMatchObject({ failingSince: T0 + 10, lastSuccessAt: null });
        await store.recordAttempts([
          result('evt_3', 'we_1', { kind: 'retry', at: T0 + MIN }, { statusCode: 500, attemptedAt: T0 + 30 }),
        ]);
        // A later failure does not move the start.
        expect((await store.getEndpoint('we_1'))?.failingSince).toBe(T0 + 10);
        const claimed = await store.claimDue(claimOptions({ now: T0 + MIN }));
        expect(claimed[0]!.endpointFailingSince).toBe(T0 + 10);
        await store.recordAttempts([
          result('evt_1', 'we_1', { kind: 'delivered' }, { attemptedAt: T0 + MIN }),
          result(
            'evt_2',
            'we_1',
            { kind: 'retry', at: T0 + 2 * MIN },
            { statusCode: 500, attemptedAt: T0 + MIN + 5 },
          ),
        ]);
        // Healthy at the 2xx, failing again from the failure after it.
        expect(await store.getEndpoint('we_1')).toMatchObject({
          lastSuccessAt: T0 + MIN,
          failingSince: T0 + MIN + 5,
        });
        await store.recordAttempts([
          result('evt_3', 'we_1', { kind: 'delivered' }, { attemptedAt: T0 + MIN + 9 }),
        ]);
        expect(await store.getEndpoint('we_1')).toMatchObject({
          lastSuccessAt: T0 + MIN + 9,
          failingSince: null,
        });
      });

      it('deleting cancels pending deliveries and keeps attempts', async () => {
        await seed(['we_1', 'we_2'], ['evt_1', 'evt_2']);
        await store.claimDue(claimOptions());
        await store.recordAttempts([
          result('evt_1', 'we_1', { kind: 'retry', at: T0 + MIN }, { statusCode: 500 }),
        ]);

        expect(await store.deleteEndpoint('we_1')).toBe(true);
        expect(await store.getEndpoint('we_1')).toBeNull();
        expect(await store.deleteEndpoint('we_1')).toBe(false);
        expect((await store.getDelivery('evt_1', 'we_1'))?.status).toBe('cancelled');
        expect((await store.getDelivery('evt_2', 'we_1'))?.status).toBe('cancelled');
        expect((await store.getDelivery('evt_2', 'we_2'))?.status).toBe('pending');

        const attempts = await store.listAttempts({ limit: 10, endpointId: 'we_1' });
        expect(attempts.data).toHaveLength(1);
        expect(attempts.data[0]).toMatchObject({ eventId: 'evt_1', statusCode: 500 });
        expect((await store.claimDue(claimOptions({ now: T0 + 10 * MIN }))).map((c) => c.endpointId)).toEqual(
          ['we_2', 'we_2'],
        );
      });
    });

    describe('events', () => {
      beforeEach(async () => {
        await store.initPlatform(PLATFORM, []);
        await store.createEndpoint(endpoint('we_1'));
        await store.createEndpoint(endpoint('we_2'));
        await store.createEndpoint(endpoint('we_3'));
      });

      it('appends an event with its deliveries and keeps the body byte-exact', async () => {
        const body = '{"id":"evt_1",  "object":"event","x":"é ✓ 😀 \\u0000 \\"q\\"","n":1.50}\n';
        const e = event('evt_1', { body, requestId: 'req_1', idempotencyKey: 'idem_1', livemode: true });
        await store.appendEvent(e, [delivery('evt_1', 'we_1', T0), delivery('evt_1', 'we_2', T0 + 5)]);

        const stored = await store.getEvent('evt_1');
        expect(stored).toEqual({ ...e, pendingWebhooks: 2 });
        expect(stored?.body).toBe(body);
        expect(await store.getEvent('evt_missing')).toBeNull();

        const deliveries = await store.listDeliveries('evt_1');
        expect(deliveries).toEqual([
          {
            id: deliveryId('evt_1', 'we_1'),
            eventId: 'evt_1',
            endpointId: 'we_1',
            status: 'pending',
            attempts: 0,
            nextAttemptAt: T0,
            createdAt: T0,
            deliveredAt: null,
          },
          {
            id: deliveryId('evt_1', 'we_2'),
            eventId: 'evt_1',
            endpointId: 'we_2',
            status: 'pending',
            attempts: 0,
            nextAttemptAt: T0 + 5,
            createdAt: T0 + 5,
            deliveredAt: null,
          },
        ]);
        expect(await store.getDelivery('evt_1', 'we_2')).toEqual(deliveries[1]);
        expect(await store.getDelivery('evt_1', 'we_3')).toBeNull();
        expect(await store.listDeliveries('evt_missing')).toEqual([]);
      });

      it('commits the change an event records with it, or neither', async () => {
        await store.createAccount(account('acct_1'));
        await store.appendEvent(event('evt_1', { accountId: 'acct_1' }), [], {
          account: {
            id: 'acct_1',
            object: { id: 'acct_1', v: 2 },
            changes: { connectedModes: { test: false, live: false }, deauthorizedAt: T0 },
          },
        });
        expect(await store.getAccount('acct_1')).toMatchObject({
          object: { v: 2 },
          connectedModes: { test: false, live: false },
          deauthorizedAt: T0,
        });
        // The event cannot be stored (its id is taken): the change is not kept either.
        await expect(
          store.appendEvent(event('evt_1', { accountId: 'acct_1' }), [], {
            account: { id: 'acct_1', object: { id: 'acct_1', v: 3 } },
          }),
        ).rejects.toMatchObject({ code: 'duplicate' });
        expect((await store.getAccount('acct_1'))?.object).toEqual({ id: 'acct_1', v: 2 });
        // Among other appends of the same tick, only the failing one is undone.
        const results = await Promise.allSettled([
          store.appendEvent(event('evt_2', { accountId: 'acct_1' }), [], {
            account: { id: 'acct_1', object: { id: 'acct_1', v: 4 } },
          }),
          store.appendEvent(event('evt_1'), []),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
        expect((await store.getAccount('acct_1'))?.object).toEqual({ id: 'acct_1', v: 4 });
      });

      it('appends an event without deliveries', async () => {
        await store.appendEvent(event('evt_1'), []);
        expect((await store.getEvent('evt_1'))?.pendingWebhooks).toBe(0);
      });

      it('is atomic: a bad delivery stores neither the event nor its other deliveries', async () => {
        const bad = [delivery('evt_1', 'we_1'), { ...delivery('evt_1', 'we_1'), id: 'wd_other' }];
        await expect(store.appendEvent(event('evt_1'), bad)).rejects.toThrow();
        expect(await store.getEvent('evt_1')).toBeNull();
        expect(await store.getDelivery('evt_1', 'we_1')).toBeNull();
      });

      it('commits concurrent appends, all of them durable', async () => {
        const n = 60;
        const appends = Array.from({ length: n }, (_, i) =>
          store.appendEvent(event(`evt_${String(i).padStart(3, '0')}`), [
            delivery(`evt_${String(i).padStart(3, '0')}`, 'we_1'),
          ]),
        );
        await Promise.all(appends);
        const page = await store.listEvents({ accountId: PLATFORM.id, livemode: false, limit: 100 });
        expect(page.data).toHaveLength(n);
        expect(page.data.every((e) => e.pendingWebhooks === 1)).toBe(true);
        expect(await store.nextDueAt()).toBe(T0);
      });

      it('a duplicate id rejects only that append', async () => {
        await store.appendEvent(event('evt_old'), [delivery('evt_old', 'we_1')]);
        const settled = await Promise.allSettled([
          store.appendEvent(event('evt_a'), [delivery('evt_a', 'we_1')]),
          store.appendEvent(event('evt_old'), [{ ...delivery('evt_old', 'we_2') }]),
          store.appendEvent(event('evt_b'), [delivery('evt_b', 'we_1')]),
          store.appendEvent(event('evt_b'), [{ ...delivery('evt_b', 'we_2') }]),
          store.appendEvent(event('evt_c'), []),
        ]);
        expect(settled.map((s) => s.status)).toEqual([
          'fulfilled',
          'rejected',
          // the two appends of evt_b race: exactly one wins
          expect.any(String),
          expect.any(String),
          'fulfilled',
        ]);
        expect([settled[2]!.status, settled[3]!.status].sort()).toEqual(['fulfilled', 'rejected']);
        const rejected = settled[1] as PromiseRejectedResult;
        expect(rejected.reason).toBeInstanceOf(StoreError);
        expect(rejected.reason).toMatchObject({ code: 'duplicate' });
        const lostB = (settled[2]!.status === 'rejected' ? settled[2] : settled[3]) as PromiseRejectedResult;
        expect(lostB.reason).toMatchObject({ code: 'duplicate' });

        expect(await store.getEvent('evt_a')).not.toBeNull();
        expect(await store.getEvent('evt_c')).not.toBeNull();
        expect(ids(await store.listDeliveries('evt_old'))).toEqual([deliveryId('evt_old', 'we_1')]);
        expect(await store.listDeliveries('evt_b')).toHaveLength(1);
      });

      it('pendingWebhooks is live: pending (paused too) and failed count, delivered and cancelled do not', async () => {
        await store.appendEvent(
          event('evt_1'),
          ['we_1', 'we_2', 'we_3'].map((w) => delivery('evt_1', w)),
        );
        expect((await store.getEvent('evt_1'))?.pendingWebhooks).toBe(3);
        await store.claimDue(claimOptions());
        await store.recordAttempts([
          result('evt_1', 'we_1', { kind: 'delivered' }),
          result('evt_1', 'we_2', { kind: 'failed', disableEndpoint: null }, { statusCode: 500 }),
        ]);
        expect((await store.getEvent('evt_1'))?.pendingWebhooks).toBe(2);
        await store.updateEndpoint('we_3', { status: 'disabled' });
        expect((await store.getEvent('evt_1'))?.pendingWebhooks).toBe(2);
        await store.deleteEndpoint('we_3');
        expect((await store.getEvent('evt_1'))?.pendingWebhooks).toBe(1);
        const listed = await store.listEvents({ accountId: PLATFORM.id, livemode: false, limit: 10 });
        expect(listed.data[0]?.pendingWebhooks).toBe(1);
      });

      describe('listEvents', () => {
        const base = Math.floor(T0 / SEC);
        const q = { accountId: PLATFORM.id, livemode: false, limit: 100 };

        beforeEach(async () => {
          const rows: [string, string, number][] = [
            ['evt_1', 'account.updated', base + 1],
            ['evt_2', 'account.external_account.updated', base + 2],
            ['evt_3', 'payout.failed', base + 3],
            ['evt_4', 'customer.created', base + 4],
            ['evt_5', 'account_x.updated', base + 5],
            ['evt_6', 'a%b.created', base + 6],
            ['evt_7', 'Account.updated', base + 7],
          ];
          for (const [id, type, created] of rows) {
            await store.appendEvent(event(id, { type, createdUnix: created }), [delivery(id, 'we_1')]);
          }
          await store.appendEvent(event('evt_live', { livemode: true }), []);
          await store.appendEvent(event('evt_acct', { accountId: 'acct_1' }), []);
        });

        const SEEDED_NEWEST_FIRST = ['evt_7', 'evt_6', 'evt_5', 'evt_4', 'evt_3', 'evt_2', 'evt_1'];

        it('lists the account and mode only, newest first', async () => {
          expect(ids((await store.listEvents(q)).data)).toEqual(SEEDED_NEWEST_FIRST);
          expect(ids((await store.listEvents({ ...q, livemode: true })).data)).toEqual(['evt_live']);
          expect(ids((await store.listEvents({ ...q, accountId: 'acct_1' })).data)).toEqual(['evt_acct']);
        });

        it('filters by exact types and prefixes, case-sensitively, wildcards escaped', async () => {
          const list = async (exact: string[], prefixes: string[]) =>
            ids((await store.listEvents({ ...q, types: { exact, prefixes } })).data);
          expect(await list(['payout.failed', 'customer.created'], [])).toEqual(['evt_4', 'evt_3']);
          expect(await list([], ['account.'])).toEqual(['evt_2', 'evt_1']);
          expect(await list(['payout.failed'], ['account.'])).toEqual(['evt_3', 'evt_2', 'evt_1']);
          // `_` and `%` are literal in a prefix
          expect(await list([], ['account_'])).toEqual(['evt_5']);
          expect(await list([], ['a%'])).toEqual(['evt_6']);
          expect(await list([], ['a*'])).toEqual([]);
          expect(await list([], ['Account.'])).toEqual(['evt_7']);
          // an empty prefix (from `*`) matches every type
          expect(await list([], [''])).toHaveLength(7);
          expect(await list([], [])).toEqual([]);
        });

        it('lists by creation date, newest first, the order of storing breaking ties', async () => {
          // Stored last, created first (another node's clock, a manual clock): it lists last.
          await store.appendEvent(event('evt_early', { createdUnix: base - 10 }), []);
          await store.appendEvent(event('evt_tie', { createdUnix: base + 7 }), []);
          const all = ids((await store.listEvents(q)).data);
          expect(all).toEqual(['evt_tie', ...SEEDED_NEWEST_FIRST, 'evt_early']);
          const after = await store.listEvents({ ...q, limit: 2, startingAfter: 'evt_2' });
          expect(ids(after.data)).toEqual(['evt_1', 'evt_early']);
          const before = await store.listEvents({ ...q, limit: 2, endingBefore: 'evt_7' });
          expect(ids(before.data)).toEqual(['evt_tie']);
          expect(ids((await store.listEvents({ ...q, created: { lt: base } })).data)).toEqual(['evt_early']);
        });

        it('a prefix over more types than a list branches on still filters exactly', async () => {
          for (let i = 0; i < 60; i++)
            await store.appendEvent(
              event(`evt_many_${i}`, {
                type: `many.t${String(i).padStart(2, '0')}`,
                createdUnix: base + 100 + i,
              }),
              [],
            );
          const page = await store.listEvents({
            ...q,
            limit: 100,
            types: { exact: ['payout.failed'], prefixes: ['many.'] },
          });
          expect(ids(page.data)).toEqual([
            ...Array.from({ length: 60 }, (_, i) => `evt_many_${59 - i}`),
            'evt_3',
          ]);
          const few = await store.listEvents({ ...q, limit: 3, types: { exact: [], prefixes: ['many.t0'] } });
          expect(ids(few.data)).toEqual(['evt_many_9', 'evt_many_8', 'evt_many_7']);
          expect(few.hasMore).toBe(true);
        });

        it('filters by created range', async () => {
          const list = async (created: Record<string, number>) =>
            ids((await store.listEvents({ ...q, created })).data);
          expect(await list({ gt: base + 5 })).toEqual(['evt_7', 'evt_6']);
          expect(await list({ gte: base + 5 })).toEqual(['evt_7', 'evt_6', 'evt_5']);
          expect(await list({ lt: base + 2 })).toEqual(['evt_1']);
          expect(await list({ lte: base + 2 })).toEqual(['evt_2', 'evt_1']);
          expect(await list({ gt: base + 2, lte: base + 4 })).toEqual(['evt_4', 'evt_3']);
        });

        it('filters by delivery success', async () => {
          await store.claimDue(claimOptions());
          await store.recordAttempts([
            result('evt_1', 'we_1', { kind: 'delivered' }),
            result('evt_2', 'we_1', { kind: 'delivered' }),
            result('evt_3', 'we_1', { kind: 'failed', disableEndpoint: null }),
          ]);
          const success = ids((await store.listEvents({ ...q, deliverySuccess: true })).data);
          expect(success).toEqual(['evt_2', 'evt_1']);
          const failing = ids((await store.listEvents({ ...q, deliverySuccess: false })).data);
          expect(failing).toEqual(['evt_7', 'evt_6', 'evt_5', 'evt_4', 'evt_3']);
          // An event routed nowhere has nothing pending: it counts as a success.
          expect(ids((await store.listEvents({ ...q, livemode: true, deliverySuccess: true })).data)).toEqual(
            ['evt_live'],
          );
        });

        it('pages with filters in both directions', async () => {
          const filtered = { ...q, limit: 2, types: { exact: [], prefixes: ['a'] } };
          const first = await store.listEvents(filtered);
          expect(ids(first.data)).toEqual(['evt_6', 'evt_5']);
          expect(first.hasMore).toBe(true);
          const second = await store.listEvents({ ...filtered, startingAfter: 'evt_5' });
          expect(ids(second.data)).toEqual(['evt_2', 'evt_1']);
          expect(second.hasMore).toBe(false);
          const back = await store.listEvents({ ...filtered, endingBefore: 'evt_2' });
          expect(ids(back.data)).toEqual(['evt_6', 'evt_5']);
          expect(back.hasMore).toBe(false);
          const back1 = await store.listEvents({ ...filtered, limit: 1, endingBefore: 'evt_2' });
          expect(ids(back1.data)).toEqual(['evt_5']);
          expect(back1.hasMore).toBe(true);
          // The cursor may be an event the filter leaves out (it is still in the account's list).
          const fromCursor = await store.listEvents({ ...filtered, startingAfter: 'evt_4' });
          expect(ids(fromCursor.data)).toEqual(['evt_2', 'evt_1']);
        });

        it('rejects a cursor outside the account and mode, or unknown', async () => {
          await expect(store.listEvents({ ...q, startingAfter: 'evt_nope' })).rejects.toMatchObject({
            code: 'cursor_not_found',
          });
          await expect(store.listEvents({ ...q, endingBefore: 'evt_live' })).rejects.toMatchObject({
            code: 'cursor_not_found',
          });
          await expect(store.listEvents({ ...q, startingAfter: 'evt_acct' })).rejects.toBeInstanceOf(
            StoreError,
          );
        });
      });
    });

    describe('claimDue', () => {
      beforeEach(async () => {
        await store.initPlatform(PLATFORM, []);
      });

      it('claims due deliveries only, oldest first, with what sending needs', async () => {
        await store.createEndpoint(endpoint('we_1', { lastSuccessAt: T0 - MIN }));
        await store.appendEvent(event('evt_late'), [delivery('evt_late', 'we_1', T0 + MIN)]);
        await store.appendEvent(event('evt_b', { livemode: true, body: '{"b":1}' }), [
          delivery('evt_b', 'we_1', T0 - 1),
        ]);
        await store.appendEvent(event('evt_a', { body: '{"a":1}' }), [delivery('evt_a', 'we_1', T0 - 2)]);

        const claimed = await store.claimDue(claimOptions({ leaseMs: 10 * MIN }));
        expect(claimed).toEqual([
          {
            id: deliveryId('evt_a', 'we_1'),
            eventId: 'evt_a',
            endpointId: 'we_1',
            attempt: 1,
            createdAt: T0 - 2,
            livemode: false,
            url: 'https://example.test/we_1',
            secrets: ['whsec_we_1'],
            body: '{"a":1}',
            apiVersion: null,
            endpointLastSuccessAt: T0 - MIN,
            endpointFailingSince: null,
          },
          {
            id: deliveryId('evt_b', 'we_1'),
            eventId: 'evt_b',
            endpointId: 'we_1',
            attempt: 1,
            createdAt: T0 - 1,
            livemode: true,
            url: 'https://example.test/we_1',
            secrets: ['whsec_we_1'],
            body: '{"b":1}',
            apiVersion: null,
            endpointLastSuccessAt: T0 - MIN,
            endpointFailingSince: null,
          },
        ]);
        expect((await store.claimDue(claimOptions({ now: T0 + MIN }))).map((c) => c.eventId)).toEqual([
          'evt_late',
        ]);
      });

      it('a claim interleaves endpoints oldest first, among many endpoints with little or no work', async () => {
        const ids = Array.from({ length: 40 }, (_, i) => `we_${String(i).padStart(2, '0')}`);
        for (const id of ids) await store.createEndpoint(endpoint(id));
        // Work at three of them: one due later only, two due now with interleaved times.
        await store.appendEvent(event('evt_later'), [delivery('evt_later', 'we_05', T0 + MIN)]);
        for (let i = 0; i < 3; i++) {
          await store.appendEvent(event(`evt_x${i}`), [delivery(`evt_x${i}`, 'we_31', T0 - 10 + 2 * i)]);
          await store.appendEvent(event(`evt_y${i}`), [delivery(`evt_y${i}`, 'we_17', T0 - 9 + 2 * i)]);
        }
        for (const shallow of [false, true]) {
          const claimed = await store.claimDue(
            claimOptions({ owner: `node-${shallow}`, limit: 4, shallow, leaseMs: 10 * MIN }),
          );
          const expected = shallow ? ['evt_x2', 'evt_y2'] : ['evt_x0', 'evt_y0', 'evt_x1', 'evt_y1'];
          expect(claimed.map((c) => c.eventId)).toEqual(expected);
        }
        expect(await store.claimDue(claimOptions({ owner: 'node-c' }))).toEqual([]);
        expect(
          (await store.claimDue(claimOptions({ owner: 'node-d', now: T0 + MIN }))).map((c) => c.eventId),
        ).toEqual(['evt_later']);
      });

      it('respects limit, per-endpoint limit and excluded endpoints', async () => {
        await seed(['we_1', 'we_2', 'we_3'], []);
        for (let i = 0; i < 5; i++) {
          await store.appendEvent(
            event(`evt_${i}`),
            ['we_1', 'we_2', 'we_3'].map((w) => delivery(`evt_${i}`, w, T0 - 100 + i)),
          );
        }
        const perEndpoint = await store.claimDue(
          claimOptions({ perEndpointLimit: 2, excludeEndpointIds: ['we_3'] }),
        );
        expect(perEndpoint.map((c) => `${c.eventId}/${c.endpointId}`).sort()).toEqual([
          'evt_0/we_1',
          'evt_0/we_2',
          'evt_1/we_1',
          'evt_1/we_2',
        ]);

        const limited = await store.claimDue(claimOptions({ limit: 2, owner: 'node-b' }));
        expect(limited).toHaveLength(2);
        // oldest due first: evt_0/we_3 then the next oldest of the rest
        expect(limited[0]).toMatchObject({ eventId: 'evt_0', endpointId: 'we_3' });
        expect(limited[1]?.eventId).toBe('evt_1');

        const rest = await store.claimDue(claimOptions({ owner: 'node-c' }));
        expect(rest).toHaveLength(15 - 4 - 2);
        expect(await store.claimDue(claimOptions({ owner: 'node-d' }))).toEqual([]);
        expect(await store.claimDue(claimOptions({ limit: 0 }))).toEqual([]);
      });

      it('holds a lease until it expires, then another node may claim it', async () => {
        await seed(['we_1'], ['evt_1']);
        expect(await store.claimDue(claimOptions({ owner: 'node-a', leaseMs: 30 * SEC }))).toHaveLength(1);
        expect(await store.claimDue(claimOptions({ owner: 'node-b', now: T0 + 29 * SEC }))).toEqual([]);
        expect(await store.nextDueAt()).toBe(T0 + 30 * SEC);

        const reclaimed = await store.claimDue(claimOptions({ owner: 'node-b', now: T0 + 30 * SEC }));
        expect(reclaimed).toHaveLength(1);
        // The first attempt never reported: this is still attempt 1.
        expect(reclaimed[0]?.attempt).toBe(1);

        // node-a's late report is logged but moves nothing; node-b's is applied.
        await store.recordAttempts([
          result('evt_1', 'we_1', { kind: 'delivered' }, { attemptedAt: T0 + 31 * SEC }, 'node-a'),
        ]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({ status: 'pending', attempts: 0 });
        await store.recordAttempts([
          result('evt_1', 'we_1', { kind: 'retry', at: T0 + 10 * MIN }, { statusCode: 503 }, 'node-b'),
        ]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({
          status: 'pending',
          attempts: 1,
          nextAttemptAt: T0 + 10 * MIN,
        });
        expect((await store.listAttempts({ limit: 10, eventId: 'evt_1' })).data).toHaveLength(2);
      });

      it('shallow claims never take excluded endpoints; a deep one looks past their backlog', async () => {
        await seed(['we_1', 'we_2'], []);
        for (let i = 0; i < 10; i++)
          await store.appendEvent(event(`evt_old_${i}`), [delivery(`evt_old_${i}`, 'we_1', T0 - 100 + i)]);
        await store.appendEvent(event('evt_new'), [delivery('evt_new', 'we_2', T0 - 1)]);
        const opts = claimOptions({ limit: 2, perEndpointLimit: 2, excludeEndpointIds: ['we_1'] });
        const shallow = await store.claimDue({ ...opts, shallow: true });
        // An engine may stop at the window of we_1's older rows (SQLite) or look further (PostgreSQL).
        expect(shallow.every((c) => c.endpointId === 'we_2')).toBe(true);
        const deep = await store.claimDue({ ...opts, owner: 'node-b' });
        expect([...shallow, ...deep].map((c) => c.eventId)).toEqual(['evt_new']);
      });

      it('a delivery appended leased is held as a claimed one: due at the end of its lease, results apply', async () => {
        await seed(['we_1', 'we_2'], []);
        await store.appendEvent(event('evt_1'), [
          { ...delivery('evt_1', 'we_1', T0), lease: { owner: 'node-a', until: T0 + 30 * SEC } },
          delivery('evt_1', 'we_2', T0),
        ]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({
          status: 'pending',
          attempts: 0,
          nextAttemptAt: T0 + 30 * SEC,
          createdAt: T0,
        });
        // Only the unleased one is claimable now.
        expect((await store.claimDue(claimOptions({ owner: 'node-b' }))).map((c) => c.endpointId)).toEqual([
          'we_2',
        ]);
        expect(await store.claimDue(claimOptions({ owner: 'node-b', now: T0 + 29 * SEC }))).toEqual([]);
        // The owner's result applies as for a claim.
        await store.recordAttempts([
          result('evt_1', 'we_1', { kind: 'delivered' }, {}, 'node-a'),
          result('evt_1', 'we_2', { kind: 'delivered' }, {}, 'node-b'),
        ]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({ status: 'delivered', attempts: 1 });

        // An owner that never reports: another node takes it when the lease ends, as attempt 1.
        await store.appendEvent(event('evt_2'), [
          { ...delivery('evt_2', 'we_1', T0), lease: { owner: 'node-a', until: T0 + 30 * SEC } },
        ]);
        expect(await store.nextDueAt()).toBe(T0 + 30 * SEC);
        const taken = await store.claimDue(claimOptions({ owner: 'node-b', now: T0 + 30 * SEC }));
        expect(taken.map((c) => [c.eventId, c.attempt])).toEqual([['evt_2', 1]]);
      });

      it('signs with the current secret and rolled secrets not yet expired', async () => {
        await store.createEndpoint(
          endpoint('we_1', {
            secrets: [
              { secret: 'whsec_current', expiresAt: null },
              { secret: 'whsec_rolled', expiresAt: T0 + MIN },
              { secret: 'whsec_expired', expiresAt: T0 },
            ],
          }),
        );
        await store.appendEvent(event('evt_1'), [delivery('evt_1', 'we_1')]);
        await store.appendEvent(event('evt_2'), [delivery('evt_2', 'we_1', T0 + MIN)]);
        expect((await store.claimDue(claimOptions()))[0]?.secrets).toEqual(['whsec_current', 'whsec_rolled']);
        expect((await store.claimDue(claimOptions({ now: T0 + MIN })))[0]?.secrets).toEqual([
          'whsec_current',
        ]);
      });

      it('numbers attempts across retries', async () => {
        await seed(['we_1'], ['evt_1']);
        for (let n = 1; n <= 3; n++) {
          const now = T0 + (n - 1) * MIN;
          const [claimed] = await store.claimDue(claimOptions({ now }));
          expect(claimed?.attempt).toBe(n);
          await store.recordAttempts([
            result('evt_1', 'we_1', { kind: 'retry', at: now + MIN }, { attemptedAt: now, statusCode: 500 }),
          ]);
        }
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({
          attempts: 3,
          nextAttemptAt: T0 + 3 * MIN,
        });
      });
    });

    describe('listen sessions', () => {
      const KEY_A = 'hash_a:test';
      const KEY_B = 'hash_b:test';
      const pairs = (claimed: { eventId: string; endpointId: string }[]) =>
        claimed.map((c) => `${c.eventId}/${c.endpointId}`);

      beforeEach(async () => {
        await store.initPlatform(PLATFORM, []);
      });

      /** Ordinary we_1 and we_2; listen we_l1 and we_l2 of KEY_A, we_l3 of KEY_B; one event routed to all. */
      async function seedMixed(eventIds: string[], at = T0) {
        await store.createEndpoint(endpoint('we_1'));
        await store.createEndpoint(endpoint('we_2'));
        await store.createEndpoint(listenEndpoint('we_l1', KEY_A));
        await store.createEndpoint(listenEndpoint('we_l2', KEY_A, { connect: true }));
        await store.createEndpoint(listenEndpoint('we_l3', KEY_B));
        for (const e of eventIds) {
          await store.appendEvent(event(e), [
            delivery(e, 'we_1', at),
            // An explicit false is an ordinary delivery too.
            delivery(e, 'we_2', at, false),
            delivery(e, 'we_l1', at, true),
            delivery(e, 'we_l2', at, true),
            delivery(e, 'we_l3', at, true),
          ]);
        }
      }

      it('stores and returns the listen key; patches leave it alone', async () => {
        const l = listenEndpoint('we_l1', KEY_A, { livemode: true, enabledEvents: ['account.updated'] });
        await store.createEndpoint(l);
        await store.createEndpoint(endpoint('we_1'));
        expect(await store.getEndpoint('we_l1')).toEqual(l);
        expect((await store.getEndpoint('we_1'))?.listenKey).toBeNull();
        expect(await store.updateEndpoint('we_l1', { enabledEvents: ['*'] })).toEqual({
          ...l,
          enabledEvents: ['*'],
        });
        expect((await store.getEndpoint('we_l1'))?.listenKey).toBe(KEY_A);
      });

      it('listen endpoints are neither listed nor counted, but are routable and findable', async () => {
        await store.createEndpoint(endpoint('we_1'));
        await store.createEndpoint(listenEndpoint('we_l1', KEY_A));
        await store.createEndpoint(endpoint('we_2'));
        await store.createEndpoint(listenEndpoint('we_l2', KEY_A, { livemode: true }));
        await store.createEndpoint(
          listenEndpoint('we_l3', KEY_A, { status: 'disabled', disabledReason: 'manual' }),
        );
        await store.createEndpoint(listenEndpoint('we_l4', KEY_B, { ownerAccountId: 'acct_1' }));

        expect(ids((await store.listEndpoints(PLATFORM.id, false, { limit: 10 })).data)).toEqual([
          'we_2',
          'we_1',
        ]);
        expect((await store.listEndpoints(PLATFORM.id, true, { limit: 10 })).data).toEqual([]);
        expect((await store.listEndpoints('acct_1', false, { limit: 10 })).data).toEqual([]);
        const page = await store.listEndpoints(PLATFORM.id, false, { limit: 1 });
        expect(ids(page.data)).toEqual(['we_2']);
        expect(page.hasMore).toBe(true);
        // A listen endpoint is no cursor of the list.
        await expect(
          store.listEndpoints(PLATFORM.id, false, { limit: 2, startingAfter: 'we_l1' }),
        ).rejects.toMatchObject({ code: 'cursor_not_found' });

        expect(await store.countEndpoints(PLATFORM.id, false)).toBe(2);
        expect(await store.countEndpoints(PLATFORM.id, true)).toBe(0);
        expect(await store.countEndpoints('acct_1', false)).toBe(0);

        // Routing sees both kinds (enabled only), with their keys.
        const routable = await store.listRoutableEndpoints([PLATFORM.id, 'acct_1']);
        expect(ids(routable)).toEqual(['we_1', 'we_l1', 'we_2', 'we_l2', 'we_l4']);
        expect(routable.find((w) => w.id === 'we_l2')?.listenKey).toBe(KEY_A);
        expect(routable.find((w) => w.id === 'we_1')?.listenKey).toBeNull();

        // Any status, oldest first, of that key only.
        const found = await store.findListenEndpoints(KEY_A);
        expect(ids(found)).toEqual(['we_l1', 'we_l2', 'we_l3']);
        expect(found[2]).toEqual(
          listenEndpoint('we_l3', KEY_A, { status: 'disabled', disabledReason: 'manual' }),
        );
        expect(ids(await store.findListenEndpoints(KEY_B))).toEqual(['we_l4']);
        expect(await store.findListenEndpoints('hash_nobody:test')).toEqual([]);

        expect(await store.deleteEndpoint('we_l1')).toBe(true);
        expect(ids(await store.findListenEndpoints(KEY_A))).toEqual(['we_l2', 'we_l3']);
      });

      it('claimDue by default takes ordinary deliveries only', async () => {
        await seedMixed(['evt_1', 'evt_2']);
        const claimed = await store.claimDue(claimOptions());
        expect(pairs(claimed).sort()).toEqual(['evt_1/we_1', 'evt_1/we_2', 'evt_2/we_1', 'evt_2/we_2']);
        expect(await store.claimDue(claimOptions({ owner: 'node-b', listen: false }))).toEqual([]);
        // The listen deliveries are still there, unclaimed.
        expect(await store.getDelivery('evt_1', 'we_l1')).toMatchObject({
          status: 'pending',
          nextAttemptAt: T0,
        });
      });

      it('a listen claim takes only listen deliveries of its endpoints, with what sending needs', async () => {
        await seedMixed(['evt_1', 'evt_2']);
        // Leases outlast the test's clock: only reported deliveries come back.
        const session = claimOptions({
          owner: 'listen-a',
          leaseMs: 10 * MIN,
          listen: true,
          onlyEndpointIds: ['we_l1', 'we_l2'],
        });
        const claimed = await store.claimDue(session);
        expect(pairs(claimed).sort()).toEqual(['evt_1/we_l1', 'evt_1/we_l2', 'evt_2/we_l1', 'evt_2/we_l2']);
        expect(claimed.find((c) => c.endpointId === 'we_l1')).toMatchObject({
          attempt: 1,
          url: 'switchboard-listen://we_l1',
          secrets: ['whsec_we_l1'],
        });
        expect(await store.claimDue(session)).toEqual([]);

        // Naming an ordinary endpoint in a listen claim takes nothing of it.
        expect(
          await store.claimDue(claimOptions({ owner: 'listen-b', listen: true, onlyEndpointIds: ['we_1'] })),
        ).toEqual([]);
        // Without onlyEndpointIds, a listen claim takes every listen delivery left.
        const rest = await store.claimDue(claimOptions({ owner: 'listen-b', listen: true }));
        expect(pairs(rest).sort()).toEqual(['evt_1/we_l3', 'evt_2/we_l3']);

        // The ordinary deliveries were left for a claim.
        expect(await store.claimDue(claimOptions())).toHaveLength(4);

        // Outcomes are recorded as for any delivery.
        await store.recordAttempts([
          result('evt_1', 'we_l1', { kind: 'delivered' }, { attemptedAt: T0 + 5 }, 'listen-a'),
          result('evt_2', 'we_l1', { kind: 'retry', at: T0 + MIN }, { statusCode: null }, 'listen-a'),
        ]);
        expect((await store.getDelivery('evt_1', 'we_l1'))?.status).toBe('delivered');
        expect((await store.getEndpoint('we_l1'))?.lastSuccessAt).toBe(T0 + 5);
        const retried = await store.claimDue({ ...session, now: T0 + MIN });
        expect(pairs(retried)).toEqual(['evt_2/we_l1']);
        expect(retried[0]?.attempt).toBe(2);
      });

      it('onlyEndpointIds is respected with limits, exclusions and either kind', async () => {
        await seedMixed(['evt_1', 'evt_2', 'evt_3']);
        expect(pairs(await store.claimDue(claimOptions({ onlyEndpointIds: ['we_2'] })))).toEqual([
          'evt_1/we_2',
          'evt_2/we_2',
          'evt_3/we_2',
        ]);
        // Listen endpoints named in an ordinary claim give nothing.
        expect(await store.claimDue(claimOptions({ onlyEndpointIds: ['we_l1', 'we_l3'] }))).toEqual([]);
        // No endpoints: nothing at all.
        expect(await store.claimDue(claimOptions({ onlyEndpointIds: [] }))).toEqual([]);
        expect(await store.claimDue(claimOptions({ listen: true, onlyEndpointIds: [] }))).toEqual([]);

        const listen = (over: Partial<ClaimOptions>) =>
          store.claimDue(
            claimOptions({ owner: 'listen-a', listen: true, onlyEndpointIds: ['we_l1', 'we_l2'], ...over }),
          );
        expect(pairs(await listen({ perEndpointLimit: 1 })).sort()).toEqual(['evt_1/we_l1', 'evt_1/we_l2']);
        expect(pairs(await listen({ excludeEndpointIds: ['we_l2'] }))).toEqual([
          'evt_2/we_l1',
          'evt_3/we_l1',
        ]);
        expect(pairs(await listen({ limit: 1 }))).toEqual(['evt_2/we_l2']);
        expect(pairs(await listen({}))).toEqual(['evt_3/we_l2']);
        // we_l3 belongs to another session: untouched throughout.
        expect(
          pairs(await store.claimDue(claimOptions({ listen: true, onlyEndpointIds: ['we_l3'] }))),
        ).toEqual(['evt_1/we_l3', 'evt_2/we_l3', 'evt_3/we_l3']);
      });

      it('nextDueAt leaves listen deliveries out', async () => {
        await store.createEndpoint(endpoint('we_1'));
        await store.createEndpoint(listenEndpoint('we_l1', KEY_A));
        await store.appendEvent(event('evt_1'), [delivery('evt_1', 'we_l1', T0, true)]);
        expect(await store.nextDueAt()).toBeNull();
        await store.appendEvent(event('evt_2'), [
          delivery('evt_2', 'we_l1', T0 + MIN, true),
          delivery('evt_2', 'we_1', T0 + 2 * MIN),
        ]);
        expect(await store.nextDueAt()).toBe(T0 + 2 * MIN);
      });

      it('trimListenBacklog keeps what a session gets on its return within the bounds', async () => {
        const HOUR = 60 * MIN;
        await store.createEndpoint(listenEndpoint('we_l1', KEY_A));
        await store.createEndpoint(listenEndpoint('we_l2', KEY_A, { connect: true }));
        await store.createEndpoint(listenEndpoint('we_l3', KEY_B));
        const at = (n: number, endpoint: string, created: number) =>
          store.appendEvent(event(`evt_${n}`), [delivery(`evt_${n}`, endpoint, created, true)]);
        await at(0, 'we_l1', T0);
        await at(1, 'we_l1', T0 + HOUR);
        await at(2, 'we_l1', T0 + 2 * HOUR);
        await at(3, 'we_l2', T0 + 3 * HOUR);
        await at(4, 'we_l1', T0 + 4 * HOUR);
        await at(5, 'we_l3', T0);
        // An old one claimed right now is left alone.
        await at(6, 'we_l2', T0 + 10);
        await store.claimDue(
          claimOptions({ listen: true, onlyEndpointIds: ['we_l2'], now: T0 + 20, leaseMs: 10 * HOUR }),
        );
        const now = T0 + 5 * HOUR;
        const trimmed = await store.trimListenBacklog(
          ['we_l1', 'we_l2'],
          { createdAfter: T0 + 30 * MIN, newest: 3 },
          now,
        );
        // evt_0 is too old, evt_1 one too many (the newest 3 stay: 4, 3, 2); evt_6 is in flight, so it stays too.
        expect(trimmed).toEqual({ dropped: 2, pending: 4 });
        const status = async (n: number, endpoint: string) =>
          (await store.getDelivery(`evt_${n}`, endpoint))?.status;
        expect(await status(0, 'we_l1')).toBe('cancelled');
        expect(await status(1, 'we_l1')).toBe('cancelled');
        expect(await status(2, 'we_l1')).toBe('pending');
        expect(await status(6, 'we_l2')).toBe('pending');
        expect(await status(3, 'we_l2')).toBe('pending');
        expect(await status(4, 'we_l1')).toBe('pending');
        expect(await status(5, 'we_l3')).toBe('pending');
        expect(await store.trimListenBacklog([], { createdAfter: 0, newest: 1 }, now)).toEqual({
          dropped: 0,
          pending: 0,
        });
      });

      it("heartbeat: a silent node's leases are released once, by one survivor (PostgreSQL; SQLite has one server)", async () => {
        await seed(['we_1', 'we_2'], ['evt_1']);
        await store.heartbeat('node-a', T0, T0 - 10 * SEC);
        await store.heartbeat('node-b', T0, T0 - 10 * SEC);
        await store.claimDue(claimOptions({ owner: 'node-a', onlyEndpointIds: ['we_1'], leaseMs: 10 * MIN }));
        await store.claimDue(claimOptions({ owner: 'node-b', onlyEndpointIds: ['we_2'], leaseMs: 10 * MIN }));
        const now = T0 + 15 * SEC;
        // node-b is alive now; node-a was last seen 15 s ago.
        const first = await store.heartbeat('node-b', now, now - 10 * SEC);
        if (store.engine === 'sqlite') {
          expect(first).toEqual({ released: 0, deadNodes: [] });
          return;
        }
        expect(first).toEqual({ released: 1, deadNodes: ['node-a'] });
        expect((await store.getDelivery('evt_1', 'we_1'))?.nextAttemptAt).toBe(now);
        expect((await store.getDelivery('evt_1', 'we_2'))?.nextAttemptAt).toBe(T0 + 10 * MIN);
        // Nothing twice.
        expect(await store.heartbeat('node-c', now, now - 10 * SEC)).toEqual({ released: 0, deadNodes: [] });
      });

      it("recoverLeases makes a stopped node's in-flight deliveries due now", async () => {
        await seed(['we_1', 'we_2'], ['evt_1', 'evt_2']);
        await store.claimDue(claimOptions({ owner: 'node-a', onlyEndpointIds: ['we_1'], leaseMs: 10 * MIN }));
        await store.claimDue(claimOptions({ owner: 'node-b', onlyEndpointIds: ['we_2'], leaseMs: 10 * MIN }));
        const now = T0 + MIN;
        const released = await store.recoverLeases('node-a', now);
        const due = async (e: string, w: string) => (await store.getDelivery(e, w))?.nextAttemptAt;
        expect(await due('evt_1', 'we_1')).toBe(now);
        expect(await due('evt_2', 'we_1')).toBe(now);
        if (store.engine === 'sqlite') {
          // One server owns a SQLite file: every lease in it is that server's own.
          expect(released).toBe(4);
          expect(await due('evt_1', 'we_2')).toBe(now);
        } else {
          // Another node's leases are its own business.
          expect(released).toBe(2);
          expect(await due('evt_1', 'we_2')).toBe(T0 + 10 * MIN);
        }
        expect((await store.claimDue(claimOptions({ now, owner: 'node-a2' }))).length).toBe(released);
      });

      it('wakeDeliveries makes the later pending, unleased deliveries of those endpoints due now', async () => {
        await store.createEndpoint(endpoint('we_1'));
        await store.createEndpoint(listenEndpoint('we_l1', KEY_A));
        await store.createEndpoint(listenEndpoint('we_l2', KEY_A));
        await store.createEndpoint(listenEndpoint('we_l3', KEY_B));
        const now = T0 + 10 * MIN;
        await store.appendEvent(event('evt_1'), [
          delivery('evt_1', 'we_l1', T0, true),
          delivery('evt_1', 'we_l2', T0, true),
          delivery('evt_1', 'we_l3', now + MIN, true),
          delivery('evt_1', 'we_1', now + MIN),
        ]);
        await store.appendEvent(event('evt_2'), [delivery('evt_2', 'we_l1', now + 5 * MIN, true)]);
        await store.appendEvent(event('evt_3'), [delivery('evt_3', 'we_l1', now - MIN, true)]);
        await store.appendEvent(event('evt_4'), [delivery('evt_4', 'we_l2', now + 2 * MIN, true)]);
        const session = claimOptions({ listen: true, onlyEndpointIds: ['we_l1', 'we_l2'] });
        // evt_1: we_l1 is retried later, we_l2 delivered; evt_3/we_l1 is claimed (leased past now).
        await store.claimDue({ ...session, now: T0, owner: 'listen-old' });
        await store.recordAttempts([
          result('evt_1', 'we_l1', { kind: 'retry', at: now + 3 * MIN }, { statusCode: null }, 'listen-old'),
          result('evt_1', 'we_l2', { kind: 'delivered' }, {}, 'listen-old'),
        ]);
        await store.claimDue({ ...session, now: now - MIN, leaseMs: 30 * MIN, owner: 'listen-old' });
        expect((await store.getDelivery('evt_3', 'we_l1'))?.nextAttemptAt).toBe(now + 29 * MIN);

        expect(await store.wakeDeliveries(['we_l1', 'we_l2'], now)).toBe(3);
        expect((await store.getDelivery('evt_1', 'we_l1'))?.nextAttemptAt).toBe(now);
        expect((await store.getDelivery('evt_2', 'we_l1'))?.nextAttemptAt).toBe(now);
        expect((await store.getDelivery('evt_4', 'we_l2'))?.nextAttemptAt).toBe(now);
        // Left alone: leased, delivered, and other endpoints.
        expect((await store.getDelivery('evt_3', 'we_l1'))?.nextAttemptAt).toBe(now + 29 * MIN);
        expect(await store.getDelivery('evt_1', 'we_l2')).toMatchObject({
          status: 'delivered',
          nextAttemptAt: null,
        });
        expect((await store.getDelivery('evt_1', 'we_l3'))?.nextAttemptAt).toBe(now + MIN);
        expect((await store.getDelivery('evt_1', 'we_1'))?.nextAttemptAt).toBe(now + MIN);
        // Nothing left to move; an empty list moves nothing.
        expect(await store.wakeDeliveries(['we_l1', 'we_l2'], now)).toBe(0);
        expect(await store.wakeDeliveries([], now)).toBe(0);

        const claimed = await store.claimDue({ ...session, now, owner: 'listen-new' });
        expect(pairs(claimed)).toEqual(['evt_1/we_l1', 'evt_2/we_l1', 'evt_4/we_l2']);
        expect(claimed[0]?.attempt).toBe(2);
      });
    });

    describe('recordAttempts', () => {
      beforeEach(async () => {
        await seed(['we_1', 'we_2'], ['evt_1', 'evt_2']);
        await store.claimDue(claimOptions({ leaseMs: 60 * MIN }));
      });

      it('delivered: marks the delivery and the endpoint success', async () => {
        await store.recordAttempts([result('evt_1', 'we_1', { kind: 'delivered' }, { attemptedAt: T0 + 7 })]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({
          status: 'delivered',
          attempts: 1,
          deliveredAt: T0 + 7,
          nextAttemptAt: null,
        });
        expect((await store.getEndpoint('we_1'))?.lastSuccessAt).toBe(T0 + 7);
        // An older success never moves lastSuccessAt back.
        await store.recordAttempts([result('evt_2', 'we_1', { kind: 'delivered' }, { attemptedAt: T0 + 3 })]);
        expect((await store.getEndpoint('we_1'))?.lastSuccessAt).toBe(T0 + 7);
        expect((await store.getDelivery('evt_2', 'we_1'))?.status).toBe('delivered');
      });

      it('retry: reschedules and frees the lease', async () => {
        await store.recordAttempts([
          result(
            'evt_1',
            'we_1',
            { kind: 'retry', at: T0 + 5 * MIN },
            { statusCode: 500, error: 'http_500' },
          ),
        ]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({
          status: 'pending',
          attempts: 1,
          nextAttemptAt: T0 + 5 * MIN,
        });
        expect((await store.getEndpoint('we_1'))?.lastSuccessAt).toBeNull();
        expect(await store.claimDue(claimOptions({ now: T0 + 5 * MIN - 1, owner: 'node-b' }))).toEqual([]);
        const again = await store.claimDue(claimOptions({ now: T0 + 5 * MIN, owner: 'node-b' }));
        expect(again.map((c) => [c.eventId, c.endpointId, c.attempt])).toEqual([['evt_1', 'we_1', 2]]);
      });

      it('recordAndClaim: records, then claims with the outcomes applied', async () => {
        const claimed = await store.recordAndClaim(
          [
            result('evt_1', 'we_1', { kind: 'retry', at: T0 + MIN }, { statusCode: 500, error: 'http_500' }),
            result('evt_2', 'we_1', { kind: 'delivered' }, { attemptedAt: T0 + 1 }),
          ],
          claimOptions({ now: T0 + MIN, owner: 'node-b' }),
        );
        expect(await store.getDelivery('evt_2', 'we_1')).toMatchObject({ status: 'delivered', attempts: 1 });
        // The retry was due at the claim's now; the delivered one is not claimed again, nor are leased ones.
        expect(claimed.map((c) => [c.eventId, c.endpointId, c.attempt])).toEqual([['evt_1', 'we_1', 2]]);
        expect(await store.recordAndClaim([], claimOptions({ now: T0 + MIN, owner: 'node-b' }))).toEqual([]);
      });

      it('failed: gives up on the delivery; the event still owes it', async () => {
        await store.recordAttempts([result('evt_1', 'we_1', { kind: 'failed', disableEndpoint: null })]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({
          status: 'failed',
          attempts: 1,
          nextAttemptAt: null,
        });
        expect((await store.getEndpoint('we_1'))?.status).toBe('enabled');
        expect((await store.getEvent('evt_1'))?.pendingWebhooks).toBe(2);
      });

      it('failed with disableEndpoint: disables it and pauses its other pending deliveries', async () => {
        // evt_2/we_1 is rescheduled in the same batch, before the failure disables the endpoint.
        await store.recordAttempts([
          result('evt_2', 'we_1', { kind: 'retry', at: T0 + MIN }),
          result('evt_1', 'we_1', { kind: 'failed', disableEndpoint: { reason: 'failing_for_days' } }),
        ]);
        expect(await store.getEndpoint('we_1')).toMatchObject({
          status: 'disabled',
          disabledReason: 'failing_for_days',
        });
        expect((await store.getDelivery('evt_1', 'we_1'))?.status).toBe('failed');
        expect(await store.getDelivery('evt_2', 'we_1')).toMatchObject({
          status: 'pending',
          nextAttemptAt: null,
        });
        expect((await store.getDelivery('evt_1', 'we_2'))?.status).toBe('pending');
      });

      it('retry with disableEndpoint: the retry is recorded, the endpoint disabled, the delivery paused', async () => {
        await store.recordAttempts([
          result('evt_1', 'we_1', {
            kind: 'retry',
            at: T0 + MIN,
            disableEndpoint: { reason: 'failing_for_days' },
          }),
        ]);
        expect((await store.getEndpoint('we_1'))?.status).toBe('disabled');
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({
          status: 'pending',
          attempts: 1,
          nextAttemptAt: null,
        });
      });

      it('ignores the outcome of a node that no longer holds the claim, but logs the attempt', async () => {
        await store.recordAttempts([
          result('evt_1', 'we_1', { kind: 'delivered' }, {}, 'node-x'),
          result('evt_1', 'we_2', { kind: 'failed', disableEndpoint: { reason: 'x' } }, {}, 'node-x'),
        ]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({ status: 'pending', attempts: 0 });
        expect(await store.getDelivery('evt_1', 'we_2')).toMatchObject({ status: 'pending', attempts: 0 });
        expect((await store.getEndpoint('we_2'))?.status).toBe('enabled');
        expect((await store.listAttempts({ limit: 10, eventId: 'evt_1' })).data).toHaveLength(2);
        // A repeated report (same attempt ids) after the real one changes nothing more.
        const real = result('evt_1', 'we_1', { kind: 'retry', at: T0 + MIN });
        await store.recordAttempts([real]);
        await store.recordAttempts([real]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({
          attempts: 1,
          nextAttemptAt: T0 + MIN,
        });
        expect((await store.listAttempts({ limit: 10, eventId: 'evt_1' })).data).toHaveLength(3);
      });

      it('applies a batch in order when it holds the same delivery twice', async () => {
        // The retry frees the claim, so the second report of the same delivery is stale.
        await store.recordAttempts([
          result('evt_1', 'we_1', { kind: 'retry', at: T0 + MIN }),
          result('evt_1', 'we_1', { kind: 'delivered' }),
          result('evt_1', 'we_2', { kind: 'delivered' }),
        ]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({
          status: 'pending',
          attempts: 1,
          nextAttemptAt: T0 + MIN,
        });
        expect((await store.getDelivery('evt_1', 'we_2'))?.status).toBe('delivered');
        expect((await store.listAttempts({ limit: 10, eventId: 'evt_1' })).data).toHaveLength(3);
      });

      it('manual ok: delivers without counting, touching the schedule or the lease', async () => {
        await store.recordAttempts([result('evt_1', 'we_1', { kind: 'failed', disableEndpoint: null })]);
        await store.recordAttempts([
          result('evt_1', 'we_1', { kind: 'manual', ok: true }, { manual: true, attemptedAt: T0 + 9 }, null),
          // evt_2/we_2 is still claimed by node-a
          result('evt_2', 'we_2', { kind: 'manual', ok: true }, { manual: true, attemptedAt: T0 + 9 }, null),
        ]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({
          status: 'delivered',
          attempts: 1,
          deliveredAt: T0 + 9,
        });
        expect(await store.getDelivery('evt_2', 'we_2')).toMatchObject({ status: 'delivered', attempts: 0 });
        expect((await store.getEndpoint('we_1'))?.lastSuccessAt).toBe(T0 + 9);
        // The automatic attempt in flight reports into a delivered row: nothing moves.
        await store.recordAttempts([result('evt_2', 'we_2', { kind: 'retry', at: T0 + MIN })]);
        expect(await store.getDelivery('evt_2', 'we_2')).toMatchObject({ status: 'delivered', attempts: 0 });
        expect((await store.getEvent('evt_2'))?.pendingWebhooks).toBe(1);
      });

      it('manual not ok, or to an endpoint never routed: only logged', async () => {
        await store.createEndpoint(endpoint('we_3'));
        await store.recordAttempts([
          result('evt_1', 'we_1', { kind: 'manual', ok: false }, { manual: true, statusCode: 500 }, null),
          result('evt_1', 'we_3', { kind: 'manual', ok: true }, { manual: true, deliveryId: null }, null),
        ]);
        expect(await store.getDelivery('evt_1', 'we_1')).toMatchObject({ status: 'pending', attempts: 0 });
        expect(await store.getDelivery('evt_1', 'we_3')).toBeNull();
        const logged = await store.listAttempts({ limit: 10, endpointId: 'we_3' });
        expect(logged.data[0]).toMatchObject({ deliveryId: null, manual: true, eventId: 'evt_1' });
        // claimed by node-a still: the manual failure did not touch the lease
        expect(await store.claimDue(claimOptions({ owner: 'node-b' }))).toEqual([]);
      });

      it('records the attempt fields as given', async () => {
        const a = attempt('evt_1', 'we_1', {
          attemptedAt: T0 + 1,
          durationMs: 30_000,
          statusCode: null,
          error: 'timeout',
          responseBody: null,
        });
        await store.recordAttempts([
          { attempt: a, outcome: { kind: 'retry', at: T0 + MIN }, leaseOwner: 'node-a' },
        ]);
        expect((await store.listAttempts({ limit: 1, eventId: 'evt_1' })).data).toEqual([a]);
        await store.recordAttempts([]);
      });
    });

    describe('nextDueAt', () => {
      it('is the earliest pending attempt, null when nothing is pending', async () => {
        await store.initPlatform(PLATFORM, []);
        expect(await store.nextDueAt()).toBeNull();
        await store.createEndpoint(endpoint('we_1'));
        await store.appendEvent(event('evt_1'), [delivery('evt_1', 'we_1', T0 + 2 * MIN)]);
        await store.appendEvent(event('evt_2'), [delivery('evt_2', 'we_1', T0 + MIN)]);
        expect(await store.nextDueAt()).toBe(T0 + MIN);
        await store.claimDue(claimOptions({ now: T0 + MIN, leaseMs: 5 * MIN }));
        expect(await store.nextDueAt()).toBe(T0 + 2 * MIN);
        await store.recordAttempts([result('evt_2', 'we_1', { kind: 'delivered' })]);
        await store.claimDue(claimOptions({ now: T0 + 2 * MIN }));
        await store.recordAttempts([result('evt_1', 'we_1', { kind: 'failed', disableEndpoint: null })]);
        expect(await store.nextDueAt()).toBeNull();
      });
    });

    describe('listAttempts', () => {
      it('lists by event and by endpoint, newest first, with cursors', async () => {
        await seed(['we_1', 'we_2'], ['evt_1', 'evt_2']);
        const made: AttemptRecord[] = [];
        for (let i = 0; i < 4; i++) {
          const a = attempt(i % 2 === 0 ? 'evt_1' : 'evt_2', i < 2 ? 'we_1' : 'we_2', {
            attemptedAt: T0 + i,
            manual: true,
          });
          made.push(a);
          await store.recordAttempts([
            { attempt: a, outcome: { kind: 'manual', ok: false }, leaseOwner: null },
          ]);
        }
        const byEvent = await store.listAttempts({ limit: 10, eventId: 'evt_1' });
        expect(byEvent.data).toEqual([made[2], made[0]]);
        const byEndpoint = await store.listAttempts({ limit: 10, endpointId: 'we_1' });
        expect(byEndpoint.data).toEqual([made[1], made[0]]);
        const both = await store.listAttempts({ limit: 10, eventId: 'evt_1', endpointId: 'we_2' });
        expect(both.data).toEqual([made[2]]);

        const all = await store.listAttempts({ limit: 3 });
        expect(ids(all.data)).toEqual(ids([made[3]!, made[2]!, made[1]!]));
        expect(all.hasMore).toBe(true);
        const after = await store.listAttempts({ limit: 3, startingAfter: made[1]!.id });
        expect(after.data).toEqual([made[0]]);
        expect(after.hasMore).toBe(false);
        const before = await store.listAttempts({ limit: 1, endingBefore: made[1]!.id });
        expect(before.data).toEqual([made[2]]);
        expect(before.hasMore).toBe(true);
        await expect(store.listAttempts({ limit: 1, startingAfter: 'wa_nope' })).rejects.toMatchObject({
          code: 'cursor_not_found',
        });
        await expect(
          store.listAttempts({ limit: 1, eventId: 'evt_2', startingAfter: made[0]!.id }),
        ).rejects.toMatchObject({ code: 'cursor_not_found' });
      });
    });

    describe('idempotency', () => {
      it('puts once, gets, and reports an existing key', async () => {
        const record = {
          scope: 'hash_a:acct_1',
          key: 'stripe-node-retry-1',
          requestHash: 'rh1',
          statusCode: 200,
          responseBody: '{"id":"we_1"}',
          createdAt: T0,
        };
        expect(await store.getIdempotency(record.scope, record.key)).toBeNull();
        expect(await store.putIdempotency(record)).toBe(true);
        expect(await store.getIdempotency(record.scope, record.key)).toEqual(record);
        expect(await store.putIdempotency({ ...record, requestHash: 'rh2', statusCode: 400 })).toBe(false);
        expect(await store.getIdempotency(record.scope, record.key)).toEqual(record);
        // Another caller's key of the same value is its own record.
        expect(await store.putIdempotency({ ...record, scope: 'hash_b:acct_1' })).toBe(true);
        expect(await store.getIdempotency('hash_b:acct_1', record.key)).toMatchObject({
          scope: 'hash_b:acct_1',
        });
      });
    });

    describe('idempotency reservations', () => {
      const r = { scope: 's', key: 'k', requestHash: 'rh1', createdAt: T0 };
      const limits = { staleBefore: T0 - MIN, expiredBefore: T0 - 24 * 60 * MIN };

      it('the first caller reserves; the others see it running, then its result', async () => {
        expect(await store.reserveIdempotency(r, limits)).toEqual({ kind: 'reserved' });
        expect(await store.reserveIdempotency({ ...r, requestHash: 'rh2' }, limits)).toEqual({
          kind: 'existing',
          record: { ...r, statusCode: IDEMPOTENCY_IN_PROGRESS, responseBody: '' },
        });
        await store.completeIdempotency('s', 'k', 201, '{"ok":true}');
        expect(await store.reserveIdempotency(r, limits)).toEqual({
          kind: 'existing',
          record: { ...r, statusCode: 201, responseBody: '{"ok":true}' },
        });
        // A finished result is never overwritten or released.
        await store.completeIdempotency('s', 'k', 500, 'x');
        await store.releaseIdempotency('s', 'k');
        expect((await store.getIdempotency('s', 'k'))?.statusCode).toBe(201);
      });

      it('a released reservation frees the key', async () => {
        await store.reserveIdempotency(r, limits);
        await store.releaseIdempotency('s', 'k');
        expect(await store.getIdempotency('s', 'k')).toBeNull();
        expect(await store.reserveIdempotency({ ...r, requestHash: 'rh2' }, limits)).toEqual({
          kind: 'reserved',
        });
      });

      it('a stale reservation (its node died) and an expired result are taken over; a fresh one is not', async () => {
        await store.reserveIdempotency({ ...r, createdAt: T0 - 2 * MIN }, limits);
        expect(await store.reserveIdempotency({ ...r, requestHash: 'rh2' }, limits)).toEqual({
          kind: 'reserved',
        });
        expect((await store.getIdempotency('s', 'k'))?.requestHash).toBe('rh2');
        await store.putIdempotency({
          ...r,
          key: 'old',
          statusCode: 200,
          responseBody: '{}',
          createdAt: T0 - 25 * 60 * MIN,
        });
        expect(await store.reserveIdempotency({ ...r, key: 'old' }, limits)).toEqual({ kind: 'reserved' });
        await store.putIdempotency({
          ...r,
          key: 'done',
          statusCode: 200,
          responseBody: '{}',
          createdAt: T0 - 2 * MIN,
        });
        expect((await store.reserveIdempotency({ ...r, key: 'done' }, limits)).kind).toBe('existing');
      });
    });

    describe('emulated objects', () => {
      it('creates, replaces and gets objects; kind, account and creation stay as first written', async () => {
        expect(await store.getObject('cus_1')).toBeNull();
        await store.putObjects([
          emulated('cus_1'),
          emulated('cus_2', { accountId: 'acct_1', livemode: true }),
        ]);
        expect(await store.getObject('cus_1')).toEqual(emulated('cus_1'));
        expect(await store.getObject('cus_2')).toMatchObject({ accountId: 'acct_1', livemode: true });
        const changed = emulated('cus_1', {
          object: { id: 'cus_1', object: 'customer', email: 'a@example.com', nested: { n: [1, 2] } },
          lookupKey: 'a@example.com',
        });
        await store.putObjects([{ ...changed, accountId: 'acct_other', createdUnix: 1 }]);
        expect(await store.getObject('cus_1')).toEqual(changed);
        await store.putObjects([{ ...changed, deleted: true }]);
        expect((await store.getObject('cus_1'))?.deleted).toBe(true);
        await store.putObjects([]);
      });

      it('lists an account’s objects of a kind in one mode, newest first, paged, deleted ones left out', async () => {
        await store.putObjects([
          emulated('cus_a'),
          emulated('cus_b', { lookupKey: 'b@example.com' }),
          emulated('cus_c'),
          emulated('cus_d', { lookupKey: 'b@example.com' }),
          emulated('cus_live', { livemode: true }),
          emulated('cus_other', { accountId: 'acct_1' }),
          emulated('pi_1', { kind: 'payment_intent' }),
        ]);
        await store.putObjects([emulated('cus_c', { deleted: true })]);
        const q = { kind: 'customer', accountId: PLATFORM.id, livemode: false };
        const all = await store.listObjects({ ...q, limit: 10 });
        expect(ids(all.data)).toEqual(['cus_d', 'cus_b', 'cus_a']);
        expect(all.hasMore).toBe(false);
        const first = await store.listObjects({ ...q, limit: 2 });
        expect(ids(first.data)).toEqual(['cus_d', 'cus_b']);
        expect(first.hasMore).toBe(true);
        expect(ids((await store.listObjects({ ...q, limit: 2, startingAfter: 'cus_b' })).data)).toEqual([
          'cus_a',
        ]);
        expect(ids((await store.listObjects({ ...q, limit: 2, endingBefore: 'cus_a' })).data)).toEqual([
          'cus_d',
          'cus_b',
        ]);
        expect(ids((await store.listObjects({ ...q, limit: 10, lookupKey: 'b@example.com' })).data)).toEqual([
          'cus_d',
          'cus_b',
        ]);
        expect((await store.listObjects({ ...q, livemode: true, limit: 10 })).data).toHaveLength(1);
        expect(ids((await store.listObjects({ ...q, kind: 'payment_intent', limit: 10 })).data)).toEqual([
          'pi_1',
        ]);
        // A cursor must name an object of the list.
        await expect(store.listObjects({ ...q, limit: 2, startingAfter: 'cus_other' })).rejects.toThrow();
        await expect(store.listObjects({ ...q, limit: 2, startingAfter: 'cus_c' })).rejects.toThrow();
      });

      it('commits the objects an event records with it, or neither', async () => {
        await store.putObjects([emulated('cus_1')]);
        const v2 = emulated('cus_1', {
          object: { id: 'cus_1', object: 'customer', email: 'v2@example.com' },
        });
        await store.appendEvent(event('evt_1'), [], { objects: [v2, emulated('cus_new')] });
        expect((await store.getObject('cus_1'))?.object).toEqual(v2.object);
        expect(await store.getObject('cus_new')).not.toBeNull();
        // The event cannot be stored (its id is taken): the objects are not written either.
        await expect(
          store.appendEvent(event('evt_1'), [], {
            objects: [emulated('cus_1', { deleted: true }), emulated('cus_never')],
          }),
        ).rejects.toMatchObject({ code: 'duplicate' });
        expect((await store.getObject('cus_1'))?.deleted).toBe(false);
        expect(await store.getObject('cus_never')).toBeNull();
        // Among other appends of the same tick, only the failing one is undone.
        const results = await Promise.allSettled([
          store.appendEvent(event('evt_2'), [], { objects: [emulated('cus_2')] }),
          store.appendEvent(event('evt_1'), [], { objects: [emulated('cus_3')] }),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
        expect(await store.getObject('cus_2')).not.toBeNull();
        expect(await store.getObject('cus_3')).toBeNull();
      });
    });

    describe('scheduled steps', () => {
      const step = (id: string, dueAt: number) => ({
        id,
        kind: 'funds.available',
        subjectId: `txn_${id}`,
        accountId: PLATFORM.id,
        livemode: false,
        dueAt,
      });

      it('are scheduled with an event, claimed when due with a lease, oldest first, and completed with an event', async () => {
        await store.appendEvent(event('evt_1'), [], {
          scheduleSteps: [
            step('step_b', T0 + 2 * SEC),
            step('step_a', T0 + SEC),
            step('step_later', T0 + MIN),
          ],
        });
        expect(await store.claimDueSteps(T0, 30 * SEC, 10)).toEqual([]);
        const due = await store.claimDueSteps(T0 + 5 * SEC, 30 * SEC, 10);
        expect(due).toEqual([step('step_a', T0 + SEC), step('step_b', T0 + 2 * SEC)]);
        // Leased: not claimed again until the lease runs out.
        expect(await store.claimDueSteps(T0 + 6 * SEC, 30 * SEC, 10)).toEqual([]);
        expect((await store.claimDueSteps(T0 + 36 * SEC, 30 * SEC, 1)).map((s) => s.id)).toEqual(['step_a']);
        // The outcome's event completes the step in its transaction; a duplicate event completes nothing.
        await expect(
          store.appendEvent(event('evt_1'), [], { completeSteps: ['step_a'] }),
        ).rejects.toMatchObject({
          code: 'duplicate',
        });
        await store.appendEvent(event('evt_2'), [], { completeSteps: ['step_a'] });
        await store.completeSteps(['step_b']);
        expect((await store.claimDueSteps(T0 + 2 * MIN, 30 * SEC, 10)).map((s) => s.id)).toEqual([
          'step_later',
        ]);
        await store.completeSteps([]);
      });

      it('a step scheduled twice is one step; a limit of 0 claims nothing', async () => {
        await store.appendEvent(event('evt_1'), [], { scheduleSteps: [step('step_1', T0)] });
        await store.appendEvent(event('evt_2'), [], { scheduleSteps: [step('step_1', T0 + MIN)] });
        expect(await store.claimDueSteps(T0, SEC, 0)).toEqual([]);
        expect(await store.claimDueSteps(T0, SEC, 10)).toEqual([step('step_1', T0)]);
      });
    });

    describe('prune', () => {
      it('removes old events with their deliveries and attempts, and old idempotency records', async () => {
        await store.initPlatform(PLATFORM, []);
        await store.createEndpoint(endpoint('we_1'));
        const base = Math.floor(T0 / SEC);
        await store.appendEvent(event('evt_old', { createdUnix: base - 100 }), [delivery('evt_old', 'we_1')]);
        await store.appendEvent(event('evt_edge', { createdUnix: base }), [delivery('evt_edge', 'we_1')]);
        await store.appendEvent(event('evt_new', { createdUnix: base + 100 }), [delivery('evt_new', 'we_1')]);
        await store.claimDue(claimOptions());
        await store.recordAttempts([
          result('evt_old', 'we_1', { kind: 'delivered' }),
          result('evt_new', 'we_1', { kind: 'delivered' }),
        ]);
        for (const [key, createdAt] of [
          ['k_old', T0 - 1],
          ['k_new', T0],
        ] as const) {
          await store.putIdempotency({
            scope: 's',
            key,
            requestHash: 'h',
            statusCode: 200,
            responseBody: '{}',
            createdAt,
          });
        }

        // evt_edge was created exactly at T0: not before it.
        expect(await store.prune(T0, T0)).toEqual({ events: 1, idempotency: 1 });
        expect(await store.getEvent('evt_old')).toBeNull();
        expect(await store.listDeliveries('evt_old')).toEqual([]);
        expect((await store.listAttempts({ limit: 10, eventId: 'evt_old' })).data).toEqual([]);
        expect(await store.getEvent('evt_edge')).not.toBeNull();
        expect((await store.listAttempts({ limit: 10, eventId: 'evt_new' })).data).toHaveLength(1);
        expect(await store.getIdempotency('s', 'k_old')).toBeNull();
        expect(await store.getIdempotency('s', 'k_new')).not.toBeNull();

        expect(await store.prune(T0 + 1, T0)).toEqual({ events: 1, idempotency: 0 });
        expect(await store.getEvent('evt_edge')).toBeNull();
        expect(await store.prune(T0 + 1, T0)).toEqual({ events: 0, idempotency: 0 });
      });
    });

    describe('maintain', () => {
      it('can run at any time, between claims and results, and changes nothing the contract shows', async () => {
        await store.initPlatform(PLATFORM, []);
        await store.createEndpoint(endpoint('we_1'));
        for (let i = 0; i < 30; i++)
          await store.appendEvent(event(`evt_${i}`), [delivery(`evt_${i}`, 'we_1')]);
        const first = await store.claimDue(claimOptions({ limit: 10 }));
        const report = await store.maintain();
        expect(typeof report.vacuumed).toBe('boolean');
        await store.recordAttempts(first.map((c) => result(c.eventId, 'we_1', { kind: 'delivered' })));
        await store.maintain();
        const rest = await store.claimDue(claimOptions({ owner: 'node-b' }));
        expect(rest).toHaveLength(20);
        expect((await store.getEvent('evt_0'))?.pendingWebhooks).toBe(0);
      });
    });
  });
}
