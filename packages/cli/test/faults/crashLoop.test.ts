/**
 * Crash loop and node loss: servers killed with SIGKILL at random moments
 * while events are published. Every acknowledged event is delivered at least
 * once; duplicates stay within what was in flight when a process died.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { randomToken } from '../../../server/src/ids.js';
import { type Receiver, startReceiver } from '../../../server/test/helpers/receiver.js';
import { dropSchema, PG_URL } from '../../../server/test/helpers/switchboard.js';
import { freePort, startServerProcess } from '../helpers/server.js';
import { type Spawned, until } from '../helpers/spawn.js';

const KEY = 'sk_test_faultTestKey00000001';
/** The delivery engine's default bound on deliveries in flight per node. */
const MAX_IN_FLIGHT = 256;

async function startServer(database: string, port: number, timeoutMs = 1000): Promise<Spawned> {
  return (
    await startServerProcess({
      database,
      key: KEY,
      port,
      timeoutMs,
      retrySchedule: Array(30).fill('200ms').join(','),
    })
  ).proc;
}

async function publish(port: number, n: number): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'customer.created', data: { object: { n } } }),
    });
    if (res.status !== 200) return null;
    return ((await res.json()) as { id: string }).id;
  } catch {
    return null; // the server is down: not acknowledged, so not owed
  }
}

/** A seeded generator, so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function countIds(rx: Receiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rx.requests) {
    const id = JSON.parse(r.body.toString()).id as string;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('faults: processes killed under load', () => {
  const procs: Spawned[] = [];
  const cleanups: Array<(failed: boolean) => Promise<void> | void> = [];
  let rx: Receiver | null = null;
  let failed = false;
  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    for (const p of procs.splice(0)) await p.kill('SIGKILL');
    await rx?.close();
    for (const c of cleanups.splice(0)) await c(failed);
  });

  it('crash loop on SQLite: every acknowledged event is delivered, duplicates bounded', async () => {
    failed = false;
    onTestFailed(() => {
      failed = true;
    });
    const seed = Number(process.env['SWITCHBOARD_FAULT_SEED'] ?? 20261128);
    const random = seeded(seed);
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-crashloop-'));
    cleanups.push((f) => {
      if (!f) rmSync(dir, { recursive: true, force: true });
    });
    const database = `sqlite:${join(dir, 'sb.db')}`;
    const port = await freePort();
    rx = await startReceiver();
    let server = await startServer(database, port);
    procs.push(server);
    const ep = await fetch(`http://127.0.0.1:${port}/v1/webhook_endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${rx.url}/hook`, enabled_events: ['*'] }),
    });
    expect(ep.status).toBe(200);

    const acknowledged: string[] = [];
    let publishing = true;
    let n = 0;
    const publishers = Array.from({ length: 4 }, async () => {
      while (publishing) {
        const id = await publish(port, n++);
        if (id) acknowledged.push(id);
        else await new Promise((r) => setTimeout(r, 20));
      }
    });

    const kills = 3;
    for (let k = 0; k < kills; k++) {
      // Let some work accumulate, then kill at a random moment.
      const target = acknowledged.length + 50 + Math.floor(random() * 150);
      await until(() => acknowledged.length >= target, 20_000, 5);
      await server.kill('SIGKILL');
      server = await startServer(database, port);
      procs.push(server);
    }
    publishing = false;
    await Promise.all(publishers);

    await until(
      () => {
        const seen = countIds(rx!);
        return acknowledged.every((id) => seen.has(id));
      },
      40_000,
      50,
    );
    const counts = countIds(rx);
    const duplicates = [...counts.values()].reduce((sum, c) => sum + c - 1, 0);
    console.info(
      `crash loop (seed ${seed}): ${acknowledged.length} acknowledged, ${counts.size} delivered, ${duplicates} duplicate deliveries over ${kills} kills`,
    );
    expect(duplicates).toBeLessThanOrEqual(kills * MAX_IN_FLIGHT);
  });

  it('two nodes on PostgreSQL: one dies mid-run, the other finishes its claimed work after the lease', async () => {
    failed = false;
    onTestFailed(() => {
      failed = true;
    });
    const schema = `sb_fault_${randomToken(8).toLowerCase()}`;
    cleanups.push(async (f) => {
      if (!f) await dropSchema(schema);
    });
    const database = `${PG_URL}?schema=${schema}`;
    // The receiver holds every request until released, so both nodes have deliveries in flight when A dies.
    let holding = true;
    const held: Array<import('node:http').ServerResponse> = [];
    rx = await startReceiver((_req, res) => {
      if (holding) held.push(res);
      else res.end('ok');
    });
    const [portA, portB] = [await freePort(), await freePort()];
    // A timeout longer than the hold below, so no attempt times out: what B sends twice is A's work only.
    const a = await startServer(database, portA, 3000);
    procs.push(a);
    const b = await startServer(database, portB, 3000);
    procs.push(b);
    const ep = await fetch(`http://127.0.0.1:${portA}/v1/webhook_endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${rx.url}/hook`, enabled_events: ['*'] }),
    });
    expect(ep.status).toBe(200);
    const acknowledged: string[] = [];
    for (let i = 0; i < 300; i++) {
      const id = await publish(i % 2 === 0 ? portA : portB, i);
      expect(id).not.toBeNull();
      acknowledged.push(id!);
    }
    // Both nodes with deliveries in flight.
    await until(() => held.length >= 16, 20_000, 5);
    await a.kill('SIGKILL');
    holding = false;
    for (const res of held) res.end('ok');
    // A's own requests reached the receiver before it died, but A never recorded them: B must redo them after
    // A's leases (2 × timeout + 5 s) run out, and then nothing is owed.
    await until(
      async () => {
        const res = await fetch(`http://127.0.0.1:${portB}/v1/events?delivery_success=false&limit=1`, {
          headers: { authorization: `Bearer ${KEY}` },
        });
        return ((await res.json()) as { data: unknown[] }).data.length === 0;
      },
      40_000,
      100,
    );
    const counts = countIds(rx);
    const duplicates = [...counts.values()].reduce((sum, c) => sum + c - 1, 0);
    console.info(
      `two nodes: 300 acknowledged, ${counts.size} delivered, ${duplicates} duplicates after killing one node`,
    );
    expect(counts.size).toBe(300);
    // What A had in flight was taken over by B once A's leases ran out: sent twice, never lost.
    expect(duplicates).toBeGreaterThan(0);
    expect(duplicates).toBeLessThanOrEqual(MAX_IN_FLIGHT);
  });
});
