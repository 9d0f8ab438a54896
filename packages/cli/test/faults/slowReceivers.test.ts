/**
 * Slow and hostile receivers: one trickles its response body a byte at a
 * time forever, one answers with a 50 MB body, one accepts the connection and
 * never answers. Each holds at most its endpoint's slots; a healthy receiver
 * next to them gets every event promptly; the server's memory stays bounded
 * (nothing buffers a whole response); the attempts log keeps at most 4 KB of
 * each response body.
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
const TIMEOUT_MS = 2000;
const EVENTS = 200;
const BIG_BODY_BYTES = 50 * 1024 * 1024;
/** How long the huge-body receiver waits between its headers and its body. */
const HUGE_BODY_PAUSE_MS = 400;
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

/**
 * The most requests that began within any `windowMs`. When every request
 * lasts at least `d` > `windowMs`, each slot starts at most one per window, so
 * this bounds the slots in use; unlike counting open connections here, it is
 * not fooled by a dropped connection whose close arrives after its successor.
 */
function maxStartsWithin(starts: number[], windowMs: number): number {
  let most = 0;
  let first = 0;
  for (let last = 0; last < starts.length; last++) {
    while (starts[last]! - starts[first]! >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
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
 * starts after a short pause, so that every attempt holds its slot for a
 * while and the slots in use can be told from the starts.
 */
function startHugeBody(): Promise<Hostile> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  return listenHttp((res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BIG_BODY_BYTES) });
    res.flushHeaders();
    let left = BIG_BODY_BYTES;
    const pump = () => {
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
    const timer = setTimeout(pump, HUGE_BODY_PAUSE_MS);
    res.on('close', () => clearTimeout(timer));
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

  it('a healthy endpoint gets every event promptly while the others hold only their slots; memory stays bounded', async () => {
    const trickler = await startTrickler();
    closers.push(trickler.close);
    const huge = await startHugeBody();
    closers.push(huge.close);
    const silent = await startSilent();
    closers.push(silent.close);
    const healthy: Receiver = await startReceiver();
    closers.push(healthy.close);

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
      String(TIMEOUT_MS),
      '--retry-schedule',
      Array(20).fill('500ms').join(','),
      '--per-endpoint-concurrency',
      String(PER_ENDPOINT),
    ]);
    const base = (await server.waitForOutput(/listening on (http:\/\/\S+)/))[1]!;
    const pid = server.proc.pid!;

    const endpoint = async (url: string) =>
      (await api<{ id: string }>(base, 'POST', '/v1/webhook_endpoints', { url, enabled_events: ['*'] })).id;
    const ids = {
      trickler: await endpoint(trickler.url),
      huge: await endpoint(huge.url),
      silent: await endpoint(silent.url),
      healthy: await endpoint(`${healthy.url}/hook`),
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

    // Publish, a few at a time; remember when each event was acknowledged.
    const ackedAt = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < EVENTS) {
          const n = next++;
          const ev = await api<{ id: string }>(base, 'POST', '/v1/events', {
            type: 'customer.created',
            data: { object: { id: `cus_${n}`, object: 'customer' } },
          });
          ackedAt.set(ev.id, Date.now());
        }
      }),
    );
    const publishedAt = Date.now();

    // The healthy endpoint is not held up by the three others: every event arrives, promptly.
    const arrived = () => {
      const at = new Map<string, number>();
      for (const r of healthy.requests) {
        const id = JSON.parse(r.body.toString()).id as string;
        if (!at.has(id)) at.set(id, r.receivedAt);
      }
      return at;
    };
    await until(() => arrived().size >= EVENTS, 15_000, 20);
    const healthyDoneAfterMs = Date.now() - publishedAt;
    const latencies = [...arrived()].map(([id, at]) => at - ackedAt.get(id)!);
    const worstLatency = Math.max(...latencies);

    // The huge bodies are cut after 4 KB, so that endpoint gets through all its events too; the trickler's
    // attempts end at the timeout, so wait for a couple of rounds of them.
    await until(() => huge.starts.length >= 5 * PER_ENDPOINT, 20_000, 50);
    await until(async () => (await attemptsOf(base, ids.trickler)).length >= 2 * PER_ENDPOINT, 20_000, 200);
    await until(() => silent.starts.length >= 2 * PER_ENDPOINT, 20_000, 50);
    if (sampler) clearInterval(sampler);
    sampler = null;
    peak = Math.max(peak, rssOf(pid));
    const growthMb = (peak - baseline) / 1024 / 1024;

    // Each hostile endpoint holds at most its slots, and fills them. Trickled and silent attempts last the
    // whole timeout, huge ones at least the pause: within a window shorter than that, a slot starts one at most.
    const slots = {
      trickler: maxStartsWithin(trickler.starts, TIMEOUT_MS * 0.75),
      huge: maxStartsWithin(huge.starts, HUGE_BODY_PAUSE_MS * 0.75),
      silent: maxStartsWithin(silent.starts, TIMEOUT_MS * 0.75),
    };
    // The figures first, so that a failing run shows them too.
    console.info(
      `slow receivers: healthy endpoint got all ${EVENTS} events ${healthyDoneAfterMs} ms after the last publish ` +
        `(worst ack-to-arrival ${worstLatency} ms); slots used by the trickling/huge/silent endpoints ` +
        `${slots.trickler}/${slots.huge}/${slots.silent} (open at once as seen by the receivers ` +
        `${trickler.maxActive}/${huge.maxActive}/${silent.maxActive}; connections open at once to the silent one ` +
        `${silent.maxConnections}); ${huge.starts.length} huge bodies started; ` +
        `server RSS ${(baseline / 1024 / 1024).toFixed(0)} MB → peak ${(peak / 1024 / 1024).toFixed(0)} MB ` +
        `(+${growthMb.toFixed(1)} MB)`,
    );
    // Well under one delivery timeout: no healthy delivery waited behind a stuck one.
    expect(worstLatency).toBeLessThan(TIMEOUT_MS);
    expect(slots).toEqual({ trickler: PER_ENDPOINT, huge: PER_ENDPOINT, silent: PER_ENDPOINT });
    // Nothing holds a whole response in memory.
    expect(growthMb).toBeLessThan(MAX_RSS_GROWTH_MB);

    // The log keeps at most 4 KB of a body: the trickle up to the timeout, the first 4 KB of the 50 MB.
    const trickled = await attemptsOf(base, ids.trickler);
    expect(trickled.length).toBeGreaterThan(0);
    for (const a of trickled) {
      expect(a.status_code).toBe(200);
      expect(a.response_body).toMatch(/^\.+$/);
      expect(Buffer.byteLength(a.response_body!)).toBeLessThanOrEqual(MAX_LOGGED_BODY);
      // The body never ends: the attempt lasts the whole timeout, not longer.
      expect(a.duration_ms).toBeGreaterThanOrEqual(TIMEOUT_MS * 0.9);
      expect(a.duration_ms).toBeLessThan(TIMEOUT_MS + 1000);
    }
    const cut = await attemptsOf(base, ids.huge);
    expect(cut.length).toBeGreaterThan(0);
    for (const a of cut) {
      expect(a.status_code).toBe(200);
      expect(a.response_body).toBe('x'.repeat(MAX_LOGGED_BODY));
    }
    const silence = await attemptsOf(base, ids.silent);
    expect(silence.length).toBeGreaterThan(0);
    for (const a of silence) {
      expect(a.status_code).toBeNull();
      expect(a.error).toMatch(/timeout/);
    }

    expect(server.proc.exitCode).toBeNull();
  });
});
