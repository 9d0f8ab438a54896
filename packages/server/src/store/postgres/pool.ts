import pg from 'pg';
import { StoreError } from '../errors.js';

export type PoolClient = pg.PoolClient;
export type Queryable = pg.Pool | pg.PoolClient;

const INT8_OID = 20;

// BIGINT holds millisecond times and seqs, all below 2^53: numbers, not strings.
// Set on this package's pools only, so other pg users in the process keep the default.
const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;

/**
 * Connection settings that put every connection of the pool in `schema`, with
 * `settings` beside it: they go in the startup packet (`options=-c
 * search_path=… -c name=value`), so they are in force before the first query,
 * with no extra round trip. Options the URL already carries are kept.
 */
export function connectionConfig(
  connectionString: string,
  schema: string,
  settings: Readonly<Record<string, string>> = {},
): pg.PoolConfig {
  // In `options`, backslash and whitespace are special; the identifier is quoted for the server.
  const startupOptions = [
    `-c search_path=${pg.escapeIdentifier(schema).replace(/[\\\s]/g, (c) => `\\${c}`)}`,
    ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`),
  ].join(' ');
  let url: URL | null = null;
  try {
    url = new URL(connectionString);
  } catch {
    // Not a URL (e.g. a socket path): pg parses it, and `options` below applies.
  }
  // Options in the URL would override the config's: merge them there.
  if (url?.searchParams.has('options')) {
    url.searchParams.set('options', `${url.searchParams.get('options')} ${startupOptions}`);
    return { connectionString: url.toString() };
  }
  return { connectionString, options: startupOptions };
}

/**
 * A pool whose every connection works in `schema`, with `settings` (plain
 * names and values, e.g. `{ synchronous_commit: 'off' }`) in force from the start.
 */
export function createPool(
  connectionString: string,
  schema: string,
  poolSize: number | undefined,
  settings: Readonly<Record<string, string>> = {},
): pg.Pool {
  const pool = new pg.Pool({
    ...connectionConfig(connectionString, schema, settings),
    max: poolSize ?? 10,
    types: { getTypeParser },
  });
  // An idle client whose server went away: the pool drops it, and the next
  // query reports the loss. Without a listener this error would end the process.
  pool.on('error', () => {});
  return pool;
}

/** The server cannot be reached now: refused, reset, shutting down or restarting (SQLSTATE 57P, 08). */
export function isPostgresUnavailable(err: unknown): boolean {
  // pg reports a connection the server closed mid-query (a crash, a restart) with no code, only this message.
  if (err instanceof Error && err.message.startsWith('Connection terminated')) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code) ||
      code.startsWith('57P') ||
      code.startsWith('08'))
  );
}

/** PostgreSQL's unique_violation. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505';
}

/** Unique violations become `duplicate` StoreErrors; anything else passes through. */
export function mapWriteError(err: unknown, what: string): unknown {
  return isUniqueViolation(err) ? new StoreError('duplicate', `${what} already exists`) : err;
}

// deadlock_detected, serialization_failure: nothing was written, running again is safe.
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Run `fn`, again (up to 3 more times) when PostgreSQL aborted it for a
 * deadlock: batches of outcomes and endpoint changes may meet on the same rows
 * in another order.
 */
export async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (attempt >= 4 || typeof code !== 'string' || !RETRYABLE.has(code)) throw err;
    }
  }
}

/**
 * A client checked out of `pool`, for statements that must share a connection.
 * While a client is checked out, pg-pool stops listening for its `error`
 * events; if the server goes away then (a crash, a restart, a failover), pg
 * emits `error` on the client, and with no listener that ends the process.
 * The listener here takes it: the statement in progress fails on its own, and
 * `release()` then destroys the client instead of returning it to the pool.
 */
export async function checkOut(pool: pg.Pool): Promise<{ client: PoolClient; release(error?: Error): void }> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost ??= error;
  };
  client.on('error', onError);
  return {
    client,
    release(error) {
      client.off('error', onError);
      // The pool listens again from here on.
      client.release(error ?? lost);
    },
  };
}

/** Run `fn` in a transaction on one client, retried when aborted for a deadlock. */
export function transaction<T>(pool: pg.Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return retrying(async () => {
    const { client, release } = await checkOut(pool);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw err;
    } finally {
      // A client that could not roll back (or lost its connection) is destroyed rather than reused.
      release(broken);
    }
  });
}

/** A named statement: pg prepares it once per connection, so later runs skip parsing and planning. */
export function prepared(name: string, text: string, values: unknown[]): pg.QueryConfig<unknown[]> {
  return { name, text, values };
}
