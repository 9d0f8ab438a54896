/**
 * Database trouble: the PostgreSQL under a server crashes (immediate stop)
 * while events are being published and delivered, stays down for a while,
 * then comes back. The server must not die with it, must answer 503 (never a
 * false 200) while it is gone, and must recover on its own: every event it
 * acknowledged is delivered.
 *
 * The database is a private cluster made for this test, on a port of its own,
 * so that the shared PostgreSQL other tests use is never disturbed.
 */

import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../../server/test/helpers/receiver.js';
import { freePort, startServerProcess } from '../helpers/server.js';
import { type Spawned, until } from '../helpers/spawn.js';

const run = promisify(execFile);
const KEY = 'sk_test_dbTroubleKey000000001';
const PG_BIN = '/usr/lib/postgresql/15/bin';

/** The numeric uid and gid of `user`, or null when there is no such user. */
async function idsOf(user: string): Promise<{ uid: number; gid: number } | null> {
  try {
    const uid = Number((await run('id', ['-u', user])).stdout.trim());
    const gid = Number((await run('id', ['-g', user])).stdout.trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

/** Why this machine cannot run a private cluster, or null when it can. */
async function whyNoCluster(): Promise<string | null> {
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'pg_ctl'))) {
    return `PostgreSQL 15 server binaries not found in ${PG_BIN} (initdb, pg_ctl)`;
  }
  // initdb refuses to run as root: then the cluster belongs to the postgres user.
  if (userInfo().uid === 0 && !(await idsOf('postgres'))) {
    return 'running as root and there is no postgres user to own a cluster';
  }
  return null;
}

/** A throwaway PostgreSQL cluster in its own directory, listening on 127.0.0.1:`port`. */
interface Cluster {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  /** `pg_ctl -m immediate stop`: the server processes are killed, as in a crash. */
  crash(): Promise<void>;
  /** Stop it (if running) and, unless `keep`, remove its directory. */
  destroy(keep: boolean): Promise<void>;
}

async function createCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-pg-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const ids = (await idsOf('postgres'))!;
    chownSync(dir, ids.uid, ids.gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  // As root, every command runs as the cluster's owner; the cwd must be one it can enter.
  const pgTool = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(PG_BIN, tool), ...args], { cwd: dir })
      : run(join(PG_BIN, tool), args, { cwd: dir });
  const ctl = (args: string[]) => pgTool('pg_ctl', ['-D', data, ...args]);
  try {
    await pgTool('initdb', [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      // The socket goes in the test's directory, not in /var/run/postgresql where the shared server's is.
      await ctl([
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
        '-l',
        join(dir, 'postgres.log'),
        '-w',
        '-t',
        '30',
        'start',
      ]);
    },
    async crash() {
      await ctl(['-m', 'immediate', '-w', 'stop']);
    },
    async destroy(keep) {
      // A postmaster.pid means a server may be running, even after a start that failed or timed out.
      if (existsSync(join(data, 'postmaster.pid')))
        await ctl(['-m', 'immediate', '-w', 'stop']).catch(() => {});
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One publish as the client saw it. */
interface Answer {
  startedAt: number;
  endedAt: number;
  /** `null` when the request itself failed (the server was not there to answer). */
  status: number | null;
  code: string | null;
  id: string | null;
}

async function publish(base: string, n: number): Promise<Answer> {
  const startedAt = Date.now();
  try {
    const res = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'customer.created', data: { object: { id: `cus_${n}`, n } } }),
    });
    const body = (await res.json()) as { id?: string; error?: { code?: string } };
    return {
      startedAt,
      endedAt: Date.now(),
      status: res.status,
      code: body.error?.code ?? null,
      id: res.status === 200 ? (body.id ?? null) : null,
    };
  } catch {
    return { startedAt, endedAt: Date.now(), status: null, code: null, id: null };
  }
}

async function healthz(base: string): Promise<number | null> {
  try {
    return (await fetch(`${base}/healthz`)).status;
  } catch {
    return null;
  }
}

