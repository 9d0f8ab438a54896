// Catch-up against a real Switchboard server (in process, SQLite store, a
// real socket): events published through the API land in the inbox once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Harness, startHarness, TEST_KEY } from '../../server/test/helpers/switchboard.js';
import {
  CatchUpError,
  type CatchUpOptions,
  catchUp,
  createInbox,
  createSqliteInbox,
  type Inbox,
  type InboxStore,
} from '../src/index.js';

describe('catchUp against a real Switchboard server', () => {
  let h: Harness;
  let dir: string;
  let db: Database.Database;
  let store: InboxStore;
  let inbox: Inbox;
  let n = 0;

  beforeEach(async () => {
    h = await startHarness('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'sbinbox-catchup-'));
    db = new Database(join(dir, 'inbox.db'));
    store = createSqliteInbox(db);
    await store.migrate();
    inbox = createInbox({ store, handler: () => {} });
  });
  afterEach(async (ctx) => {
    const failed = ctx.task.result?.state === 'fail';
    await h.close(failed);
    db.close();
    if (!failed) rmSync(dir, { recursive: true, force: true });
  });

  /** Publishes one event a second apart from the last, as the caller or a connected account. */
  async function publish(type = 'customer.updated', headers: Record<string, string> = {}): Promise<string> {
    h.clock.advance(1000);
    n += 1;
    const res = await h.api(
      'POST',
      '/v1/events',
      { type, data: { object: { id: `cus_${n}`, object: 'customer', n } } },
      headers,
    );
    expect(res.status).toBe(200);
    return res.body.id as string;
  }
  const publishMany = async (count: number, type?: string) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) ids.push(await publish(type));
    return ids;
  };
  const run = (options: Partial<CatchUpOptions> = {}) =>
    catchUp({ apiBase: h.url, apiKey: TEST_KEY, inbox, pageSize: 10, ...options });

  it('takes every event once, oldest first, then only the new ones from the last one', async () => {
    const first = await publishMany(25);
    const accepted: string[] = [];
    const spy = {
      accept: (raw: string | Uint8Array, event: Parameters<Inbox['accept']>[1]) => {
        accepted.push(event.id);
        return inbox.accept(raw, event);
      },
      has: inbox.has,
    };
    const result = await catchUp({ apiBase: h.url, apiKey: TEST_KEY, inbox: spy, pageSize: 10 });
    expect(result).toMatchObject({ listed: 25, stored: 25, duplicates: 0, lastEventId: first[24] });
    expect(accepted).toEqual(first);
    expect(await store.stats()).toMatchObject({ pending: 25, total: 25 });
    const record = await store.get(first[0]!);
    expect(record).toMatchObject({ type: 'customer.updated', account: null, livemode: false });
    expect(JSON.parse(record!.body)).toMatchObject({
      id: first[0],
      object: 'event',
      data: { object: { n: 1 } },
    });

    // Nothing new: the walk stops at the newest event, which the inbox has.
    expect(await run()).toMatchObject({ listed: 0, stored: 0, pages: 2, lastEventId: first[24] });

    const more = await publishMany(12);
    const again = await run({ since: { eventId: result.lastEventId! } });
    expect(again).toMatchObject({ listed: 12, stored: 12, duplicates: 0, lastEventId: more[11] });
    expect((await store.stats()).total).toBe(37);
    // From the last one again: nothing to take.
    expect(await run({ since: { eventId: more[11]! } })).toMatchObject({ listed: 0, lastEventId: more[11] });

    // And the worker handles them all, each once.
    const handled: string[] = [];
    const worker = createInbox({ store, batchSize: 100, handler: (event) => void handled.push(event.id) });
    await worker.runOnce();
    expect(handled).toEqual([...first, ...more]);
  });

  it('without since, walks back only to the first event the inbox already holds', async () => {
    const ids = await publishMany(6);
    const known = ids[2]!;
    const event = (await h.api('GET', `/v1/events/${known}`)).body;
    await inbox.accept(JSON.stringify(event), event);
    const accept = vi.spyOn(inbox, 'accept');
    const result = await run({ undelivered: false });
    expect(result).toMatchObject({ listed: 3, stored: 3, lastEventId: ids[5] });
    expect(accept.mock.calls.map((call) => call[1].id)).toEqual(ids.slice(3));
    expect(await inbox.has(ids[0]!)).toBe(false);
  });

  it('also takes older events some endpoint has not acknowledged (delivery_success=false)', async () => {
    const endpoint = await h.api('POST', '/v1/webhook_endpoints', {
      url: 'http://127.0.0.1:9/unreachable',
      enabled_events: ['*'],
    });
    expect(endpoint.status).toBe(200);
    // The server does not deliver in this test, so all three stay undelivered.
    const ids = await publishMany(3);
    // The receiver got only the newest one.
    const newest = (await h.api('GET', `/v1/events/${ids[2]}`)).body;
    await inbox.accept(JSON.stringify(newest), newest);

    const undelivered = await h.api('GET', '/v1/events?delivery_success=false');
    expect(undelivered.body.data).toHaveLength(3);
    const result = await run();
    expect(result).toMatchObject({ listed: 3, stored: 2, duplicates: 1, lastEventId: ids[2] });
    for (const id of ids) expect(await inbox.has(id)).toBe(true);
  });

  it('since a time: everything created from then on', async () => {
    await publishMany(3);
    const from = Math.floor(h.clock() / 1000) + 1;
    const later = await publishMany(4);
    const result = await run({ since: { created: from }, undelivered: false });
    expect(result).toMatchObject({ listed: 4, stored: 4, lastEventId: later[3] });
    expect((await store.stats()).total).toBe(4);
  });

  it('filters by type, and lists a connected account with stripeAccount', async () => {
    const acct = await h.api('POST', '/v1/accounts', { type: 'custom' });
    expect(acct.status).toBe(200);
    const account = acct.body.id as string;
    await publishMany(2, 'customer.created');
    const wanted = await publishMany(2, 'account.updated');
    const connected = [
      await publish('account.updated', { 'stripe-account': account }),
      await publish('payout.failed', { 'stripe-account': account }),
    ];

    const platform = await run({ types: ['account.*'] });
    expect(platform).toMatchObject({ listed: 2, stored: 2, lastEventId: wanted[1] });

    const theirs = await run({ stripeAccount: account });
    expect(theirs).toMatchObject({ listed: 2, stored: 2, lastEventId: connected[1] });
    expect(await store.get(connected[0]!)).toMatchObject({ account, type: 'account.updated' });
  });

  it('reports what the API refused', async () => {
    await publishMany(1);
    const unknown = run({ since: { eventId: 'evt_doesNotExist' } });
    await expect(unknown).rejects.toBeInstanceOf(CatchUpError);
    await expect(unknown).rejects.toMatchObject({ status: 400, code: 'resource_missing' });
    await expect(run({ apiKey: 'sk_test_wrongKey123' })).rejects.toMatchObject({ status: 401 });
    await expect(run({ pageSize: 0 })).rejects.toThrow(/pageSize/);
    await expect(run({ types: [] })).rejects.toThrow(/types/);
  });
});
