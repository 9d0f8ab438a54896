/**
 * The SQLite store as the server's thread sees it: every operation is posted
 * to the writer thread (worker.ts) and answered from there. Opening waits for
 * the writer synchronously, so a database another server owns is refused by
 * `createSqliteStore` itself, as with the connection in this thread.
 */

import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { StoreError, type StoreErrorCode } from '../errors.js';
import { CHANGES_ENDPOINTS, RoutableCache, resultsChangeEndpoints } from '../routableCache.js';
import type { AttemptResult, EndpointRecord, Store } from '../types.js';
import type { SqliteStoreOptions } from './index.js';
import type { OpenReply, StoreCall, StoreReply, WireError } from './workerProtocol.js';

/** How long the writer may take to open the database before the start fails. */
const OPEN_TIMEOUT_MS = 30_000;

/**
 * The writer's entry point. Under the test runner this module is TypeScript
 * source, which a worker cannot load: it runs the compiled build of the same
 * file instead (`npm test` builds first).
 */
function workerEntry(): URL {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts')
    ? new URL('../../../dist/store/sqlite/worker.js', import.meta.url)
    : new URL('./worker.js', import.meta.url);
}

function fromWire(error: WireError): Error {
  if (error.storeCode) return new StoreError(error.storeCode as StoreErrorCode, error.message);
  const e = new Error(error.message) as Error & { code?: string };
  if (error.code) e.code = error.code;
  if (error.name) e.name = error.name;
  return e;
}

export function createSqliteWorkerStore(options: SqliteStoreOptions): Store {
  const opened = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(workerEntry(), {
    // Only what the writer needs (functions cannot cross threads).
    workerData: {
      options: { path: options.path, ...(options.synchronous ? { synchronous: options.synchronous } : {}) },
      opened,
      openPort: port2,
    },
    transferList: [port2],
  });
  if (Atomics.wait(opened, 0, 0, OPEN_TIMEOUT_MS) === 'timed-out') {
    void worker.terminate();
    throw new Error(
      `The SQLite writer thread did not open ${options.path} within ${OPEN_TIMEOUT_MS / 1000} s`,
    );
  }
  const open = receiveMessageOnPort(port1)?.message as OpenReply | undefined;
  port1.close();
  if (!open?.ok) {
    void worker.terminate();
    throw open ? fromWire(open.error) : new Error('The SQLite writer thread exited while opening');
  }

  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let gone: Error | null = null;
  // The writer keeps the process alive only while an operation waits on it, as a connection in this thread
  // would (a store nobody closed does not hold a finished command open).
  worker.unref();
  worker.on('message', (replies: StoreReply[]) => {
    for (const r of replies) {
      const call = pending.get(r.id);
      if (!call) continue;
      pending.delete(r.id);
      if (r.ok) call.resolve(r.value);
      else call.reject(fromWire(r.error));
    }
    if (pending.size === 0) worker.unref();
  });
  const fail = (error: Error) => {
    gone = error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  worker.on('error', (error) =>
    fail(new StoreError('unavailable', `the SQLite writer thread failed: ${error.message}`)),
  );
  worker.on('exit', () => fail(gone ?? new Error('The store is closed')));

  // The calls made in this turn of the event loop, posted together when it ends.
  let outbox: StoreCall[] = [];
  const flush = () => {
    const calls = outbox;
    outbox = [];
    if (!gone) worker.postMessage(calls);
  };
  const call = (method: string, args: unknown[]): Promise<unknown> => {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      if (outbox.length === 0) setImmediate(flush);
      outbox.push({ id, method, args });
    });
  };

  let closing: Promise<void> | null = null;
  const local: Record<string | symbol, unknown> = {
    engine: 'sqlite',
    // A listener cannot cross threads, and nothing would call it: one server owns the file.
    watchDue: () => () => {},
    close: () => {
      closing ??= (async () => {
        if (!gone) await call('close', []);
        await worker.terminate();
      })();
      return closing;
    },
  };
  const routable = new RoutableCache(options.routableCacheMs ?? 1000, options.clock ?? Date.now);
  local['listRoutableEndpoints'] = (owners: string[]) =>
    routable.get(owners, (o) => call('listRoutableEndpoints', [o]) as Promise<EndpointRecord[]>);
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const operation = (key: string) => {
    if (CHANGES_ENDPOINTS.has(key))
      return (...args: unknown[]) => call(key, args).finally(() => routable.invalidate());
    if (key === 'recordAttempts' || key === 'recordAndClaim')
      return (...args: unknown[]) => {
        const changes = resultsChangeEndpoints(args[0] as AttemptResult[]);
        const done = call(key, args);
        return changes ? done.finally(() => routable.invalidate()) : done;
      };
    return (...args: unknown[]) => call(key, args);
  };
  return new Proxy(local, {
    get(target, key) {
      if (key in target) return target[key];
      // Not a store operation: what `await` and inspection look for.
      if (typeof key === 'symbol' || key === 'then' || key === 'toJSON') return undefined;
      let fn = methods.get(key);
      if (!fn) {
        fn = operation(key);
        methods.set(key, fn);
      }
      return fn;
    },
  }) as unknown as Store;
}
