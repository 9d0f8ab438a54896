/** Request plumbing: request ids, body parsing, authentication, idempotency. Small factories, Hono-style. */

import { hash as digest, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Context, MiddlewareHandler } from 'hono';
import { randomToken } from '../ids.js';
import { keySeesAccount } from '../routing/connectionModes.js';
import { type ApiKeyRecord, IDEMPOTENCY_IN_PROGRESS } from '../store/types.js';
import { isStripeApiVersion, LATEST_API_VERSION, STRIPE_API_VERSIONS } from '../stripe/apiVersions.js';
import { closestName } from '../stripe/suggest.js';
import type { AuthThrottle } from './authThrottle.js';
import type { ApiEnv, Caller, Runtime } from './context.js';
import { ApiError, invalid, invalidApiKey } from './errors.js';
import { MAX_PARAM_DEPTH, parseFormParams, tooDeep } from './formBody.js';
import { savesIdempotentResult } from './idempotencySave.js';
import type { RawParams } from './params.js';

// The one-shot digest: half the cost of a Hash object for inputs this small.
export const sha256 = (text: string): string => digest('sha256', text, 'hex');

/** Every response carries a `Request-Id`. */
export function requestId(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const id = `req_${randomToken(14)}`;
    c.set('requestId', id);
    await next();
    // On the response's own headers: `c.header()` after the handler copies the finished response, and on
    // Node that builds a full Web Response with a body stream (7 % of the server thread per publish).
    try {
      c.res.headers.set('Request-Id', id);
    } catch {
      c.header('Request-Id', id); // immutable headers (a Response from fetch): the copy is needed
    }
  };
}

function parseQueryOrForm(text: string): RawParams {
  const parsed = parseFormParams(text);
  if (!parsed.ok) throw invalid(parsed.message, 'parameter_invalid', parsed.param);
  return parsed.params;
}

const aborted = (): ApiError =>
  new ApiError(400, 'invalid_request_error', 'The request body was cut off before it was complete.');

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(
    413,
    'invalid_request_error',
    `Request body too large: the limit is ${maxBytes} bytes.`,
    'request_too_large',
  );
}

/** What @hono/node-server passes as the environment: the Node request behind the Web one. */
interface NodeBindings {
  incoming?: Readable;
}

/** Read a Node request body, giving up (without destroying the socket, so the 413 can be sent) past `maxBytes`. */
function readIncoming(incoming: Readable, maxBytes: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    // The client went away before the body was read (an abort emits `close` without `end`, and no `error`
    // unless someone listened): answer nothing rather than wait forever.
    if (incoming.destroyed) {
      reject(aborted());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        done();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks, size).toString('utf8'));
    };
    const onError = () => {
      done();
      reject(aborted());
    };
    const onClose = () => {
      done();
      reject(aborted());
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/**
 * The request body as text, refused past `maxBytes`. On a Node socket it is read straight from the
 * IncomingMessage: going through the Web Request makes @hono/node-server build a full Request, with its
 * AbortController and streams, for every call (about 8 % of the server's CPU per publish in the throughput
 * profile). Elsewhere (tests calling `app.fetch`) the Web Request is read.
 */
async function readBody(c: Context<ApiEnv>, maxBytes: number): Promise<string> {
  const declared = Number(c.req.header('content-length'));
  if (declared > maxBytes) {
    // Refused unread: close the connection after the answer rather than drain the body.
    c.header('Connection', 'close');
    throw tooLarge(maxBytes);
  }
  const incoming = (c.env as NodeBindings | undefined)?.incoming;
  if (incoming && incoming.readableEnded !== true) {
    const text = await readIncoming(incoming, maxBytes);
    if (text === null) {
      // The rest of the body is not read: close the connection after the answer rather than drain it.
      c.header('Connection', 'close');
      throw tooLarge(maxBytes);
    }
    return text;
  }
  const text = await c.req.text();
  if (Buffer.byteLength(text) > maxBytes) throw tooLarge(maxBytes);
  return text;
}

/** Parameters from the query string (GET, DELETE) or the body: form-encoded (what the SDKs send) or JSON. */
export function params(options: { maxBodyBytes: number }): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const query = new URL(c.req.url).search.slice(1);
    let merged: RawParams = query ? parseQueryOrForm(query) : {};
    if (c.req.method === 'POST' || c.req.method === 'DELETE') {
      const text = await readBody(c, options.maxBodyBytes);
      if (text.length > 0) {
        const type = c.req.header('content-type') ?? '';
        let body: RawParams;
        if (type.includes('application/json')) {
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            throw invalid(
              'Invalid JSON body: the request body could not be parsed as JSON.',
              'parameter_invalid',
            );
          }
          if (typeof value !== 'object' || value === null || Array.isArray(value)) {
            throw invalid('Invalid JSON body: expected an object of parameters.', 'parameter_invalid');
          }
          const deep = tooDeep(value);
          if (deep !== null) {
            throw invalid(
              `Parameter ${deep} is nested too deeply (at most ${MAX_PARAM_DEPTH} levels).`,
              'parameter_invalid',
              deep,
            );
          }
          body = value as RawParams;
        } else {
          body = parseQueryOrForm(text);
        }
        merged = { ...merged, ...body };
      }
    }
    c.set('params', merged);
    await next();
  };
}

