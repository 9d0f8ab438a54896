import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createPostgresStore, openStore, type Store } from '../../src/store/index.js';
import {
  claimOptions,
  delivery,
  describeStoreConformance,
  endpoint,
  event,
  PLATFORM,
  T0,
} from './conformance.js';

const URL_ = process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let admin: pg.Pool | undefined;
const adminPool = () => {
  admin ??= new pg.Pool({ connectionString: URL_, max: 2 });
  return admin;
};

afterAll(async () => {
  await admin?.end();
});

const newSchema = () => `sb_test_${randomBytes(6).toString('hex')}`;

/** Drop the schema after a passing test; keep it to look at after a failure. */
async function dropSchema(schema: string, failed: boolean): Promise<void> {
  if (failed) {
    console.warn(`Kept schema ${schema} of the failed test`);
    return;
  }
  await adminPool().query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
}

describeStoreConformance('postgres', async () => {
  const schema = newSchema();
  const store = createPostgresStore({ connectionString: URL_, schema, poolSize: 4 });
  return {
    store,
    async cleanup(failed) {
      await store.close();
      await dropSchema(schema, failed);
    },
  };
});

describe('PostgreSQL store', () => {
  /** Stores sharing one fresh schema, closed (and the schema dropped) when the test ends. */
  function stores(n: number): { schema: string; stores: Store[] } {
    const schema = newSchema();
    const list = Array.from({ length: n }, () =>
      createPostgresStore({ connectionString: URL_, schema, poolSize: 4 }),
    );
    onTestFinished(async ({ task }) => {
      for (const s of list) await s.close();
      await dropSchema(schema, task.result?.state === 'fail');
    });
    return { schema, stores: list };
  }

  it('nodes migrating at once take turns', async () => {
    const { stores: list } = stores(3);
    await Promise.all(list.map((s) => s.migrate()));
    await Promise.all(list.map((s) => s.migrate()));
    await list[0]!.initPlatform(PLATFORM, []);
    expect(await list[2]!.getPlatform()).toEqual(PLATFORM);
  });

  it('two nodes claiming concurrently never claim the same delivery', async () => {
    const { stores: list } = stores(2);
    const [a, b] = list as [Store, Store];
    await a.migrate();
    await a.initPlatform(PLATFORM, []);
    const endpoints = ['we_1', 'we_2', 'we_3', 'we_4'];
    for (const id of endpoints) await a.createEndpoint(endpoint(id));
    const total = 200;
    for (let i = 0; i < total / endpoints.length; i++) {
      await a.appendEvent(
        event(`evt_${i}`),
        endpoints.map((w) => delivery(`evt_${i}`, w, T0 - i)),
      );
    }

    const claimedBy = new Map<string, string>();
    const duplicates: string[] = [];
    const node = async (store: Store, owner: string) => {
      for (let round = 0; round < 40; round++) {
        const claimed = await store.claimDue(claimOptions({ owner, limit: 7, perEndpointLimit: 3 }));
        for (const c of claimed) {
          if (claimedBy.has(c.id)) duplicates.push(c.id);
          claimedBy.set(c.id, owner);
        }
      }
    };
    // Several claim loops per node, on separate pool connections.
    await Promise.all([node(a, 'a'), node(a, 'a'), node(b, 'b'), node(b, 'b')]);

    expect(duplicates).toEqual([]);
    expect(claimedBy.size).toBe(total);
    expect(await a.claimDue(claimOptions({ owner: 'c' }))).toEqual([]);
  });

  it('openStore honours ?schema= and strips it from the connection string', async () => {
    const schema = newSchema();
    const url = new URL(URL_);
    url.searchParams.set('schema', schema);
    const store = openStore(url.toString());
    onTestFinished(async ({ task }) => {
      await store.close();
      await dropSchema(schema, task.result?.state === 'fail');
    });
    await store.migrate();
    await store.initPlatform(PLATFORM, []);
    const { rows } = await adminPool().query(`SELECT id FROM ${pg.escapeIdentifier(schema)}.platforms`);
    expect(rows).toEqual([{ id: PLATFORM.id }]);
  });

  it('works in a schema whose name needs quoting', async () => {
    const schema = `Sb Test "${randomBytes(4).toString('hex')}"`;
    const store = createPostgresStore({ connectionString: URL_, schema });
    onTestFinished(async ({ task }) => {
      await store.close();
      await dropSchema(schema, task.result?.state === 'fail');
    });
    await store.migrate();
    await store.initPlatform(PLATFORM, []);
    expect(await store.getPlatform()).toEqual(PLATFORM);
    const { rows } = await adminPool().query(`SELECT id FROM ${pg.escapeIdentifier(schema)}.platforms`);
    expect(rows).toHaveLength(1);
  });

  it('reports a database it cannot reach', async () => {
    const store = createPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    try {
      await expect(store.ping()).rejects.toThrow();
      await expect(store.getEvent('evt_1')).rejects.toThrow();
    } finally {
      await store.close();
    }
  });
});
