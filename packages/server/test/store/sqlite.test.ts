import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createSqliteStore, openStore, type Store } from '../../src/store/index.js';
import { delivery, describeStoreConformance, endpoint, event, PLATFORM } from './conformance.js';

/** A store on a fresh database file; the folder is removed unless the test failed. */
function tempStore(): { store: Store; path: string; dir: string; cleanup(failed: boolean): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  const path = join(dir, 'switchboard.db');
  const store = createSqliteStore({ path });
  return {
    store,
    path,
    dir,
    async cleanup(failed) {
      await store.close();
      if (failed) console.warn(`Kept the database of the failed test: ${path}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeStoreConformance('sqlite', async () => tempStore());

describe('SQLite store', () => {
  function useTemp() {
    const handle = tempStore();
    onTestFinished(async ({ task }) => handle.cleanup(task.result?.state === 'fail'));
    return handle;
  }

  it('group-committed appends are durable: a connection opened after the store closed reads all of them', async () => {
    const { store, path } = useTemp();
    await store.migrate();
    await store.initPlatform(PLATFORM, []);
    await store.createEndpoint(endpoint('we_1'));
    const n = 500;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        store.appendEvent(event(`evt_${i}`), [delivery(`evt_${i}`, 'we_1')]),
      ),
    );
    // One server owns the file while it is open: the next reader comes after it.
    await store.close();
    const other = createSqliteStore({ path, synchronous: 'NORMAL' });
    try {
      const page = await other.listEvents({ accountId: PLATFORM.id, livemode: false, limit: 100 });
      expect(page.data).toHaveLength(100);
      expect(page.hasMore).toBe(true);
      expect(
        (
          await other.claimDue({
            now: Date.UTC(2026, 0, 1),
            limit: 1000,
            leaseMs: 1000,
            owner: 'n',
            perEndpointLimit: 1000,
            excludeEndpointIds: [],
          })
        ).length,
      ).toBe(n);
    } finally {
      await other.close();
    }
  });

  it('a second store on an open file is refused with in_use, and the first keeps working', async () => {
    const { store, path } = useTemp();
    await store.migrate();
    expect(() => createSqliteStore({ path })).toThrow(
      expect.objectContaining({
        code: 'in_use',
        message: expect.stringMatching(/^Another Switchboard server is using/),
      }),
    );
    await store.initPlatform(PLATFORM, []);
    expect(await store.getPlatform()).toMatchObject({ id: PLATFORM.id });
  });

  it('appends still queued when the store closes are written first', async () => {
    const { store, path } = useTemp();
    await store.migrate();
    const pending = store.appendEvent(event('evt_1'), []);
    await store.close();
    await pending;
    const reopened = createSqliteStore({ path });
    try {
      expect(await reopened.getEvent('evt_1')).not.toBeNull();
    } finally {
      await reopened.close();
    }
    await expect(store.appendEvent(event('evt_2'), [])).rejects.toThrow(/closed/);
  });

  it('ping fails once closed', async () => {
    const { store } = useTemp();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });
});

describe('openStore', () => {
  it('opens SQLite files and memory databases', async () => {
    const memory = openStore('sqlite::memory:');
    expect(memory.engine).toBe('sqlite');
    await memory.migrate();
    await memory.ping();
    await memory.close();

    const dir = mkdtempSync(join(tmpdir(), 'sb-open-'));
    try {
      for (const url of [
        `sqlite:${join(dir, 'a.db')}`,
        `sqlite://${join(dir, 'b.db')}?synchronous=NORMAL`,
        `sqlite:${join(dir, 'c.db')}?thread=main`,
        `sqlite:${join(dir, 'd.db')}?synchronous=normal&thread=worker`,
      ]) {
        const store = openStore(url);
        await store.migrate();
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens PostgreSQL URLs without connecting', async () => {
    const store = openStore('postgresql://user:secret@127.0.0.1:1/db?schema=tenant');
    expect(store.engine).toBe('postgres');
    await store.close();
  });

  it('refuses other URLs without echoing credentials', () => {
    expect(() => openStore('mysql://user:secret@host/db')).toThrow(/Unsupported store URL 'mysql:/);
    expect(() => openStore('mysql://user:secret@host/db')).not.toThrow(/secret/);
    expect(() => openStore('sqlite:')).toThrow(/needs a path/);
    expect(() => openStore('sqlite:./x.db?thread=both')).toThrow(/thread=both is not one of/);
    expect(() => openStore('./file.db')).toThrow(/Unsupported/);
  });
});
