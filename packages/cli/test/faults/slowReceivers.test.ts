/**
 * Slow and hostile receivers: one trickles its response body a byte at a
 * time forever, one answers with a 50 MB body, one accepts the connection and
 * never answers. Each holds exactly its endpoint's slots; a healthy receiver
 * next to them gets every event while they are stuck; the server's memory
 * stays bounded (nothing buffers a whole response); the attempts log keeps at
 * most 4 KB of each response body; attempts end at the timeout.
 *
 * Nothing here is judged by how long it took: stuck attempts are held for
 * longer than the test runs, so a healthy delivery that waited behind one
 * would never arrive, and the test would fail on that state.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../../server/test/helpers/receiver.js';
import { type Spawned, spawnCli, until } from '../helpers/spawn.js';

const KEY = 'sk_test_slowReceiverKey0000001';
/** The bound on deliveries in flight to one endpoint this test runs the server with. */
const PER_ENDPOINT = 8;
/** A delivery timeout longer than the test: no stuck attempt ends on its own while it runs. */
const STUCK_TIMEOUT_MS = 600_000;
/** The timeout of the run that watches attempts end at the timeout. */
const SHORT_TIMEOUT_MS = 1000;
const EVENTS = 200;
const BIG_BODY_BYTES = 50 * 1024 * 1024;
/** What the attempts log keeps of a response body. */
const MAX_LOGGED_BODY = 4096;
/**
 * Bound on the server's RSS growth over the run. Buffering the 50 MB bodies
 * (8 in flight at a time) would cost hundreds of MB; the measured growth
 * without a leak is a few tens (see the figure the test prints).
 */
const MAX_RSS_GROWTH_MB = 100;

/**
 * A receiver that notes when each request (for the silent one, each
 * connection) began and how many it is serving at once.
 */
interface Hostile {
  url: string;
  /** When each request began, in order. */
  starts: number[];
  /** Being served now. */
  active: number;
  /** The most ever served at once, as seen here: a connection the client has just dropped may still count. */
  maxActive: number;
  close(): Promise<void>;
}

function track(): Pick<Hostile, 'starts' | 'active' | 'maxActive'> & { open(): () => void } {
  const t = {
    starts: [] as number[],
    active: 0,
    maxActive: 0,
    open() {
      t.starts.push(Date.now());
      t.active++;
      t.maxActive = Math.max(t.maxActive, t.active);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        t.active--;
      };
    },
  };
  return t;
}

