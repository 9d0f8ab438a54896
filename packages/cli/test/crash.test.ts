/**
 * Durability: a server killed with SIGKILL while deliveries are pending loses
 * nothing it acknowledged. The restarted server delivers every event.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { randomToken } from '../../server/src/ids.js';
import { type Receiver, startReceiver } from '../../server/test/helpers/receiver.js';
import { dropSchema, PG_URL } from '../../server/test/helpers/switchboard.js';
import { apiCall, freePort, startServerProcess } from './helpers/server.js';
import { type Spawned, spawnCli, until } from './helpers/spawn.js';

const KEY = 'sk_test_crashTestKey000000001';

const startServer = async (database: string) => {
  const { proc, url } = await startServerProcess({
    database,
    key: KEY,
    retrySchedule: `100ms,${Array(19).fill('300ms').join(',')}`,
  });
  return { s: proc, url };
};
const api = (url: string, method: string, path: string, body?: unknown) =>
  apiCall(url, KEY, method, path, body);

/** A database for one test, and how to remove it (kept when the test failed). */
function testDatabase(engine: 'sqlite' | 'postgres'): {
  database: string;
  cleanup: (failed: boolean) => Promise<void>;
} {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-crash-'));
    return {
      database: `sqlite:${join(dir, 'sb.db')}`,
      cleanup: async (f) => {
        if (!f) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `sb_crash_${randomToken(8).toLowerCase()}`;
  return {
    database: `${PG_URL}?schema=${schema}`,
    cleanup: async (f) => {
      if (!f) await dropSchema(schema);
    },
  };
}

describe.each(['sqlite', 'postgres'] as const)('SIGKILL with deliveries pending (%s)', (engine) => {
  let rx: Receiver;
  const procs: Spawned[] = [];
  let cleanup: (failed: boolean) => Promise<void> = async () => {};
  let failed = false;

  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    for (const p of procs.splice(0)) await p.kill('SIGKILL');
    await rx?.close();
    await cleanup(failed);
  });

  it('delivers every acknowledged event after a restart', async () => {
    failed = false;
    onTestFailed(() => {
      failed = true;
    });
    const db = testDatabase(engine);
    const database = db.database;
    cleanup = db.cleanup;

    rx = await startReceiver((_req, res) => {
      res.writeHead(503);
      res.end('down');
    });
    const first = await startServer(database);
    procs.push(first.s);
    const ep = await api(first.url, 'POST', '/v1/webhook_endpoints', {
      url: `${rx.url}/hook`,
      enabled_events: ['*'],
    });
    expect(ep.status).toBe(200);

    const acknowledged: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await api(first.url, 'POST', '/v1/events', {
        type: 'customer.created',
        data: { object: { id: `cus_${i}` } },
      });
      expect(res.status).toBe(200);
      acknowledged.push(res.body.id);
    }
    // Some attempts have failed and are waiting for their retry when the process dies.
    await until(() => rx.requests.length >= 5);
    expect(await first.s.kill('SIGKILL')).toBeNull();

    rx.respond((_req, res) => res.end('ok'));
    const second = await startServer(database);
    procs.push(second.s);
    const delivered = () => new Set(rx.requests.map((r) => JSON.parse(r.body.toString()).id as string));
    await until(() => acknowledged.every((id) => delivered().has(id)), 30_000, 50);
    // And the server knows it: nothing is owed any more.
    await until(
      async () => (await api(second.url, 'GET', '/v1/events?delivery_success=false')).body.data.length === 0,
      10_000,
      50,
    );
  });

  it('re-sends the deliveries that were in flight within seconds of a restart, not when their leases run out', async () => {
    failed = false;
    onTestFailed(() => {
      failed = true;
    });
    const db = testDatabase(engine);
    cleanup = db.cleanup;
    // Attempts never answered while the first server runs: a 60 s timeout makes each lease over two minutes.
    let answering = false;
    rx = await startReceiver((_req, res) => {
      if (answering) res.end('ok');
    });
    const port = await freePort();
    const serve = () => startServerProcess({ database: db.database, key: KEY, port, timeoutMs: 60_000 });
    const first = await serve();
    procs.push(first.proc);
    await api(first.url, 'POST', '/v1/webhook_endpoints', { url: `${rx.url}/hook`, enabled_events: ['*'] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await api(first.url, 'POST', '/v1/events', { type: 'customer.created', data: { object: {} } })).body
          .id,
      );
    }
    await until(() => rx.requests.length >= ids.length);
    expect(await first.proc.kill('SIGKILL')).toBeNull();
    answering = true;

    const restartedAt = Date.now();
    const second = await serve();
    procs.push(second.proc);
    // A delivery waiting for its lease would come back in two minutes, past this test's own time.
    const times = (id: string) => rx.requests.filter((r) => JSON.parse(r.body.toString()).id === id).length;
    await until(() => ids.every((id) => times(id) >= 2), 20_000, 20);
    console.info(
      `recovery (${engine}): ${ids.length} in-flight deliveries re-sent ${Date.now() - restartedAt} ms after the restart began`,
    );
    expect(second.proc.stderr()).toMatch(/in-flight deliveries of the previous run are due again/);
  }, 60_000);
});

