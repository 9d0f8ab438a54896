// The inbox: webhook requests only store the event (fast, deduplicated, so
// the sender gets its 2xx once the event is durable), and a worker runs the
// handlers from the store with retries, a dead letter and an ordering guard.
// No node: imports: this module is exported from the Web entry point too.
import type { ConnectEvent } from '../connectEvents.js';
import type { WebhookEvent } from '../events.js';
import { contextOf, type WebhookContext, type WebhookRouter } from '../router.js';
import type { InboxAcceptor, InboxRecord, InboxStore, Watermark } from './types.js';

/** What a handler run from the inbox knows besides the event. */
export interface InboxHandlerContext extends WebhookContext {
  /** 1 on the first attempt, 2 on the first retry, … */
  attempt: number;
  /** When the event was stored (milliseconds). */
  receivedAt: number;
}

export type InboxHandler = (event: ConnectEvent, ctx: InboxHandlerContext) => unknown;

/** What `onTie` learns about the event it decides on. */
export interface TieContext {
  /** The ordering key of the object. */
  key: string;
  /** The last applied event of that object, created in the same second. */
  watermark: Watermark;
  attempt: number;
}

/** `onTie`'s answer: apply the event (the default) or mark it `skipped`. */
export type TieDecision = 'apply' | 'skip';

export interface InboxOptions {
  store: InboxStore;
  /** Dispatches each event; exactly one of `router` and `handler`. */
  router?: WebhookRouter;
  /** Called with each event; exactly one of `router` and `handler`. */
  handler?: InboxHandler;
  /** Milliseconds since the epoch (default `Date.now`); tests pass a manual clock. */
  clock?: () => number;
  /**
   * Waits before each retry, in milliseconds: a failed attempt n is retried
   * after `delaysMs[n - 1]`; once they are used up the event is `dead`.
   * Default {@link DEFAULT_RETRY_DELAYS_MS}.
   */
  retry?: { delaysMs: number[] };
  /**
   * The object an event is about, for the ordering guard; null leaves the
   * event unguarded. Default {@link defaultOrderingKey}. Pass `null` to turn
   * the guard off.
   */
  orderingKey?: ((event: ConnectEvent) => string | null) | null;
  /**
   * Called for an event created in the same second as the last applied event
   * of its object, when the order between them is unknown (`created` has a
   * one-second resolution). Typically re-fetches the object from the API.
   * Return `'skip'` to mark the event `skipped`; anything else applies it.
   */
  onTie?: (
    event: ConnectEvent,
    ctx: TieContext,
  ) => TieDecision | void | Promise<TieDecision | undefined> | Promise<void>;
  /** Events claimed per `runOnce()` (default 10). */
  batchSize?: number;
  /** How long a claim holds an event before another worker may take it over (default 5 minutes). */
  leaseMs?: number;
  /** Pause between polls of the worker started by `start()` when idle (default 1000 ms). */
  pollIntervalMs?: number;
  /** Handler failures and worker errors, for logging (default `console.error`). */
  onError?: (error: unknown, info: InboxErrorInfo) => void;
}

export interface InboxErrorInfo {
  /** `handler`: an event's attempt failed; `worker`: the store failed. */
  phase: 'handler' | 'worker';
  eventId?: string;
  /** After a handler failure: `failed` (a retry is scheduled) or `dead`. */
  status?: 'failed' | 'dead';
}

/** What one `runOnce()` did. */
export interface InboxRunResult {
  claimed: number;
  /** Applied (or deliberately ignored by the router). */
  done: number;
  /** Dropped by the ordering guard. */
  skipped: number;
  /** Failed with a retry scheduled. */
  retried: number;
  /** Failed for the last time. */
  dead: number;
  /** Lost to another worker after the lease ran out, or not settled because the store failed. */
  lost: number;
}

export interface Inbox extends InboxAcceptor {
  readonly store: InboxStore;
  /**
   * Stores a verified event unless its id is already stored. Resolves once
   * the event is durable, so a receiver can answer 2xx then.
   */
  accept(rawBody: string | Uint8Array, event: WebhookEvent<unknown>): Promise<{ duplicate: boolean }>;
  /** True when an event with this id is stored, whatever its status. */
  has(id: string): Promise<boolean>;
  /** Claims the due events and runs them, one after the other, oldest `created` first. */
  runOnce(): Promise<InboxRunResult>;
  /** Starts a polling worker (runOnce in a loop). */
  start(): void;
  /** Stops the worker; resolves when the run in progress has finished. */
  stop(): Promise<void>;
}

