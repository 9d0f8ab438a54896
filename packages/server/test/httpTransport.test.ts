import type { LookupAddress } from 'node:dns';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, guardedLookup, type ResolveHost } from '../src/delivery/httpTransport.js';
import type { SendResult } from '../src/delivery/transport.js';

const received: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
const timers = new Set<NodeJS.Timeout>();

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    received.push({ path: req.url ?? '', headers: req.headers, body });
    switch (req.url) {
      case '/ok':
        res
          .writeHead(200, { 'content-type': 'text/plain', 'x-answer': '42' })
          .end(`got ${body.length} bytes`);
        return;
      case '/500':
        res.writeHead(500).end('boom');
        return;
      case '/302':
        res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
        return;
      case '/hang':
        return; // never answers
      case '/reset':
        req.socket.destroy();
        return;
      case '/huge': {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const block = Buffer.alloc(64 * 1024, 'a');
        let left = (10 * 1024 * 1024) / block.length;
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            left--;
            if (!res.write(block)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end();
        };
        pump();
        return;
      }
      case '/trickle': {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => {
          if (res.destroyed) {
            clearInterval(timer);
            timers.delete(timer);
          } else res.write('x');
        }, 20);
        timers.add(timer);
        return;
      }
      case '/utf8':
        // 'é' is two bytes: a 4095-byte cut lands in the middle of one.
        res.writeHead(200).end('é'.repeat(4000));
        return;
      default:
        res.writeHead(404).end();
    }
  });
}

let server: Server;
let base: string;
let port: number;
let closedPort: number;

