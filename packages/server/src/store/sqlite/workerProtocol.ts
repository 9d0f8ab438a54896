/**
 * The messages between the server's thread and the SQLite writer thread (worker.ts, workerClient.ts).
 * Each side posts what it has gathered in one turn of its event loop as one message, an array: a message
 * costs about as much to post as a small copy, and a busy server makes many calls per turn.
 */

export interface StoreCall {
  id: number;
  method: string;
  args: unknown[];
}

/** An error as it crosses threads: a StoreError keeps its code, a driver error its `code`. */
export interface WireError {
  message: string;
  storeCode?: string;
  code?: string;
  name?: string;
}

export type StoreReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WireError };

export type OpenReply = { ok: true } | { ok: false; error: WireError };
