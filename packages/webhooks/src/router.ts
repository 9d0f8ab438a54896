import type { ConnectEvent, EventOfType, OpenEnum, RecommendedConnectEventType } from './connectEvents.js';
import type { WebhookEvent } from './events.js';

/**
 * Which events handlers act on, by `livemode`. A live Connect endpoint also
 * receives the test events of connected accounts, so a production receiver
 * usually wants `'live-only'`.
 */
export type LivemodePolicy = 'live-only' | 'test-only' | 'both';

/** What a handler knows about an event besides the event itself. */
export interface WebhookContext {
  /** The connected account the event belongs to (`acct_…`), or null for the platform's own events. */
  account: string | null;
  livemode: boolean;
  /** True when the event belongs to a connected account (it has `account`). */
  isConnect: boolean;
}

export type WebhookHandler<E> = (event: E, ctx: WebhookContext) => unknown;

export interface HandlerOptions {
  /** Overrides the router's policy for this handler. */
  livemode?: LivemodePolicy;
}

export interface WebhookRouterOptions {
  /**
   * Required, so the choice is made on purpose: with `'both'`, test events
   * sent to a live endpoint would move real money or send real emails.
   */
  livemode: LivemodePolicy;
}

/** Why no handler acted on an event. */
export type SkipReason = 'livemode' | 'no_handler';

export interface DispatchResult {
  /** True when at least one handler ran. */
  handled: boolean;
  /** Set when no handler ran: none matched the type, or all that matched were excluded by livemode. */
  skipped?: SkipReason;
  /** What the handlers that ran returned (awaited), in registration order. */
  results: unknown[];
}

/** An event type to register for: one of the recommended ones (offered for completion) or any other. */
export type EventTypeName = OpenEnum<RecommendedConnectEventType>;

export interface WebhookRouter {
  /**
   * Registers a handler for one type or several; `event.data.object` is
   * typed by the type. Handlers run in registration order.
   *
   * @example
   * router.on('payout.failed', async (event, ctx) => {
   *   await alertOwner(ctx.account, event.data.object.failure_code);
   * });
   */
  on<T extends EventTypeName>(
    type: T | readonly T[],
    handler: WebhookHandler<EventOfType<T>>,
    options?: HandlerOptions,
  ): WebhookRouter;
  /** Registers a handler for every event, e.g. to store it in an inbox. */
  onAny(handler: WebhookHandler<ConnectEvent>, options?: HandlerOptions): WebhookRouter;
  /**
   * Runs the handlers for a verified event, one after the other. An error
   * from a handler stops the dispatch and propagates, so the caller can
   * answer 500 and the sender retries; handlers that already ran run again
   * then, so they must be idempotent (senders also deliver duplicates).
   */
  dispatch(event: WebhookEvent<unknown>): Promise<DispatchResult>;
}

interface Registration {
  /** null for `onAny`. */
  types: ReadonlySet<string> | null;
  handler: WebhookHandler<never>;
  livemode: LivemodePolicy | undefined;
}

const POLICIES: readonly string[] = ['live-only', 'test-only', 'both'];

function checkPolicy(value: unknown, where: string): LivemodePolicy {
  if (typeof value !== 'string' || !POLICIES.includes(value)) {
    throw new TypeError(`${where} must be 'live-only', 'test-only' or 'both', got ${JSON.stringify(value)}.`);
  }
  return value as LivemodePolicy;
}

function allows(policy: LivemodePolicy, livemode: unknown): boolean {
  if (policy === 'both') return true;
  // Strict comparison: an event without a boolean livemode matches neither mode.
  return policy === 'live-only' ? livemode === true : livemode === false;
}

/** The context handlers receive for an event. */
export function contextOf(event: WebhookEvent<unknown>): WebhookContext {
  const account = typeof event.account === 'string' && event.account !== '' ? event.account : null;
  return { account, livemode: event.livemode === true, isConnect: account !== null };
}

/**
 * A router from event types to handlers, with a livemode policy. Events the
 * policy excludes are acknowledged (the dispatch result says why) but no
 * handler runs.
 *
 * @example
 * const router = createWebhookRouter({ livemode: 'live-only' })
 *   .on('account.updated', (event, ctx) => syncAccount(ctx.account, event.data.object))
 *   .on('payout.failed', (event) => flagPayout(event.data.object.id), { livemode: 'both' });
 * const { handled, skipped } = await router.dispatch(event);
 */
export function createWebhookRouter(options: WebhookRouterOptions): WebhookRouter {
  if (options === null || typeof options !== 'object') {
    throw new TypeError("createWebhookRouter() needs options such as { livemode: 'live-only' }.");
  }
  const policy = checkPolicy(options.livemode, 'The router option livemode');
  const registrations: Registration[] = [];

  const register = (types: ReadonlySet<string> | null, handler: unknown, handlerOptions: unknown) => {
    if (typeof handler !== 'function') throw new TypeError('The webhook handler must be a function.');
    let livemode: LivemodePolicy | undefined;
    if (handlerOptions !== undefined) {
      if (handlerOptions === null || typeof handlerOptions !== 'object') {
        throw new TypeError('Handler options must be an object like { livemode }.');
      }
      const value = (handlerOptions as HandlerOptions).livemode;
      if (value !== undefined) livemode = checkPolicy(value, 'The handler option livemode');
    }
    registrations.push({ types, handler: handler as WebhookHandler<never>, livemode });
  };

  const router: WebhookRouter = {
    on(type, handler, handlerOptions) {
      const list: readonly unknown[] = Array.isArray(type) ? type : [type];
      if (list.length === 0) throw new TypeError('Pass at least one event type.');
      for (const item of list) {
        if (typeof item !== 'string' || item === '') {
          throw new TypeError(`Event types are non-empty strings, got ${JSON.stringify(item)}.`);
        }
        if (item === '*')
          throw new TypeError("Use router.onAny(handler) to handle every event, not on('*').");
      }
      register(new Set(list as string[]), handler, handlerOptions);
      return router;
    },
    onAny(handler, handlerOptions) {
      register(null, handler, handlerOptions);
      return router;
    },
    async dispatch(event) {
      if (event === null || typeof event !== 'object' || typeof event.type !== 'string') {
        throw new TypeError('dispatch() expects a webhook event: an object with a string type.');
      }
      const matching = registrations.filter((r) => r.types === null || r.types.has(event.type));
      if (matching.length === 0) return { handled: false, skipped: 'no_handler', results: [] };
      const ctx = contextOf(event);
      const allowed = matching.filter((r) => allows(r.livemode ?? policy, event.livemode));
      if (allowed.length === 0) return { handled: false, skipped: 'livemode', results: [] };
      const results: unknown[] = [];
      for (const registration of allowed) {
        // Each handler gets its own copy of the context so one cannot change what the next sees.
        results.push(await (registration.handler as WebhookHandler<unknown>)(event, { ...ctx }));
      }
      return { handled: true, results };
    },
  };
  return router;
}
