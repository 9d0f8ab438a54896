/**
 * The SQLite writer thread: owns the connection and runs every store
 * operation posted to it, so a commit's disk sync (FULL syncs the WAL on
 * every publish group) blocks this thread, not the server's event loop.
 * Appends that arrive while a commit runs are group-committed together next.
 */

import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { StoreError } from '../errors.js';
import type { Store } from '../types.js';
import { openSqliteStoreInThread, type SqliteStoreOptions } from './index.js';
import type { OpenReply, StoreCall, StoreReply, WireError } from './workerProtocol.js';

const { options, opened, openPort } = workerData as {
  options: SqliteStoreOptions;
  opened: Int32Array;
  openPort: MessagePort;
};

function wireError(error: unknown): WireError {
  if (error instanceof StoreError) return { message: error.message, storeCode: error.code };
  const e = error as { message?: unknown; code?: unknown; name?: unknown } | null;
  return {
    message: typeof e?.message === 'string' ? e.message : String(error),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.name === 'string' ? { name: e.name } : {}),
  };
}

let store: Store | null = null;
let reply: OpenReply;
try {
  store = openSqliteStoreInThread(options);
  reply = { ok: true };
} catch (error) {
  reply = { ok: false, error: wireError(error) };
}
// The opener waits for this synchronously: a database another server owns is refused at once.
openPort.postMessage(reply);
Atomics.store(opened, 0, 1);
Atomics.notify(opened, 0);
openPort.close();

// The answers ready in this turn of the event loop, posted together when it ends.
let outbox: StoreReply[] = [];
const flush = () => {
  const replies = outbox;
  outbox = [];
  parentPort?.postMessage(replies);
};
const post = (r: StoreReply) => {
  if (outbox.length === 0) setImmediate(flush);
  outbox.push(r);
};

function run(call: StoreCall): void {
  if (!store) {
    post({ id: call.id, ok: false, error: { message: 'The store could not be opened' } });
    return;
  }
  const method = (store as unknown as Record<string, (...args: unknown[]) => unknown>)[call.method];
  if (typeof method !== 'function') {
    post({ id: call.id, ok: false, error: { message: `No store operation '${call.method}'` } });
    return;
  }
  Promise.resolve()
    .then(() => method.apply(store, call.args))
    .then(
      (value) => post({ id: call.id, ok: true, value }),
      (error: unknown) => post({ id: call.id, ok: false, error: wireError(error) }),
    );
}

parentPort?.on('message', (calls: StoreCall[]) => {
  for (const call of calls) run(call);
});
