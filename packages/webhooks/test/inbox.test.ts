// The inbox on a real SQLite file and a real PostgreSQL (a schema per test),
// plus what does not depend on the store: options, the worker, the default key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import {
  type ConnectEvent,
  createInbox,
  createPostgresInbox,
  createSqliteInbox,
  createWebhookRouter,
  defaultOrderingKey,
  type InboxStore,
} from '../src/index.js';
import {
  accountUpdated,
  balanceAvailable,
  describeInboxConformance,
  manualClock,
} from './inboxConformance.js';

const PG_URL = process.env['SWITCHBOARD_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const randomName = () => Math.random().toString(36).slice(2, 12);

describeInboxConformance('SQLite (better-sqlite3 file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbinbox-'));
  const db = new Database(join(dir, 'inbox.db'));
  db.pragma('journal_mode = WAL');
  const store = createSqliteInbox(db);
  await store.migrate();
  return {
    store,
    async withPrefix(prefix) {
      const other = createSqliteInbox(db, { tablePrefix: prefix });
      await other.migrate();
      return other;
    },
    async cleanup(failed) {
      db.close();
      if (failed) console.error(`Kept the inbox database of the failed test: ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeInboxConformance('PostgreSQL (pg Pool)', async () => {
  const schema = `sbinbox_${randomName()}`;
  const pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
  const store = createPostgresInbox(pool, { schema });
  await store.migrate();
  return {
    store,
    async withPrefix(prefix) {
      const other = createPostgresInbox(pool, { schema, tablePrefix: prefix });
      await other.migrate();
      return other;
    },
    async cleanup(failed) {
      try {
        if (failed) console.error(`Kept schema ${schema} of the failed test in ${PG_URL}`);
        else await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await pool.end();
      }
    },
  };
});

describe('SQLite and PostgreSQL stores: setup', () => {
  it('refuse table prefixes and schemas that are not plain names', () => {
    const db = new Database(':memory:');
    expect(() => createSqliteInbox(db, { tablePrefix: 'x; DROP TABLE y' })).toThrow(/tablePrefix/);
    expect(() => createSqliteInbox({} as never)).toThrow(/better-sqlite3/);
    const pool = new pg.Pool({ connectionString: PG_URL });
    expect(() => createPostgresInbox(pool, { schema: 'a"b' })).toThrow(/schema/);
    expect(() => createPostgresInbox(pool, { schema: '' })).toThrow(/schema/);
    expect(() => createPostgresInbox({} as never)).toThrow(/pg Pool/);
    db.close();
    return pool.end();
  });

  it('PostgreSQL: concurrent migrations of one schema do not collide', async () => {
    const schema = `sbinbox_${randomName()}`;
    const pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
    let ok = false;
    try {
      await Promise.all([1, 2, 3].map(() => createPostgresInbox(pool, { schema }).migrate()));
      const store = createPostgresInbox(pool, { schema });
      expect(await store.receive('{}', accountUpdated(1, { id: 'evt_m' }), 1)).toEqual({ duplicate: false });
      ok = true;
    } finally {
      if (ok) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  });

  it('PostgreSQL: a failed transaction rolls back and returns its client to the pool', async () => {
    const schema = `sbinbox_${randomName()}`;
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    let ok = false;
    try {
      const store = createPostgresInbox(pool, { schema });
      await store.migrate();
      await store.receive('{}', accountUpdated(1, { id: 'evt_r' }), 1);
      await store.claim(1, 10, 1000);
      await pool.query(`DROP TABLE "${schema}"."webhook_inbox_watermarks"`);
      const mark = { key: 'k', created: 1, eventId: 'evt_r' };
      await expect(store.complete('evt_r', { status: 'done', now: 2, watermark: mark })).rejects.toThrow();
      // Rolled back: still processing. And the single client is usable again.
      expect((await store.get('evt_r'))?.status).toBe('processing');
      ok = true;
    } finally {
      if (ok) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  });
});

describe('createInbox', () => {
  const db = new Database(':memory:');
  const store = createSqliteInbox(db, { tablePrefix: `t${randomName()}_` });
  const handler = () => {};

  it('checks its options when created', () => {
    const router = createWebhookRouter({ livemode: 'both' });
    expect(() => createInbox(undefined as never)).toThrow(/options/);
    expect(() => createInbox({ store: {} as InboxStore, handler })).toThrow(/InboxStore/);
    expect(() => createInbox({ store })).toThrow(/exactly one of router or handler/);
    expect(() => createInbox({ store, handler, router })).toThrow(/exactly one/);
    expect(() => createInbox({ store, router: {} as never })).toThrow(/createWebhookRouter/);
    expect(() => createInbox({ store, handler, retry: { delaysMs: [-1] } })).toThrow(/delaysMs/);
    expect(() => createInbox({ store, handler, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => createInbox({ store, handler, leaseMs: Number.NaN })).toThrow(/leaseMs/);
    expect(() => createInbox({ store, handler, orderingKey: 'id' as never })).toThrow(/orderingKey/);
    expect(() => createInbox({ store, handler, onTie: 1 as never })).toThrow(/onTie/);
  });

  it('accept() refuses what is not an event', async () => {
    const inbox = createInbox({ store, handler });
    await expect(inbox.accept('{}', {} as never)).rejects.toThrow(/string id and type/);
    await expect(inbox.accept('{}', { ...accountUpdated(1), created: '1' } as never)).rejects.toThrow(
      TypeError,
    );
  });

  it('reports handler failures to onError with the status reached', async () => {
    await store.migrate();
    const onError = vi.fn();
    const clock = manualClock();
    const inbox = createInbox({
      store,
      clock,
      onError,
      retry: { delaysMs: [10] },
      handler: () => Promise.reject(new Error('boom')),
    });
    await inbox.accept('{}', balanceAvailable(1, 'evt_err'));
    // The stored body is what runs; '{}' is not an event, so this one is dead at once.
    expect(await inbox.runOnce()).toMatchObject({ dead: 1 });
    const event = balanceAvailable(2, 'evt_err2');
    await inbox.accept(JSON.stringify(event), event);
    await inbox.runOnce();
    expect(onError).toHaveBeenLastCalledWith(expect.any(Error), {
      phase: 'handler',
      eventId: 'evt_err2',
      status: 'failed',
    });
    clock.advance(10);
    await inbox.runOnce();
    expect(onError).toHaveBeenLastCalledWith(expect.any(Error), {
      phase: 'handler',
      eventId: 'evt_err2',
      status: 'dead',
    });
  });

  it('start() runs a worker that picks up accepted events; stop() ends it', async () => {
    await store.migrate();
    const handled: string[] = [];
    let wake!: () => void;
    let next = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const inbox = createInbox({
      store,
      pollIntervalMs: 60_000,
      handler: (event: ConnectEvent) => {
        handled.push(event.id);
        wake();
      },
    });
    inbox.start();
    inbox.start(); // a second start is harmless
    for (const id of ['evt_s1', 'evt_s2']) {
      const event = balanceAvailable(1, id);
      // accept() wakes the worker: no waiting for the 60 s poll.
      await inbox.accept(JSON.stringify(event), event);
      await next;
      next = new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    await inbox.stop();
    expect(handled).toEqual(['evt_s1', 'evt_s2']);
    expect(await store.get('evt_s2')).toMatchObject({ status: 'done' });
  });
});

describe('defaultOrderingKey', () => {
  it('is account:object:id, or null without an object id', () => {
    expect(defaultOrderingKey(accountUpdated(1, { account: 'acct_1' }))).toBe('acct_1:account:acct_1');
    expect(defaultOrderingKey(balanceAvailable(1, 'evt_b'))).toBeNull();
    const { account: _omit, ...platform } = accountUpdated(1, { account: 'acct_1' });
    expect(defaultOrderingKey(platform)).toBe(':account:acct_1');
    expect(
      defaultOrderingKey({
        ...platform,
        data: { object: { id: 'po_1', object: 'payout' } },
        account: 'acct_2',
      }),
    ).toBe('acct_2:payout:po_1');
  });
});