describe('one server owns a SQLite database', () => {
  it('a second server on the same file is refused at once, with one clear line', async () => {
    const db = testDatabase('sqlite');
    const first = await startServerProcess({ database: db.database, key: KEY });
    try {
      const second = spawnCli(['serve', '--port', '0', '--database', db.database, '--test-key', KEY]);
      expect(await second.exited).not.toBe(0);
      expect(second.stderr().trim().split('\n')).toEqual([
        `switchboard: Another Switchboard server is using ${db.database.slice('sqlite:'.length)}: one server owns a SQLite database (several servers share a PostgreSQL one).`,
      ]);
      // The first is unharmed.
      expect((await api(first.url, 'GET', '/v1/events')).status).toBe(200);
    } finally {
      await first.proc.kill('SIGKILL');
      await db.cleanup(false);
    }
  });
});

describe('several nodes on PostgreSQL', () => {
  const procs: Spawned[] = [];
  let rx: Receiver | null = null;
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill('SIGKILL');
    await rx?.close();
  });

  it("a surviving node re-sends a dead node's in-flight deliveries after the liveness timeout, not its leases", async () => {
    const db = testDatabase('postgres');
    let answering = false;
    rx = await startReceiver((_req, res) => {
      if (answering) res.end('ok');
    });
    try {
      // A 60 s timeout makes each lease over two minutes; the liveness timeout is 10 s.
      const a = await startServerProcess({
        database: db.database,
        key: KEY,
        port: await freePort(),
        timeoutMs: 60_000,
      });
      procs.push(a.proc);
      await api(a.url, 'POST', '/v1/webhook_endpoints', { url: `${rx.url}/hook`, enabled_events: ['*'] });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(
          (await api(a.url, 'POST', '/v1/events', { type: 'customer.created', data: { object: {} } })).body
            .id,
        );
      }
      await until(() => rx!.requests.length >= ids.length);
      const b = await startServerProcess({
        database: db.database,
        key: KEY,
        port: await freePort(),
        timeoutMs: 60_000,
      });
      procs.push(b.proc);
      expect(await a.proc.kill('SIGKILL')).toBeNull();
      answering = true;
      const killedAt = Date.now();
      const times = (id: string) =>
        rx!.requests.filter((r) => JSON.parse(r.body.toString()).id === id).length;
      await until(() => ids.every((id) => times(id) >= 2), 45_000, 50);
      console.info(
        `node loss (postgres): ${ids.length} in-flight deliveries re-sent by the survivor ${Date.now() - killedAt} ms after the kill`,
      );
      expect(b.proc.stderr()).toMatch(/nodes went silent/);
    } finally {
      await db.cleanup(false);
    }
  }, 90_000);
});
