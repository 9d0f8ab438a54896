/**
 * A receiver for the benchmarks, run as its own process (forked with an IPC
 * channel) so that its work is not mixed into the server's or the load
 * generator's event loop.
 *
 * Modes (first argument):
 * - `ok`: answers 200 as soon as the request body has arrived, counts
 *   requests and, when asked, records the arrival time of each event id;
 * - `hang`: accepts requests and never answers (a dead endpoint that keeps
 *   its connections open);
 * - `json`: answers 200 with a fixed JSON body of `--json-bytes` bytes (the
 *   trivial server the publish API is compared with).
 *
 * The parent drives it over IPC (see sink.ts): listen on n ports, close them
 * (the receiver is down: connections are refused), listen again on the same
 * ports, read the counters and the recorded arrivals.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { now } from './clock.js';
import { eventIdOf } from './eventId.js';
import type { SinkReply, SinkRequest } from './sinkProtocol.js';

type Mode = 'ok' | 'hang' | 'json';

const mode = (process.argv[2] ?? 'ok') as Mode;
const jsonBytes = Number(process.argv[3] ?? '0');

// What the json mode answers: a JSON document of exactly jsonBytes bytes.
const jsonBody = (() => {
  const shell = '{"object":"event","pad":""}';
  return Buffer.from(shell.replace('""', `"${'x'.repeat(Math.max(0, jsonBytes - shell.length))}"`));
})();

let count = 0;
let firstAt = 0;
let lastAt = 0;
let recording = false;
let trackUnique = false;
const unique = new Set<string>();
let arrivalIds: string[] = [];
let arrivalTimes: number[] = [];
let arrivalPorts: number[] = [];

function arrived(port: number, head: string): void {
  const t = now();
  count++;
  if (firstAt === 0) firstAt = t;
  lastAt = t;
  if (recording || trackUnique) {
    const id = eventIdOf(head);
    if (id !== null) {
      if (recording) {
        arrivalIds.push(id);
        arrivalTimes.push(t);
        arrivalPorts.push(port);
      }
      if (trackUnique) unique.add(id);
    }
  }
}

function handler(port: number) {
  return (req: IncomingMessage, res: ServerResponse) => {
    // Only the start of the body is kept: the event id is its first field.
    let head = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (head.length < 128) head += chunk;
    });
    req.on('end', () => {
      if (mode === 'hang') {
        // Counted so the parent can see how many connections the dead endpoint holds; never answered.
        count++;
        return;
      }
      if (mode === 'json') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': jsonBody.length });
        res.end(jsonBody);
        return;
      }
      arrived(port, head);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
    });
  };
}

interface Listener {
  server: Server;
  port: number;
  sockets: Set<Socket>;
}

let listeners: Listener[] = [];
let ports: number[] = [];

async function listenOn(port: number): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createServer({
    // A hanging receiver must hold its requests for as long as the server's own timeout.
    requestTimeout: 0,
    // Keep pooled connections between phases of a scenario.
    keepAliveTimeout: 120_000,
  });
  const listener: Listener = { server, port, sockets };
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  listener.port = (server.address() as AddressInfo).port;
  server.on('request', handler(listener.port));
  return listener;
}

async function closeAll(): Promise<void> {
  const closing = listeners;
  listeners = [];
  await Promise.all(
    closing.map(
      (l) =>
        new Promise<void>((resolve) => {
          l.server.close(() => resolve());
          // Open keep-alive and hanging connections would hold close() forever.
          for (const s of l.sockets) s.destroy();
        }),
    ),
  );
}

async function handle(msg: SinkRequest): Promise<SinkReply> {
  switch (msg.cmd) {
    case 'listen': {
      // Port 0 for new ports; the same ports again after `close` (the receiver comes back).
      const wanted = msg.reuse ? ports : Array.from({ length: msg.count ?? 1 }, () => 0);
      listeners = await Promise.all(wanted.map((p) => listenOn(p)));
      ports = listeners.map((l) => l.port);
      return { ok: true, ports, at: now() };
    }
    case 'close':
      await closeAll();
      return { ok: true, at: now() };
    case 'reset':
      count = 0;
      firstAt = 0;
      lastAt = 0;
      unique.clear();
      arrivalIds = [];
      arrivalTimes = [];
      arrivalPorts = [];
      return { ok: true };
    case 'record':
      recording = msg.on;
      trackUnique = msg.unique ?? trackUnique;
      return { ok: true };
    case 'stats':
      return { ok: true, count, unique: unique.size, firstAt, lastAt };
    case 'arrivals':
      return { ok: true, ids: arrivalIds, times: arrivalTimes, ports: arrivalPorts };
    case 'now':
      return { ok: true, at: now() };
    case 'exit':
      await closeAll();
      setImmediate(() => process.exit(0));
      return { ok: true };
  }
}

process.on('message', (raw: unknown) => {
  const msg = raw as SinkRequest & { seq: number };
  handle(msg).then(
    (reply) => process.send?.({ ...reply, seq: msg.seq }),
    (error: unknown) => process.send?.({ ok: false, error: String(error), seq: msg.seq }),
  );
});
// The parent going away ends the receiver too, so no stray listeners outlive a run.
process.on('disconnect', () => process.exit(0));
process.send?.({ ok: true, seq: 0, ready: true });