/** The key from `Authorization: Bearer sk_…` or Basic auth with the key as user name. */
export function apiKeyFrom(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!scheme || !value) return null;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const user = decoded.split(':', 1)[0];
    return user || null;
  }
  return null;
}

/**
 * A key found once is trusted without asking the store again only where no
 * other server can revoke it: on SQLite, which one server owns (it forgets a
 * key it revokes itself). Nodes sharing PostgreSQL ask on every request, so a
 * key revoked on one is refused at once on all.
 */
const knownKeys = new WeakMap<Runtime, Map<string, ApiKeyRecord>>();

function knownKeysOf(rt: Runtime): Map<string, ApiKeyRecord> {
  let known = knownKeys.get(rt);
  if (!known) {
    known = new Map();
    knownKeys.set(rt, known);
  }
  return known;
}

/** Forget a revoked key on this node now. */
export const forgetKey = (rt: Runtime, hash: string): void => {
  knownKeysOf(rt).delete(hash);
};

async function findKey(rt: Runtime, hash: string): Promise<ApiKeyRecord | null> {
  if (rt.store.engine !== 'sqlite') return rt.store.findApiKey(hash);
  const known = knownKeysOf(rt);
  const cached = known.get(hash);
  if (cached) return cached;
  const record = await rt.store.findApiKey(hash);
  if (record) {
    if (known.size >= 1000) known.clear();
    known.set(hash, record);
  }
  return record;
}

/**
 * Who is calling: the key (by its hash, compared in constant time) and the
 * account named by `Stripe-Account`. Throws the API error to answer. Shared by
 * the HTTP API and the listen websocket.
 *
 * @param readOnlyEvents after deauthorization the platform keeps read access
 *   to the account's past events only.
 */
export async function resolveCaller(
  rt: Runtime,
  headers: {
    authorization?: string | undefined;
    stripeAccount?: string | undefined;
    stripeVersion?: string | undefined;
  },
  readOnlyEvents: boolean,
): Promise<Caller> {
  const key = apiKeyFrom(headers.authorization);
  if (!key) throw invalidApiKey(null);
  const hash = sha256(key);
  const record = await findKey(rt, hash);
  // The lookup is by hash; compare again in constant time so a store that matched loosely can't let a key through.
  if (
    !record ||
    !timingSafeEqual(Buffer.from(record.hash), Buffer.from(hash)) ||
    record.platformId !== rt.platform.id
  ) {
    throw invalidApiKey(key);
  }
  const version = headers.stripeVersion;
  if (version !== undefined && !isStripeApiVersion(version)) {
    const near = closestName(version, STRIPE_API_VERSIONS);
    throw invalid(
      `Invalid Stripe API version: '${version}' (the Stripe-Version header).${near ? ` Did you mean '${near}'?` : ` Use a published version such as '${LATEST_API_VERSION}'.`}`,
      'api_version_invalid',
      'Stripe-Version',
    );
  }
  const acting = headers.stripeAccount;
  let connectedAccount = null;
  if (acting && acting !== rt.platform.id) {
    const account = await rt.store.getAccount(acting);
    const noAccess = () =>
      new ApiError(
        403,
        'permission_error',
        `The provided key '${maskKey(key)}' does not have access to account '${acting}' (or that account does not exist). Application access may have been revoked.`,
        'account_invalid',
      );
    if (!account || account.platformId !== rt.platform.id) throw noAccess();
    // A key acts as accounts connected in its mode (a test key also as live-connected ones). Reading events
    // stays open for every account of the platform, so that it keeps reading the past of one that left a
    // mode (its deauthorization event included); the key's mode still picks which events it sees.
    if (!keySeesAccount(account.connectedModes, record.livemode) && !readOnlyEvents) {
      if (account.deauthorizedAt !== null) {
        throw new ApiError(
          403,
          'permission_error',
          `The account '${acting}' has disconnected this platform (account.application.deauthorized); the platform no longer has access to it.`,
          'account_invalid',
        );
      }
      throw noAccess();
    }
    connectedAccount = account;
  }
  return {
    livemode: record.livemode,
    keyHash: hash,
    accountId: connectedAccount ? connectedAccount.id : rt.platform.id,
    connectedAccount,
    stripeVersion: headers.stripeVersion ?? null,
  };
}

