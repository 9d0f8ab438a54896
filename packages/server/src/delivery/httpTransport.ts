/**
 * The HTTP transport, the network edge of delivery: POST one signed body to one endpoint and
 * report what happened. Everything about the attempt is bounded: time
 * (connect, headers and body together), response size, and where it may go.
 */

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { EventEmitter } from 'node:events';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { Pool } from 'undici';
import { checkTargetUrl, isPrivateAddress, type TargetCheck } from './targetGuard.js';
import type { SendErrorCode, SendResult, Transport } from './transport.js';

/** Resolves a host name to every address it has, as `dns.lookup` with `all: true`. */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export interface HttpTransportOptions {
  /** Bound on the whole attempt: connecting, waiting for headers and reading the body. */
  timeoutMs: number;
  /** Allow loopback, private and link-local targets (local development). */
  allowPrivateTargets: boolean;
  /** How much of a response body is kept for the attempt log; default 4096. */
  maxResponseBytes?: number;
  /**
   * Open connections per endpoint origin; default: as many as there are
   * requests in flight to it. The engine bounds those (per endpoint and
   * per node); a smaller pool would queue attempts whose timeout is already
   * running, and log a slow endpoint's queued attempts as timeouts.
   */
  connectionsPerOrigin?: number;
  /** Name resolution; default `dns.lookup` (the system resolver, `/etc/hosts` included). */
  resolveHost?: ResolveHost;
  /** A pool with nothing in flight for this long is closed (default 60 s). */
  idlePoolMs?: number;
  /** At most this many origins keep a pool; past it the least recently used idle ones close (default 512). */
  maxPools?: number;
}

const PRIVATE_TARGET = 'ESWITCHBOARD_PRIVATE_TARGET';

const systemResolve: ResolveHost = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

/**
 * A `lookup` for socket connections that refuses private addresses unless
 * allowed. It runs when a connection is opened, on the addresses actually
 * connected to, so a name cannot pass a check and then rebind to 127.0.0.1.
 * Only names reach it: sockets skip `lookup` for literal IPs.
 */
