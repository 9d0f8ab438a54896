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
import { PG_URL } from '../../server/test/helpers/switchboard.js';
import { apiCall, startServerProcess } from './helpers/server.js';
import { type Spawned, until } from './helpers/spawn.js';

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
    let database: string;
    if (engine === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'switchboard-crash-'));
      database = `sqlite:${join(dir, 'sb.db')}`;
      cleanup = async (f) => {
        if (!f) rmSync(dir, { recursive: true, force: true });
      };
    } else {
      const schema = `sb_crash_${randomToken(8).toLowerCase()}`;
      database = `${PG_URL}?schema=${schema}`;
      cleanup = async (f) => {
        if (f) return;
        const pg = await import('pg');
        const c = new pg.default.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      };
    }

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
});