/** The address a request came from (the socket's; behind a proxy, the proxy's). */
export function clientAddress(c: Context<ApiEnv>): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'unknown';
}

/** Authenticate the key and resolve `Stripe-Account`; failed authentication is throttled per address. */
export function authenticate(rt: Runtime, throttle: AuthThrottle): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const address = clientAddress(c);
    const wait = throttle.retryAfterMs(address);
    if (wait > 0) {
      const error = new ApiError(
        429,
        'rate_limit_error',
        'Too many requests with an invalid API key from this address: try again later.',
        'rate_limit',
      );
      error.headers['Retry-After'] = String(Math.ceil(wait / 1000));
      throw error;
    }
    let caller: Caller;
    try {
      caller = await resolveCaller(
        rt,
        {
          authorization: c.req.header('authorization'),
          stripeAccount: c.req.header('stripe-account'),
          stripeVersion: c.req.header('stripe-version'),
        },
        c.req.method === 'GET' && c.req.path.startsWith('/v1/events'),
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throttle.recordFailure(address);
      throw error;
    }
    c.set('caller', caller);
    await next();
  };
}

export function maskKey(key: string): string {
  const prefix = key.startsWith('sk_live_') ? 'sk_live_' : key.startsWith('sk_test_') ? 'sk_test_' : '';
  return `${prefix}****${key.slice(-4)}`;
}

/** Stripe replays an idempotent response for 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A key whose request has run this long without a result is free again: its
 * node died mid-request (no API request takes a minute).
 */
export const IDEMPOTENCY_STALE_MS = 60 * 1000;

/**
 * `Idempotency-Key` on POST: the first response (status and body) is replayed
 * for 24 h; the same key with other parameters is an `idempotency_error`; a
 * key whose first request is still running gets 409 (the SDKs retry that).
 * What is saved follows Stripe's rule (`savesIdempotentResult`): nothing for
 * a request refused before it ran, anything once it ran, a 500 included.
 */
export function idempotency(rt: Runtime): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (c.req.method !== 'POST' || !key) return next();
    if (key.length > 255) {
      throw invalid(
        'Idempotency-Key must be at most 255 characters.',
        'idempotency_key_too_long',
        'Idempotency-Key',
      );
    }
    const caller = c.get('caller');
    const scope = sha256(`${caller.keyHash}:${caller.accountId}`);
    const requestHash = sha256(`${c.req.method} ${c.req.path} ${JSON.stringify(c.get('params'))}`);
    const now = rt.clock();
    // Reserved in the database before the request runs, so the same key sent to two nodes at once runs once.
    const reservation = await rt.store.reserveIdempotency(
      { scope, key, requestHash, createdAt: now },
      { staleBefore: now - IDEMPOTENCY_STALE_MS, expiredBefore: now - IDEMPOTENCY_TTL_MS },
    );
    if (reservation.kind === 'existing') {
      const existing = reservation.record;
      if (existing.requestHash !== requestHash) {
        throw new ApiError(
          400,
          'idempotency_error',
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        );
      }
      if (existing.statusCode === IDEMPOTENCY_IN_PROGRESS) {
        throw new ApiError(
          409,
          'idempotency_error',
          'There is currently another in-progress request using this Idempotency-Key. Retry after it completes.',
        );
      }
      return replay(c, existing.statusCode, existing.responseBody);
    }
    let saved = false;
    try {
      await next();
      if (savesIdempotentResult({ status: c.res.status, thrown: c.error })) {
        await rt.store.completeIdempotency(scope, key, c.res.status, await c.res.clone().text());
        saved = true;
      }
    } finally {
      // Refused before it ran (or the result could not be kept): the key is free for the corrected retry.
      if (!saved) await rt.store.releaseIdempotency(scope, key).catch(() => {});
    }
  };
}

function replay(c: Context<ApiEnv>, status: number, body: string): Response {
  c.header('Idempotent-Replayed', 'true');
  c.header('Content-Type', 'application/json');
  return c.body(body, status as 200);
}