/**
 * `until` with a name for the failure message, failing at once (with the
 * server's last words) if the server process has died meanwhile.
 */
function waitFor(
  server: Spawned,
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs?: number,
  intervalMs?: number,
): Promise<void> {
  return until(
    () => {
      const { exitCode, signalCode } = server.proc;
      if (exitCode !== null || signalCode !== null) {
        throw new Error(
          `the server exited (${exitCode ?? signalCode}) while waiting for ${what}; stderr ends:\n${server.stderr().slice(-2000)}`,
        );
      }
      return predicate();
    },
    timeoutMs,
    intervalMs,
  ).catch((error: Error) => {
    throw error.message.startsWith('the server exited') ? error : new Error(`${what}: ${error.message}`);
  });
}

describe('faults: PostgreSQL restarted under load', () => {
  let cluster: Cluster | null = null;
  let server: Spawned | null = null;
  let rx: Receiver | null = null;
  let locker: pg.Client | null = null;
  afterEach(async (ctx) => {
    // Read here, not in onTestFailed: those callbacks run after afterEach, when all is gone.
    const failed = ctx.task.result?.state === 'fail';
    // The server's log goes next to the cluster's, in the directory kept for a look.
    if (failed && server && cluster) writeFileSync(join(cluster.dir, 'server.log'), server.stderr());
    await server?.kill('SIGKILL');
    server = null;
    await locker?.end().catch(() => {});
    locker = null;
    await rx?.close();
    rx = null;
    // A failed run keeps the cluster's directory (data and postgres.log) for a look.
    await cluster?.destroy(failed);
    if (failed && cluster) console.info(`kept the cluster directory ${cluster.dir}`);
    cluster = null;
  });

  it('answers 503 while the database is down, recovers by itself, and delivers every acknowledged event', async (ctx) => {
    const reason = await whyNoCluster();
    if (reason) ctx.skip(reason);

    cluster = await createCluster();
    await cluster.start();
    rx = await startReceiver();
    const started = await startServerProcess({ database: cluster.url, key: KEY });
    server = started.proc;
    const base = started.url;
    const ep = await fetch(`${base}/v1/webhook_endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${rx.url}/hook`, enabled_events: ['*'] }),
    });
    expect(ep.status).toBe(200);

    // Steady load: a few publishers, each sending its next event as soon as the last is answered.
    const answers: Answer[] = [];
    let publishing = true;
    let n = 0;
    const publishers = Array.from({ length: 3 }, async () => {
      while (publishing) {
        answers.push(await publish(base, n++));
        // A short pause so that fast 503s do not turn the loop into a busy spin.
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    // A transaction in flight when the database dies: an endpoint update (a transaction on one pooled
    // connection, unlike a publish) held up by a row lock the test takes on that endpoint.
    const update = (id: string, description: string) =>
      fetch(`${base}/v1/webhook_endpoints/${id}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ description }),
      }).then(
        async (res) => ({
          status: res.status,
          code: ((await res.json()) as { error?: { code?: string } }).error?.code,
        }),
        () => ({ status: null, code: undefined }),
      );
    const otherId = await (async () => {
      const res = await fetch(`${base}/v1/webhook_endpoints`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${rx.url}/other`, enabled_events: ['payout.failed'] }),
      });
      return ((await res.json()) as { id: string }).id;
    })();
    const ok = () => answers.filter((a) => a.status === 200);

    // Under way: events acknowledged and deliveries flowing.
    await waitFor(
      server,
      'publishes and deliveries under way',
      () => ok().length >= 150 && rx!.requests.length >= 50,
    );
    locker = new pg.Client({ connectionString: cluster.url });
    // Its connection dies with the database, as intended.
    locker.on('error', () => {});
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR UPDATE', [otherId]);
    const blockedUpdate = update(otherId, 'blocked');
    await waitFor(server, 'the update to wait on the lock', async () => {
      // The locker is inside a transaction, where statistics views keep their first snapshot: clear it, or a
      // check made before the update arrived would repeat forever.
      await locker!.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await locker!.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`,
      );
      return rows[0]!.n >= 1;
    });

    await cluster.crash();
    const downFrom = Date.now();
    // While it is down, /healthz says so and publishes are refused with 503.
    const healthWhileDown: Array<number | null> = [];
    await waitFor(
      server,
      'publishes and health checks during the outage',
      async () => {
        healthWhileDown.push(await healthz(base));
        return answers.filter((a) => a.startedAt >= downFrom).length >= 60 && healthWhileDown.length >= 10;
      },
      20_000,
      200,
    );
    const downUntil = Date.now();
    await cluster.start();
    const restartedAt = Date.now();

    // Back by itself: the pool reconnects, no restart of the server.
    await waitFor(
      server,
      '/healthz to answer 200 again',
      async () => (await healthz(base)) === 200,
      20_000,
      50,
    );
    const healthyAt = Date.now();
    await waitFor(
      server,
      'publishes to succeed again',
      () => answers.filter((a) => a.status === 200 && a.startedAt >= healthyAt).length >= 100,
    );
    publishing = false;
    await Promise.all(publishers);

    // The process lived through it and answered every request.
    expect(server.proc.exitCode).toBeNull();
    expect(answers.filter((a) => a.status === null)).toEqual([]);
    // The transaction cut by the crash failed as the database being unavailable, and updates work again.
    expect(await blockedUpdate).toEqual({ status: 503, code: 'database_unavailable' });
    expect((await update(otherId, 'after the restart')).status).toBe(200);

    // Entirely within the outage: every publish refused with database_unavailable, never a 200.
    const duringOutage = answers.filter((a) => a.startedAt >= downFrom && a.endedAt <= downUntil);
    expect(duringOutage.length).toBeGreaterThan(0);
    expect(new Set(duringOutage.map((a) => `${a.status} ${a.code}`))).toEqual(
      new Set(['503 database_unavailable']),
    );
    expect(healthWhileDown.every((s) => s === 503)).toBe(true);
    // Around the crash and the restart, a publish is either stored (200) or refused with 503.
    const statuses = new Map<string, number>();
    for (const a of answers) {
      const k = `${a.status}${a.code ? ` ${a.code}` : ''}`;
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
    }
    expect([...statuses.keys()].sort()).toEqual(['200', '503 database_unavailable']);

    // Every acknowledged event reaches the receiver, including those whose deliveries were cut by the crash.
    const acknowledged = ok().map((a) => a.id!);
    const delivered = () => new Set(rx!.requests.map((r) => JSON.parse(r.body.toString()).id as string));
    await waitFor(
      server,
      'every acknowledged event to be delivered',
      () => {
        const seen = delivered();
        return acknowledged.every((id) => seen.has(id));
      },
      30_000,
      50,
    );
    const deliveredAt = Date.now();
    // And the server knows it: the attempts made while it could not record them were recorded afterwards.
    await waitFor(
      server,
      'no event to be owed a delivery',
      async () => {
        const res = await fetch(`${base}/v1/events?delivery_success=false&limit=1`, {
          headers: { authorization: `Bearer ${KEY}` },
        });
        return res.status === 200 && ((await res.json()) as { data: unknown[] }).data.length === 0;
      },
      20_000,
      100,
    );
    const duplicates = rx.requests.length - delivered().size;
    console.info(
      `database trouble: ${answers.length} publishes (${[...statuses].map(([k, v]) => `${v}× ${k}`).join(', ')}); ` +
        `down ${downUntil - downFrom} ms, healthy ${healthyAt - restartedAt} ms after the restart; ` +
        `${acknowledged.length} acknowledged, all delivered ${deliveredAt - healthyAt} ms after recovery, ` +
        `${duplicates} duplicate deliveries`,
    );
  });
});