/** Retry waits by default: 10 s, 1 min, 5 min, 30 min, 2 h, 6 h (seven attempts over about 9 hours). */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  10_000, 60_000, 300_000, 1_800_000, 7_200_000, 21_600_000,
]);

/**
 * The default ordering key: `account:object-type:object-id`, e.g.
 * `acct_1:account:acct_1` for `account.updated`, or null when `data.object`
 * has no id (`balance.available`).
 *
 * @example
 * defaultOrderingKey(event); // 'acct_1Nv0:payout:po_1Nv1'
 */
export function defaultOrderingKey(event: WebhookEvent<unknown>): string | null {
  const object = event.data?.object;
  if (object === null || typeof object !== 'object') return null;
  const { id, object: kind } = object as { id?: unknown; object?: unknown };
  if (typeof id !== 'string' || id === '') return null;
  return `${event.account ?? ''}:${typeof kind === 'string' ? kind : ''}:${id}`;
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(
      `createInbox(): ${name} must be a positive number of ${name === 'batchSize' ? 'events' : 'milliseconds'}.`,
    );
  }
  return value;
}

function checkEvent(event: unknown): asserts event is WebhookEvent<unknown> {
  const e = event as Partial<WebhookEvent<unknown>> | null;
  if (
    e === null ||
    typeof e !== 'object' ||
    typeof e.id !== 'string' ||
    e.id === '' ||
    typeof e.type !== 'string' ||
    typeof e.created !== 'number' ||
    !Number.isFinite(e.created)
  ) {
    throw new TypeError('The inbox accepts events: objects with a string id and type and a numeric created.');
  }
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/**
 * An inbox over a store. Webhook requests call `accept()`; a worker
 * (`start()`, or `runOnce()` from a scheduler of your own) runs the handlers.
 *
 * Ordering guard: for events with an ordering key, an event whose `created`
 * is older than the last applied event of its object is marked `skipped`
 * (its snapshot is stale); one from the same second goes through `onTie`
 * (applied by default); a newer one is applied and becomes the watermark.
 *
 * @example
 * const store = createSqliteInbox(new Database('app.db'));
 * await store.migrate();
 * const inbox = createInbox({ store, router, onTie: (event) => refetchAccount(event.account) });
 * inbox.start();
 * app.post('/webhooks', createExpressWebhookMiddleware({ secret, inbox }));
 */
export function createInbox(options: InboxOptions): Inbox {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('createInbox() needs options: { store, router } or { store, handler }.');
  }
  const { store, router, handler, onTie, onError } = options;
  if (store === null || typeof store !== 'object' || typeof store.claim !== 'function') {
    throw new TypeError('createInbox(): store must be an InboxStore, e.g. from createSqliteInbox().');
  }
  if ((router === undefined) === (handler === undefined)) {
    throw new TypeError('createInbox(): pass exactly one of router or handler.');
  }
  if (router !== undefined && typeof router.dispatch !== 'function') {
    throw new TypeError('createInbox(): router must be a router from createWebhookRouter().');
  }
  if (handler !== undefined && typeof handler !== 'function') {
    throw new TypeError('createInbox(): handler must be a function.');
  }
  if (onTie !== undefined && typeof onTie !== 'function') {
    throw new TypeError('createInbox(): onTie must be a function.');
  }
  if (onError !== undefined && typeof onError !== 'function') {
    throw new TypeError('createInbox(): onError must be a function.');
  }
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw new TypeError('createInbox(): clock must return milliseconds.');
  const delays = options.retry?.delaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  if (!Array.isArray(delays) || !delays.every((d) => typeof d === 'number' && Number.isFinite(d) && d >= 0)) {
    throw new TypeError('createInbox(): retry.delaysMs must be a list of waits in milliseconds (0 or more).');
  }
  const orderingKey = options.orderingKey === undefined ? defaultOrderingKey : options.orderingKey;
  if (orderingKey !== null && typeof orderingKey !== 'function') {
    throw new TypeError('createInbox(): orderingKey must be a function or null.');
  }
  const batchSize = Math.floor(positive(options.batchSize, 'batchSize', 10));
  const leaseMs = positive(options.leaseMs, 'leaseMs', 5 * 60_000);
  const pollIntervalMs = positive(options.pollIntervalMs, 'pollIntervalMs', 1000);

  const report = (error: unknown, info: InboxErrorInfo) => {
    if (onError === undefined) {
      console.error(
        info.eventId === undefined
          ? 'Webhook inbox worker error:'
          : `Webhook inbox: event ${info.eventId} failed (${info.status ?? info.phase}):`,
        error,
      );
      return;
    }
    try {
      onError(error, info);
    } catch {
      // A failing logger must not stop the worker.
    }
  };

  /** Runs the handler or router; returns the outcome word stored with the event. */
  const apply = async (event: ConnectEvent, record: InboxRecord): Promise<string> => {
    if (router !== undefined) {
      const result = await router.dispatch(event);
      return result.handled ? 'handled' : (result.skipped ?? 'no_handler');
    }
    const ctx: InboxHandlerContext = {
      ...contextOf(event),
      attempt: record.attempts,
      receivedAt: record.receivedAt,
    };
    await (handler as InboxHandler)(event, ctx);
    return 'handled';
  };

  type Settled = 'done' | 'skipped' | 'retried' | 'dead' | 'lost';

  const settle = async (record: InboxRecord, error: unknown): Promise<Settled> => {
    // attempts already counts this attempt, so attempt n waits delays[n - 1].
    const delay = delays[record.attempts - 1];
    const next = delay === undefined ? null : clock() + delay;
    const failed = await store.fail(record.id, messageOf(error), next, record.leaseToken ?? undefined);
    if (!failed) return 'lost';
    report(error, { phase: 'handler', eventId: record.id, status: next === null ? 'dead' : 'failed' });
    return next === null ? 'dead' : 'retried';
  };

  const processRecord = async (record: InboxRecord): Promise<Settled> => {
    const lease = record.leaseToken ?? undefined;
    let event: ConnectEvent;
    try {
      const parsed: unknown = JSON.parse(record.body);
      checkEvent(parsed);
      event = parsed as ConnectEvent;
    } catch (error) {
      // Retrying cannot fix a body that does not parse.
      const dead = await store.fail(
        record.id,
        `The stored body is not an event: ${messageOf(error)}`,
        null,
        lease,
      );
      return dead ? 'dead' : 'lost';
    }
    try {
      const key = orderingKey === null ? null : orderingKey(event);
      if (key !== null) {
        const mark = await store.watermark(key);
        let skip: string | null = null;
        if (mark !== null && event.created < mark.created) {
          skip = 'older_than_watermark';
        } else if (mark !== null && event.created === mark.created && mark.eventId !== event.id && onTie) {
          const decision = await onTie(event, { key, watermark: mark, attempt: record.attempts });
          if (decision === 'skip') skip = 'tie_skipped';
        }
        if (skip !== null) {
          const { completed } = await store.complete(record.id, {
            status: 'skipped',
            now: clock(),
            outcome: skip,
            ...(lease === undefined ? {} : { lease }),
          });
          return completed ? 'skipped' : 'lost';
        }
      }
      const outcome = await apply(event, record);
      const { completed } = await store.complete(record.id, {
        status: 'done',
        now: clock(),
        outcome,
        ...(lease === undefined ? {} : { lease }),
        ...(key === null ? {} : { watermark: { key, created: event.created, eventId: event.id } }),
      });
      return completed ? 'done' : 'lost';
    } catch (error) {
      return settle(record, error);
    }
  };

  const runOnce = async (): Promise<InboxRunResult> => {
    const records = await store.claim(clock(), batchSize, leaseMs);
    const result: InboxRunResult = {
      claimed: records.length,
      done: 0,
      skipped: 0,
      retried: 0,
      dead: 0,
      lost: 0,
    };
    // One after the other: the ordering guard compares each event with the
    // watermark the previous one left.
    for (const record of records) {
      let settled: Settled;
      try {
        settled = await processRecord(record);
      } catch (error) {
        // The store failed while settling: the lease runs out and the event is claimed again.
        report(error, { phase: 'worker', eventId: record.id });
        settled = 'lost';
      }
      result[settled] += 1;
    }
    return result;
  };

  // The polling worker. Timers exist only between start() and stop().
  let running = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current: Promise<void> | null = null;
  let kicked = false;

  const schedule = (ms: number) => {
    if (!running) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      current = tick();
    }, ms);
  };
  const tick = async () => {
    kicked = false;
    let full = false;
    try {
      full = (await runOnce()).claimed >= batchSize;
    } catch (error) {
      report(error, { phase: 'worker' });
    }
    current = null;
    // A full batch or an event accepted meanwhile: go again at once.
    schedule(full || kicked ? 0 : pollIntervalMs);
  };

  return {
    store,
    async accept(rawBody, event) {
      checkEvent(event);
      const text = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
      const result = await store.receive(text, event, clock());
      if (running && !result.duplicate) {
        if (current === null) schedule(0);
        else kicked = true;
      }
      return result;
    },
    async has(id) {
      return (await store.get(id)) !== null;
    },
    runOnce,
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await current;
    },
  };
}