async function listenHttp(
  handle: (res: ServerResponse, done: () => void) => void,
): Promise<Hostile & { server: HttpServer }> {
  const t = track();
  const server = createHttpServer((req, res) => {
    const done = t.open();
    // The request is answered without waiting for its body: these receivers do not care what they got.
    req.resume();
    res.on('close', done);
    // A client that hangs up mid-body makes writes fail; that is the point here, not an error.
    res.on('error', () => {});
    handle(res, done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return Object.assign(t, {
    url: `http://127.0.0.1:${port}/hook`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** 200 at once, then the body one byte every 100 ms, never ending. */
function startTrickler(): Promise<Hostile> {
  return listenHttp((res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    const timer = setInterval(() => res.write('.'), 100);
    res.on('close', () => clearInterval(timer));
  });
}

/**
 * 200 with a 50 MB body, written as fast as the client reads it. The body
 * waits for `release()`: until then every attempt holds its slot, so the
 * slots in use can be counted.
 */
async function startHugeBody(): Promise<Hostile & { release(): void }> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let released = false;
  const waiting = new Set<() => void>();
  const hostile = await listenHttp((res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BIG_BODY_BYTES) });
    res.flushHeaders();
    let left = BIG_BODY_BYTES;
    const pump = () => {
      waiting.delete(pump);
      while (left > 0 && !res.destroyed) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      if (left === 0 && !res.destroyed) res.end();
    };
    if (released) pump();
    else {
      waiting.add(pump);
      res.on('close', () => waiting.delete(pump));
    }
  });
  return Object.assign(hostile, {
    release() {
      released = true;
      for (const pump of [...waiting]) pump();
    },
  });
}

/**
 * Accepts connections, reads the requests and never says a word. A request
 * begins when the first bytes of one arrive on a connection: the sender's
 * pool also opens connections that never carry a request (after an aborted
 * attempt it may connect again ahead of need), and those hold no slot.
 */
async function startSilent(): Promise<Hostile & { maxConnections: number }> {
  const t = Object.assign(track(), { maxConnections: 0 });
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    t.maxConnections = Math.max(t.maxConnections, sockets.size);
    let done: (() => void) | null = null;
    socket.on('error', () => {});
    // Read and drop what is sent, so the client is never held up writing the request.
    socket.on('data', () => {
      done ??= t.open();
    });
    socket.on('close', () => {
      sockets.delete(socket);
      done?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return Object.assign(t, {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

/** Resident set size of process `pid`, in bytes (Linux). */
function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as T;
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

interface AttemptShape {
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  duration_ms: number;
}

const attemptsOf = async (base: string, endpointId: string) =>
  (
    await api<{ data: AttemptShape[] }>(
      base,
      'GET',
      `/v1/webhook_endpoints/${endpointId}/delivery_attempts?limit=100`,
    )
  ).data;

describe('faults: slow and hostile receivers', () => {
  let server: Spawned | null = null;
  let dir: string | null = null;
  const closers: Array<() => Promise<void>> = [];
  let sampler: ReturnType<typeof setInterval> | null = null;

  afterEach(async (ctx) => {
    if (sampler) clearInterval(sampler);
    sampler = null;
    const failed = ctx.task.result?.state === 'fail';
    if (failed && server) console.info(`server stderr (end):\n${server.stderr().slice(-3000)}`);
    await server?.kill('SIGKILL');
    server = null;
    for (const close of closers.splice(0)) await close();
    // A failed run keeps the database for a look.
    if (dir && !failed) rmSync(dir, { recursive: true, force: true });
    else if (dir) console.info(`kept ${dir}`);
    dir = null;
  });

  async function serve(timeoutMs: number): Promise<{ base: string; pid: number }> {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-slow-'));
    server = spawnCli([
      'serve',
      '--port',
      '0',
      '--database',
      `sqlite:${join(dir, 'sb.db')}`,
      '--test-key',
      KEY,
      '--allow-private-targets',
      '--timeout',
      String(timeoutMs),
      '--retry-schedule',
      Array(20).fill('500ms').join(','),
      '--per-endpoint-concurrency',
      String(PER_ENDPOINT),
    ]);
    const base = (await server.waitForOutput(/listening on (http:\/\/\S+)/))[1]!;
    return { base, pid: server.proc.pid! };
  }

  const endpoint = async (base: string, url: string) =>
    (await api<{ id: string }>(base, 'POST', '/v1/webhook_endpoints', { url, enabled_events: ['*'] })).id;

  /** Publish `count` events, a few at a time. */
  async function publish(base: string, count: number): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < count) {
          const n = next++;
          await api(base, 'POST', '/v1/events', {
            type: 'customer.created',
            data: { object: { id: `cus_${n}`, object: 'customer' } },
          });
        }
      }),
    );
  }

  it('a healthy endpoint gets every event while the others are stuck in exactly their slots; memory stays bounded', async () => {
    const trickler = await startTrickler();
    closers.push(trickler.close);
    const huge = await startHugeBody();
    closers.push(huge.close);
    const silent = await startSilent();
    closers.push(silent.close);
    const healthy: Receiver = await startReceiver();
    closers.push(healthy.close);

    const { base, pid } = await serve(STUCK_TIMEOUT_MS);
    const ids = {
      trickler: await endpoint(base, trickler.url),
      huge: await endpoint(base, huge.url),
      silent: await endpoint(base, silent.url),
      healthy: await endpoint(base, `${healthy.url}/hook`),
    };

    const baseline = rssOf(pid);
    let peak = baseline;
    sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssOf(pid));
      } catch {
        // The process is gone; the test fails on its own account.
      }
    }, 50);

    await publish(base, EVENTS);

    // Every event reaches the healthy endpoint. No stuck attempt can end before the test does, so had a
    // healthy delivery waited behind one, it would never arrive.
    const arrived = () => new Set(healthy.requests.map((r) => JSON.parse(r.body.toString()).id as string));
    await until(() => arrived().size >= EVENTS, 60_000, 20);
    const stuck = { trickler, huge, silent };
    await until(() => Object.values(stuck).every((h) => h.active === PER_ENDPOINT), 20_000, 20);

    // Each stuck endpoint fills its slots and never took more: no attempt of theirs ended, so none began
    // beyond the first PER_ENDPOINT, and none is in the attempts log yet.
    const counts = (pick: (h: Hostile) => number) =>
      Object.fromEntries(Object.entries(stuck).map(([name, h]) => [name, pick(h)]));
    const each = { trickler: PER_ENDPOINT, huge: PER_ENDPOINT, silent: PER_ENDPOINT };
    expect(counts((h) => h.starts.length)).toEqual(each);
    expect(counts((h) => h.maxActive)).toEqual(each);
    for (const id of [ids.trickler, ids.huge, ids.silent]) expect(await attemptsOf(base, id)).toEqual([]);

    // Now let the 50 MB bodies flow: each is cut after 4 KB and the endpoint works through its events.
    huge.release();
    await until(async () => (await attemptsOf(base, ids.huge)).length >= 5 * PER_ENDPOINT, 60_000, 100);
    if (sampler) clearInterval(sampler);
    sampler = null;
    peak = Math.max(peak, rssOf(pid));
    const growthMb = (peak - baseline) / 1024 / 1024;
    console.info(
      `slow receivers: healthy endpoint got all ${EVENTS} events with ${PER_ENDPOINT} attempts stuck at each of ` +
        `three endpoints; connections open at once to the silent one ${silent.maxConnections}; ` +
        `${huge.starts.length} huge bodies started; server RSS ${(baseline / 1024 / 1024).toFixed(0)} MB → peak ` +
        `${(peak / 1024 / 1024).toFixed(0)} MB (+${growthMb.toFixed(1)} MB)`,
    );
    // Nothing holds a whole response in memory.
    expect(growthMb).toBeLessThan(MAX_RSS_GROWTH_MB);
    const cut = await attemptsOf(base, ids.huge);
    for (const a of cut) {
      expect(a.status_code).toBe(200);
      expect(a.response_body).toBe('x'.repeat(MAX_LOGGED_BODY));
    }
    // Still stuck, still holding only their own slots.
    expect(trickler.starts.length).toBe(PER_ENDPOINT);
    expect(silent.starts.length).toBe(PER_ENDPOINT);
    expect(server!.proc.exitCode).toBeNull();
  }, 150_000);

  it('attempts end at the timeout: a never-ending body is logged up to 4 KB, silence as a timeout', async () => {
    const trickler = await startTrickler();
    closers.push(trickler.close);
    const silent = await startSilent();
    closers.push(silent.close);

    const { base } = await serve(SHORT_TIMEOUT_MS);
    const ids = { trickler: await endpoint(base, trickler.url), silent: await endpoint(base, silent.url) };
    const count = 3;
    await publish(base, count);

    // A 200 counts once its status arrived, so each trickled event takes one attempt; silence is retried.
    await until(async () => (await attemptsOf(base, ids.trickler)).length >= count, 60_000, 100);
    await until(async () => (await attemptsOf(base, ids.silent)).length >= count, 60_000, 100);

    for (const a of await attemptsOf(base, ids.trickler)) {
      expect(a.status_code).toBe(200);
      expect(a.response_body).toMatch(/^\.+$/);
      expect(Buffer.byteLength(a.response_body!)).toBeLessThanOrEqual(MAX_LOGGED_BODY);
      // The body never ends, and the attempt still ended: at the timeout (a timer never fires much early).
      expect(a.duration_ms).toBeGreaterThanOrEqual(SHORT_TIMEOUT_MS * 0.9);
    }
    for (const a of await attemptsOf(base, ids.silent)) {
      expect(a.status_code).toBeNull();
      expect(a.error).toMatch(/timeout/);
      expect(a.duration_ms).toBeGreaterThanOrEqual(SHORT_TIMEOUT_MS * 0.9);
    }
    expect(server!.proc.exitCode).toBeNull();
  }, 150_000);
});
