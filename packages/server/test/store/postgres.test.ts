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
  result,
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

  it('a key revoked or an endpoint changed on one node is dropped from the caches of the others', async () => {
    const { stores: list } = stores(2);
    const [a, b] = list as [Store, Store];
    await a.migrate();
    const key = {
      hash: 'h'.repeat(64),
      platformId: PLATFORM.id,
      livemode: false,
      hint: 'sk_test_…0001',
      createdAt: T0,
    };
    await a.initPlatform(PLATFORM, [key]);
    // B reads both (and, once it listens, keeps them).
    await expect
      .poll(
        async () =>
          (await b.findApiKey(key.hash)) !== null &&
          (await b.listRoutableEndpoints([PLATFORM.id])).length === 0,
      )
      .toBe(true);
    await b.findApiKey(key.hash);
    await a.createEndpoint(endpoint('we_1'));
    await expect
      .poll(async () => (await b.listRoutableEndpoints([PLATFORM.id])).map((e) => e.id))
      .toEqual(['we_1']);
    await a.updateEndpoint('we_1', { status: 'disabled', disabledReason: 'test' });
    await expect.poll(async () => (await b.listRoutableEndpoints([PLATFORM.id])).length).toBe(0);
    expect(await a.deleteApiKey(key.hash)).toBe(true);
    await expect.poll(async () => b.findApiKey(key.hash)).toBeNull();
  });

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

  it('a claim reads by endpoint: its cost does not follow a backlog behind an excluded endpoint', async () => {
    // The trap this guards: with one endpoint holding nearly every row, the planner's statistics favour walking
    // the oldest-first index and filtering on the endpoint, which reads the whole backlog for any other one.
    const { schema, stores: list } = stores(1);
    const store = list[0]!;
    await store.migrate();
    await store.initPlatform(PLATFORM, []);
    for (const id of ['we_big', 'we_small']) await store.createEndpoint(endpoint(id));
    const backlog = 20_000;
    const s = pg.escapeIdentifier(schema);
    await adminPool().query(
      `INSERT INTO ${s}.events (id, account_id, livemode, type, created_unix, body)
       SELECT 'evt_' || g, $1, false, 'customer.created', 0, '{}' FROM generate_series(1, $2::int) g`,
      [PLATFORM.id, backlog],
    );
    await adminPool().query(
      `INSERT INTO ${s}.deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at)
       SELECT 'dl_' || g, 'evt_' || g, 'we_big', 'pending', 0, $1::bigint + g, $1 FROM generate_series(1, $2::int) g`,
      [T0, backlog],
    );
    await store.appendEvent(event('evt_small'), [delivery('evt_small', 'we_small', T0 + backlog + 1)]);
    await adminPool().query(`ANALYZE ${s}.deliveries`);

    // The statement the store sends, run under EXPLAIN ANALYZE in the same schema.
    const { claimDue } = await import('../../src/store/postgres/claimDue.js');
    let sent: { text: string; values: unknown[] } | undefined;
    const capture = {
      query: async (q: { text: string; values: unknown[] }) => {
        sent = q;
        return { rows: [] };
      },
    } as unknown as Parameters<typeof claimDue>[0];
    const now = T0 + backlog + 10;
    const client = await adminPool().connect();
    try {
      await client.query(`SET search_path TO ${s}`);
      for (const shallow of [false, true]) {
        await claimDue(capture, claimOptions({ now, excludeEndpointIds: ['we_big'], shallow }));
        const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sent!.text}`, sent!.values);
        let read = 0;
        const walk = (node: Record<string, unknown>) => {
          if (node['Relation Name'] === 'deliveries')
            read += Number(node['Actual Rows'] ?? 0) + Number(node['Rows Removed by Filter'] ?? 0);
          for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
        };
        walk((rows[0]['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
        // A few rows: the window's (shallow) and the one delivery of we_small, not the 20,000 of we_big.
        expect(read, shallow ? 'shallow' : 'deep').toBeLessThan(1_000);
      }
    } finally {
      client.release();
    }
    // The deep claim run under EXPLAIN ANALYZE took we_small's delivery; once its lease is over, a claim finds it.
    const later = now + 24 * 60 * 60 * 1000;
    const claimed = await store.claimDue(claimOptions({ now: later, excludeEndpointIds: ['we_big'] }));
    expect(claimed.map((c) => c.eventId)).toEqual(['evt_small']);
  });

  it('maintain() vacuums the deliveries table after enough churn when autovacuum is off', async () => {
    const schema = newSchema();
    const store = createPostgresStore({ connectionString: URL_, schema, poolSize: 2, vacuumAfterRows: 20 });
    onTestFinished(async ({ task }) => {
      await store.close();
      await dropSchema(schema, task.result?.state === 'fail');
    });
    await store.migrate();
    await store.initPlatform(PLATFORM, []);
    await store.createEndpoint(endpoint('we_1'));
    for (let i = 0; i < 15; i++) await store.appendEvent(event(`evt_${i}`), [delivery(`evt_${i}`, 'we_1')]);
    const claimed = await store.claimDue(claimOptions());
    expect(claimed).toHaveLength(15);
    // 15 rows rewritten: below the threshold.
    expect(await store.maintain()).toEqual({ vacuumed: false, churned: 0 });
    await store.recordAttempts(claimed.map((c) => result(c.eventId, 'we_1', { kind: 'delivered' })));
    const { rows } = await adminPool().query("SELECT current_setting('autovacuum') = 'on' AS on");
    const autovacuum = rows[0].on as boolean;
    // 30 rewritten: the store vacuums only when the server would not.
    expect(await store.maintain()).toEqual({ vacuumed: !autovacuum, churned: 30 });
    expect(await store.maintain()).toEqual({ vacuumed: false, churned: 0 });
    if (!autovacuum) {
      const stats = `SELECT vacuum_count FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'deliveries'`;
      await expect
        .poll(async () => Number((await adminPool().query(stats, [schema])).rows[0]?.vacuum_count ?? 0), {
          timeout: 5000,
        })
        .toBeGreaterThanOrEqual(1);
    }
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
