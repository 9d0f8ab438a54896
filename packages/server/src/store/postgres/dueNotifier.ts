/**
 * Due-work notifications between the nodes sharing one PostgreSQL database:
 * a node that stores deliveries nobody has claimed (a publish it could not
 * take, leases it released) sends `pg_notify` after the commit, and every
 * node's listener wakes its delivery engine, so an idle node picks the work
 * up in milliseconds instead of at its next survey. A lost notification costs
 * only that wait: the survey still finds the work.
 */

import { createHash } from 'node:crypto';
import pg from 'pg';
import { connectionConfig } from './pool.js';

/** One channel per schema: nodes of another Switchboard in the same database are not woken. */
export const dueChannel = (schema: string): string =>
  `switchboard_due_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;

/** How long to wait before listening again after the connection was lost. */
const RECONNECT_MS = 1000;

export class DueNotifier {
  private readonly channel: string;
  private readonly watchers = new Set<() => void>();
  private client: pg.Client | null = null;
  private reconnect: NodeJS.Timeout | null = null;
  private closed = false;
  // Several commits in one tick send one notification.
  private notifyScheduled = false;

  constructor(
    private readonly connectionString: string,
    private readonly schema: string,
    private readonly send: (channel: string) => Promise<unknown>,
  ) {
    this.channel = dueChannel(schema);
  }

  /** Call `listener` whenever some node says work is due. Returns the unsubscribe. */
  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    if (!this.client && !this.reconnect) void this.listen();
    return () => {
      this.watchers.delete(listener);
      if (this.watchers.size === 0) this.stopListening();
    };
  }

  /** Tell every node (this one included) that unclaimed work was just committed. */
  notify(): void {
    if (this.notifyScheduled || this.closed) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      // Best effort: a node that misses it finds the work at its next survey.
      this.send(this.channel).catch(() => {});
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    this.stopListening();
  }

  private stopListening(): void {
    if (this.reconnect) clearTimeout(this.reconnect);
    this.reconnect = null;
    const client = this.client;
    this.client = null;
    client?.end().catch(() => {});
  }

  private async listen(): Promise<void> {
    if (this.closed || this.watchers.size === 0) return;
    const client = new pg.Client(connectionConfig(this.connectionString, this.schema));
    this.client = client;
    const retry = () => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => {});
      if (this.closed || this.watchers.size === 0 || this.reconnect) return;
      this.reconnect = setTimeout(() => {
        this.reconnect = null;
        void this.listen();
      }, RECONNECT_MS);
      this.reconnect.unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (message) => {
      if (message.channel !== this.channel) return;
      for (const watcher of this.watchers) watcher();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
      // A listener that was down may have missed notifications: whoever watches looks now.
      for (const watcher of this.watchers) watcher();
    } catch {
      retry();
    }
  }
}
