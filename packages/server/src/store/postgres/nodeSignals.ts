/**
 * Signals between the nodes sharing one PostgreSQL database, by
 * `LISTEN/NOTIFY` on one channel per schema, the payload naming the topic:
 *
 * - `due`: a node stored deliveries nobody has claimed (a publish it could
 *   not take, leases it released); every node's engine claims now instead of
 *   at its next survey. A lost signal costs only that wait.
 * - `keys`, `endpoints`: an API key was revoked, an endpoint changed; every
 *   node drops what it caches of them. Caches are used only while this node
 *   listens (`listening`): while it does not, it could miss a signal, so
 *   every read goes to the database, and a reconnect drops every cache.
 */

import { createHash } from 'node:crypto';
import pg from 'pg';
import { connectionConfig } from './pool.js';

export type SignalTopic = 'due' | 'keys' | 'endpoints';

/** One channel per schema: nodes of another Switchboard in the same database are not woken. */
export const signalChannel = (schema: string): string =>
  `switchboard_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;

/** How long to wait before listening again after the connection was lost. */
const RECONNECT_MS = 1000;

export class NodeSignals {
  private readonly channel: string;
  private readonly watchers = new Map<SignalTopic, Set<() => void>>();
  private client: pg.Client | null = null;
  private connected = false;
  private reconnect: NodeJS.Timeout | null = null;
  private closed = false;
  // Several changes in one tick send one signal per topic.
  private readonly scheduled = new Set<SignalTopic>();

  constructor(
    private readonly connectionString: string,
    private readonly schema: string,
    private readonly send: (channel: string, topic: SignalTopic) => Promise<unknown>,
  ) {
    this.channel = signalChannel(schema);
  }

  /** Whether this node receives signals now: caches may be trusted only then. */
  get listening(): boolean {
    return this.connected;
  }

  /** Call `listener` on every signal of `topic` (and when listening starts again). Returns the unsubscribe. */
  watch(topic: SignalTopic, listener: () => void): () => void {
    let set = this.watchers.get(topic);
    if (!set) {
      set = new Set();
      this.watchers.set(topic, set);
    }
    set.add(listener);
    this.start();
    return () => {
      set.delete(listener);
    };
  }

  /** Listen, if not already (caches call it on first use). */
  start(): void {
    if (!this.client && !this.reconnect && !this.closed) void this.listen();
  }

  /** Tell every node (this one included) after a commit. */
  signal(topic: SignalTopic): void {
    if (this.scheduled.has(topic) || this.closed) return;
    this.scheduled.add(topic);
    setImmediate(() => {
      this.scheduled.delete(topic);
      // Best effort: a node that misses `due` finds the work at its next survey; caches are dropped on reconnect.
      this.send(this.channel, topic).catch(() => {});
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    if (this.reconnect) clearTimeout(this.reconnect);
    this.reconnect = null;
    const client = this.client;
    this.client = null;
    this.connected = false;
    await client?.end().catch(() => {});
  }

  private fire(topic: SignalTopic): void {
    for (const watcher of this.watchers.get(topic) ?? []) watcher();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(connectionConfig(this.connectionString, this.schema));
    this.client = client;
    const retry = () => {
      if (this.client !== client) return;
      this.client = null;
      this.connected = false;
      client.end().catch(() => {});
      if (this.closed || this.reconnect) return;
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
      const topic = message.payload as SignalTopic;
      if (topic === 'due' || topic === 'keys' || topic === 'endpoints') this.fire(topic);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
      if (this.client !== client) return;
      this.connected = true;
      // Signals may have been missed while not listening: every topic's watchers act now.
      for (const topic of ['keys', 'endpoints', 'due'] as const) this.fire(topic);
    } catch {
      retry();
    }
  }
}
