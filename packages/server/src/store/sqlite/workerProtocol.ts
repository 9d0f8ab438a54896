/** The messages between the server's thread and the SQLite writer thread (worker.ts, workerClient.ts). */

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