beforeAll(async () => {
  server = createServer(handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  // A port that was just free and is now closed again: connections are refused.
  const spare = createServer().listen(0, '127.0.0.1');
  await once(spare, 'listening');
  closedPort = (spare.address() as AddressInfo).port;
  await new Promise((resolve) => spare.close(resolve));
});

afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': 't=1,v1=abc' };

async function sendOnce(
  url: string,
  options: {
    timeoutMs?: number;
    allowPrivateTargets?: boolean;
    maxResponseBytes?: number;
    resolveHost?: ResolveHost;
  } = {},
  body = '{"id":"evt_1"}',
): Promise<SendResult> {
  const sender = createHttpTransport({ timeoutMs: 5000, allowPrivateTargets: true, ...options });
  try {
    return await sender.send(url, JSON_HEADERS, body);
  } finally {
    await sender.close();
  }
}

describe('createHttpTransport against a real server', () => {
  it('200 with a body', async () => {
    const body = JSON.stringify({ id: 'evt_1', data: { object: { name: 'café' } } });
    const result = await sendOnce(`${base}/ok`, {}, body);
    expect(result).toMatchObject({
      statusCode: 200,
      responseBody: `got ${body.length} bytes`,
      errorCode: null,
      errorMessage: null,
    });
    expect(result.headers['x-answer']).toBe('42');
    expect(result.durationMs).toBeGreaterThan(0);
    const seen = received.findLast((r) => r.path === '/ok')!;
    expect(seen.body).toBe(body);
    expect(seen.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(seen.headers['stripe-signature']).toBe('t=1,v1=abc');
  });

  it('500 is reported with its status and body', async () => {
    expect(await sendOnce(`${base}/500`)).toMatchObject({
      statusCode: 500,
      responseBody: 'boom',
      errorCode: null,
    });
  });

  it('302 is not followed', async () => {
    const before = received.length;
    const result = await sendOnce(`${base}/302`);
    expect(result).toMatchObject({ statusCode: 302, responseBody: '', errorCode: null });
    expect(result.headers['location']).toBe('http://127.0.0.1:1/elsewhere');
    expect(received.length).toBe(before + 1);
  });

  it('a server that never answers times out', async () => {
    const result = await sendOnce(`${base}/hang`, { timeoutMs: 300 });
    expect(result).toMatchObject({ statusCode: null, responseBody: null, errorCode: 'timeout' });
    // Had the timeout not ended the attempt, the test would hang instead (a lower bound cannot fail on a busy machine).
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('a 10 MB body is cut at maxResponseBytes without reading it all', async () => {
    const result = await sendOnce(`${base}/huge`, { maxResponseBytes: 4096 });
    expect(result.statusCode).toBe(200);
    expect(result.responseBody).toBe('a'.repeat(4096));
    expect(result.errorCode).toBeNull();
  });

  it('the default cap is 4096 bytes', async () => {
    const result = await sendOnce(`${base}/huge`);
    expect(result.responseBody?.length).toBe(4096);
  });

  it('a cut never leaves half a UTF-8 character', async () => {
    const result = await sendOnce(`${base}/utf8`, { maxResponseBytes: 4095 });
    expect(result.responseBody).toBe('é'.repeat(2047));
  });

  it('a 200 whose body never ends counts once the status arrived, within the timeout', async () => {
    const result = await sendOnce(`${base}/trickle`, { timeoutMs: 300 });
    expect(result).toMatchObject({ statusCode: 200, errorCode: null });
    expect(result.responseBody).toMatch(/^x+$/);
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('a trickle stops at the size cap without waiting for the timeout', async () => {
    // A timeout longer than the test's own: only the cap can end this attempt in time.
    const result = await sendOnce(`${base}/trickle`, { timeoutMs: 600_000, maxResponseBytes: 3 });
    expect(result).toMatchObject({ statusCode: 200, responseBody: 'xxx', errorCode: null });
  });

  it('connection refused', async () => {
    const result = await sendOnce(`http://127.0.0.1:${closedPort}/`);
    expect(result).toMatchObject({ statusCode: null, errorCode: 'connection_refused' });
    expect(result.errorMessage).toBeTruthy();
  });

  it('connection reset before a response', async () => {
    expect(await sendOnce(`${base}/reset`)).toMatchObject({
      statusCode: null,
      errorCode: 'connection_reset',
    });
  });

  it('TLS to a plain HTTP server is a tls_error', async () => {
    expect(await sendOnce(`https://127.0.0.1:${port}/ok`)).toMatchObject({
      statusCode: null,
      errorCode: 'tls_error',
    });
  });

  it.each([
    // [url (PORT is replaced), allowPrivateTargets, expected status, expected error code]
    ['http://127.0.0.1:PORT/ok', false, null, 'private_target'],
    ['http://127.0.0.1:PORT/ok', true, 200, null],
    ['http://[::ffff:127.0.0.1]:PORT/ok', false, null, 'private_target'],
    ['http://localhost:PORT/ok', false, null, 'private_target'],
    ['http://localhost:PORT/ok', true, 200, null],
    ['not a url', true, null, 'invalid_url'],
    ['ftp://127.0.0.1:PORT/ok', true, null, 'invalid_url'],
    ['http://user:pw@127.0.0.1:PORT/ok', true, null, 'invalid_url'],
  ] as [string, boolean, number | null, string | null][])(
    '%s with allowPrivateTargets=%s',
    async (url, allowPrivateTargets, statusCode, errorCode) => {
      const before = received.length;
      const result = await sendOnce(url.replace('PORT', String(port)), { allowPrivateTargets });
      expect(result).toMatchObject({ statusCode, errorCode });
      if (errorCode) {
        expect(result.errorMessage).toBeTruthy();
        expect(received.length).toBe(before);
      }
    },
  );

  it.each([
    // [resolved addresses, allowPrivateTargets, expected status, expected error code]
    [[{ address: '127.0.0.1', family: 4 }], false, null, 'private_target'],
    [
      [
        { address: '10.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ],
      false,
      null,
      'private_target',
    ],
    [[{ address: '127.0.0.1', family: 4 }], true, 200, null],
  ] as [LookupAddress[], boolean, number | null, string | null][])(
    'a name resolving to %j with allowPrivateTargets=%s',
    async (addresses, allowPrivateTargets, statusCode, errorCode) => {
      const resolveHost: ResolveHost = async () => addresses;
      const result = await sendOnce(`http://hooks.internal.test:${port}/ok`, {
        allowPrivateTargets,
        resolveHost,
      });
      expect(result).toMatchObject({ statusCode, errorCode });
      // The log says a private address was refused, never which: it would map the internal network.
      for (const { address } of addresses) expect(result.errorMessage ?? '').not.toContain(address);
    },
  );

  it('a name that does not resolve is a dns_failure', async () => {
    const resolveHost: ResolveHost = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    const result = await sendOnce(`http://nowhere.test:${port}/ok`, { resolveHost });
    expect(result).toMatchObject({ statusCode: null, errorCode: 'dns_failure' });
  });

  it('reuses one pool per origin and fails cleanly after close', async () => {
    const sender = createHttpTransport({ timeoutMs: 5000, allowPrivateTargets: true });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => sender.send(`${base}/ok`, JSON_HEADERS, '{}')),
    );
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    await sender.close();
    expect(await sender.send(`${base}/ok`, JSON_HEADERS, '{}')).toMatchObject({
      statusCode: null,
      errorCode: 'network_error',
    });
  });
});

describe('guardedLookup', () => {
  const answers: LookupAddress[] = [
    { address: '10.0.0.1', family: 4 },
    { address: '93.184.215.14', family: 4 },
    { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
  ];
  const run = (allowPrivate: boolean, options: { all?: boolean; family?: number }) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) => {
      guardedLookup(async () => answers, allowPrivate)('host.test', options, (error, address, family) =>
        resolve({ error, address, ...(family === undefined ? {} : { family }) }),
      );
    });

  it.each([
    [false, { all: true }, { error: null, address: answers.slice(1) }],
    [true, { all: true }, { error: null, address: answers }],
    [false, {}, { error: null, address: '93.184.215.14', family: 4 }],
    [true, {}, { error: null, address: '10.0.0.1', family: 4 }],
    [false, { family: 6 }, { error: null, address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }],
    [false, { all: true, family: 4 }, { error: null, address: [answers[1]] }],
  ] as [boolean, { all?: boolean; family?: number }, object][])(
    'allowPrivate=%s %j',
    async (allow, options, expected) => {
      expect(await run(allow, options)).toEqual(expected);
    },
  );
});

describe('origin pools', () => {
  it('are bounded: past maxPools the least recently used idle ones close, and idle ones close after idlePoolMs', async () => {
    const servers = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<import('node:http').Server>((resolve) => {
            const s = createServer((_req, res) => res.end('ok'));
            s.listen(0, '127.0.0.1', () => resolve(s));
          }),
      ),
    );
    const urls = servers.map((s) => `http://127.0.0.1:${(s.address() as { port: number }).port}/`);
    const bounded = createHttpTransport({ timeoutMs: 5000, allowPrivateTargets: true, maxPools: 2 });
    const idle = createHttpTransport({ timeoutMs: 5000, allowPrivateTargets: true, idlePoolMs: 0 });
    try {
      for (const url of urls) expect((await bounded.send(url, {}, '{}')).statusCode).toBe(200);
      expect(bounded.pools).toBeLessThanOrEqual(2);
      for (const url of urls) expect((await idle.send(url, {}, '{}')).statusCode).toBe(200);
      // Each new origin closed the idle pools before it; the one in use is never closed under it.
      expect(idle.pools).toBe(1);
      expect((await idle.send(urls[2]!, {}, '{}')).statusCode).toBe(200);
      expect((await idle.send(urls[2]!, {}, '{}')).statusCode).toBe(200);
    } finally {
      await bounded.close();
      await idle.close();
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    }
  });
});