export function guardedLookup(resolveHost: ResolveHost, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolveHost(hostname).then(
      (found) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = found.filter((a) => family === 0 || a.family === family);
        // Private answers are dropped rather than failing the whole name, so
        // a host with both kinds of address is reached only on its public ones.
        const allowed = allowPrivate ? usable : usable.filter((a) => !isPrivateAddress(a.address));
        if (allowed.length === 0) {
          const error: NodeJS.ErrnoException =
            usable.length > 0
              ? // Which private addresses stays out of the attempt log: it would map the internal network.
                new Error(`${hostname} resolves only to private addresses, which are refused`)
              : new Error(`${hostname} has no usable address`);
          error.code = usable.length > 0 ? PRIVATE_TARGET : 'ENOTFOUND';
          callback(error, '', 0);
        } else if (options.all) {
          callback(null, allowed);
        } else {
          callback(null, allowed[0]!.address, allowed[0]!.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

const TLS_CODES =
  /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|EPROTO$)/;

/** The error codes found on `error`, its causes and, for aggregated failures, its parts. */
function codesOf(error: unknown, depth = 0): string[] {
  if (depth > 4 || typeof error !== 'object' || error === null) return [];
  const codes: string[] = [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') codes.push(code);
  codes.push(...codesOf(cause, depth + 1));
  if (Array.isArray(errors)) for (const part of errors) codes.push(...codesOf(part, depth + 1));
  return codes;
}

function classifyError(error: unknown): SendErrorCode {
  const codes = codesOf(error);
  const has = (...wanted: string[]) => codes.some((c) => wanted.includes(c));
  if (has(PRIVATE_TARGET)) return 'private_target';
  if (has('ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA')) return 'dns_failure';
  if (codes.some((c) => TLS_CODES.test(c))) return 'tls_error';
  if (has('ECONNREFUSED')) return 'connection_refused';
  if (has('UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'))
    return 'timeout';
  if (has('ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED')) return 'connection_reset';
  if (has('ERR_INVALID_URL')) return 'invalid_url';
  return 'network_error';
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause =
    error.cause instanceof Error && error.cause.message !== error.message ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

/**
 * Read at most `max` bytes of `body`, then stop and destroy it. Resolves with
 * what was read even when the stream fails part-way (timeout, reset).
 */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of body) {
      const room = max - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        size = max;
        truncated = true;
        break; // Ends the iteration, which destroys the stream.
      }
      chunks.push(chunk);
      size += chunk.length;
    }
  } catch {
    truncated = true;
  } finally {
    body.destroy();
  }
  const bytes = Buffer.concat(chunks, size);
  // A cut can split a UTF-8 sequence; leave the partial character out.
  return truncated ? new StringDecoder('utf8').write(bytes) : bytes.toString('utf8');
}

const failure = (start: number, errorCode: SendErrorCode, errorMessage: string): SendResult => ({
  statusCode: null,
  headers: {},
  responseBody: null,
  durationMs: performance.now() - start,
  errorCode,
  errorMessage,
});

/**
 * The HTTP transport: POST with undici, one connection pool per endpoint origin.
 *
 * @example
 * const http = createHttpTransport({ timeoutMs: 30_000, allowPrivateTargets: false });
 * const result = await http.send('https://hooks.example.com/stripe', headers, body);
 * await http.close();
 */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  const { timeoutMs, allowPrivateTargets } = options;
  const maxResponseBytes = options.maxResponseBytes ?? 4096;
  const lookup = guardedLookup(options.resolveHost ?? systemResolve, allowPrivateTargets);
  // Per origin: its pool, the attempts in flight on it, and when it was last used. Idle pools are closed
  // (after idlePoolMs, or the least recently used past maxPools), so endpoints come and go without a pool each
  // kept for ever.
  const pools = new Map<string, { pool: Pool; inFlight: number; lastUsed: number }>();
  const idlePoolMs = options.idlePoolMs ?? 60_000;
  const maxPools = options.maxPools ?? 512;
  let lastSweep = 0;
  /** Close idle pools but `keep`'s, and enough of the least recently used to leave room for `adding` more. */
  const sweep = (now: number, adding: number, keep: string) => {
    lastSweep = now;
    const idle = [...pools]
      .filter(([origin, p]) => p.inFlight === 0 && origin !== keep)
      .sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    let excess = pools.size + adding - maxPools;
    for (const [origin, p] of idle) {
      if (now - p.lastUsed < idlePoolMs && excess <= 0) break;
      pools.delete(origin);
      excess--;
      void p.pool.close().catch(() => {});
    }
  };
  // Endpoint URLs repeat on every attempt: judge and parse each once. Bounded: emptied when it grows past
  // what any sensible number of endpoints needs.
  const targets = new Map<string, TargetCheck>();
  const checkTarget = (url: string): TargetCheck => {
    let target = targets.get(url);
    if (!target) {
      if (targets.size >= 10_000) targets.clear();
      target = checkTargetUrl(url, allowPrivateTargets);
      targets.set(url, target);
    }
    return target;
  };
  let closed = false;

  const poolFor = (origin: string, now: number) => {
    let entry = pools.get(origin);
    if (!entry) {
      if (pools.size >= maxPools || now - lastSweep >= idlePoolMs) sweep(now, 1, origin);
      entry = {
        pool: new Pool(origin, {
          connections: options.connectionsPerOrigin ?? null,
          connect: { lookup, timeout: timeoutMs },
          // Backstops only: the attempt's own timer below bounds the whole exchange.
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        }),
        inFlight: 0,
        lastUsed: now,
      };
      pools.set(origin, entry);
    } else if (now - lastSweep >= idlePoolMs) sweep(now, 0, origin);
    entry.lastUsed = now;
    return entry;
  };

  async function send(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const start = performance.now();
    if (closed) return failure(start, 'network_error', 'sender is closed');
    // Literal IP hosts never reach `lookup`, so they are judged here.
    const target = checkTarget(url);
    if (!target.ok) {
      return failure(
        start,
        target.reason === 'private_target' ? 'private_target' : 'invalid_url',
        target.error,
      );
    }
    // undici takes an EventEmitter as the abort signal: far cheaper per attempt than an AbortController
    // (whose signal is a transferable platform object; 3 % of the server's CPU in the throughput profile).
    const abort = new EventEmitter();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.emit('abort');
    }, timeoutMs);
    const entry = poolFor(target.url.origin, start);
    entry.inFlight++;
    try {
      const response = await entry.pool.request({
        method: 'POST',
        path: `${target.url.pathname}${target.url.search}`,
        headers,
        body,
        signal: abort,
      });
      // Once the status line is in, the verdict is made: a 2xx whose body
      // never ends has still been received by the endpoint, and calling it a
      // failure would only send it again. The body is read for the log, up to
      // the size cap or the timeout, whichever comes first.
      const responseBody = await readCapped(response.body, maxResponseBytes);
      return {
        statusCode: response.statusCode,
        headers: response.headers,
        responseBody,
        durationMs: performance.now() - start,
        errorCode: null,
        errorMessage: null,
      };
    } catch (error) {
      if (timedOut) return failure(start, 'timeout', `no response within ${timeoutMs} ms`);
      return failure(start, classifyError(error), messageOf(error));
    } finally {
      clearTimeout(timer);
      entry.inFlight--;
      entry.lastUsed = performance.now();
    }
  }

  async function close(): Promise<void> {
    closed = true;
    const all = [...pools.values()].map((p) => p.pool);
    pools.clear();
    // Graceful: sends in flight finish, and each is bounded by the timeout.
    await Promise.all(all.map((pool) => pool.close().catch(() => {})));
  }

  return {
    send,
    close,
    get pools() {
      return pools.size;
    },
  };
}
