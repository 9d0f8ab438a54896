// Catch-up through the Events API: after downtime, a lost endpoint or a
// rotated secret, list the events the receiver missed and put them in the
// inbox. The same API serves Stripe and Switchboard. Global fetch only.
import type { WebhookEvent } from '../events.js';
import type { Inbox } from './inbox.js';

/** Where to resume: after a known event, or from a time (Unix seconds, inclusive). */
export type CatchUpSince = { eventId: string } | { created: number };

export interface CatchUpOptions {
  /** Base URL of the API (default `https://api.stripe.com`), e.g. a Switchboard server's URL. */
  apiBase?: string;
  /** A secret key (`sk_test_…`/`sk_live_…`): its mode decides which events are listed. */
  apiKey: string;
  /**
   * List a connected account's events (`Stripe-Account`). Connect events live
   * in the connected account, so a platform catches up once per account.
   */
  stripeAccount?: string;
  /** Sent as `Stripe-Version`, when given. */
  apiVersion?: string;
  /** Where the events go; `accept` dedupes, `has` finds where a walk can stop. */
  inbox: Pick<Inbox, 'accept' | 'has'>;
  /**
   * Where to start. Without it the walk goes back from the newest event to
   * the first one already in the inbox.
   */
  since?: CatchUpSince;
  /** Only these event types (at most 20; `account.*` wildcards allowed). */
  types?: string[];
  /**
   * Also list `delivery_success=false` (events some endpoint has not
   * acknowledged yet, however old) and take those missing from the inbox.
   * Default true.
   */
  undelivered?: boolean;
  /** Events per request, 1–100 (default 100). */
  pageSize?: number;
  /** A fetch implementation (default the global one). */
  fetch?: typeof fetch;
}

export interface CatchUpResult {
  /** Distinct events read from the API. */
  listed: number;
  /** Of those, the ones the inbox did not have. */
  stored: number;
  /** Of those, the ones it already had. */
  duplicates: number;
  /** Requests made. */
  pages: number;
  /** The newest event seen: pass `{ eventId: lastEventId }` as `since` next time. */
  lastEventId: string | null;
}

/** The API refused a list request; `status` and `code` are the API's. */
export class CatchUpError extends Error {
  override readonly name = 'CatchUpError';
  readonly status: number;
  readonly code: string | undefined;

  constructor(message: string, status: number, code?: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

interface ListPage {
  data: WebhookEvent<unknown>[];
  has_more: boolean;
}

const isEvent = (value: unknown): value is WebhookEvent<unknown> => {
  const e = value as { id?: unknown; type?: unknown; created?: unknown } | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.id === 'string' &&
    typeof e.type === 'string' &&
    typeof e.created === 'number'
  );
};

/**
 * Lists the events the inbox is missing from `GET /v1/events` and feeds
 * them to `inbox.accept`, oldest first. Safe to run at any time and
 * repeatedly: the inbox dedupes on the event id.
 *
 * - `since: { eventId }` walks forward from that event (`ending_before`);
 * - `since: { created }` lists everything created since then;
 * - without `since`, it walks back from the newest event to the first one
 *   the inbox already holds.
 *
 * Then, unless `undelivered: false`, it also takes every event listed by
 * `delivery_success=false` that the inbox lacks.
 *
 * @example
 * const result = await catchUp({ apiBase: 'http://127.0.0.1:12111', apiKey: process.env.SK!, inbox });
 * // later, from where it stopped
 * await catchUp({ apiKey, inbox, since: { eventId: result.lastEventId! } });
 */
export async function catchUp(options: CatchUpOptions): Promise<CatchUpResult> {
  if (options === null || typeof options !== 'object') throw new TypeError('catchUp() needs options.');
  const { apiKey, stripeAccount, apiVersion, inbox, since, types } = options;
  if (typeof apiKey !== 'string' || apiKey === '') throw new TypeError('catchUp(): apiKey is required.');
  if (inbox === null || typeof inbox !== 'object' || typeof inbox.accept !== 'function') {
    throw new TypeError('catchUp(): inbox must be an inbox from createInbox().');
  }
  if (types !== undefined && (!Array.isArray(types) || types.length === 0 || types.length > 20)) {
    throw new TypeError('catchUp(): types must list 1 to 20 event types.');
  }
  const pageSize = options.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
    throw new TypeError('catchUp(): pageSize must be a whole number from 1 to 100.');
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new TypeError('catchUp(): no fetch available; pass one.');
  const base = (options.apiBase ?? 'https://api.stripe.com').replace(/\/+$/, '');

  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  if (stripeAccount !== undefined) headers['stripe-account'] = stripeAccount;
  if (apiVersion !== undefined) headers['stripe-version'] = apiVersion;

  let pages = 0;
  const list = async (params: Record<string, string>): Promise<ListPage> => {
    const query = new URLSearchParams({ limit: String(pageSize), ...params });
    types?.forEach((type, i) => {
      query.set(`types[${i}]`, type);
    });
    pages += 1;
    const response = await doFetch(`${base}/v1/events?${query}`, { headers });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = (body as { error?: { message?: unknown; code?: unknown } } | undefined)?.error;
      const message = typeof error?.message === 'string' ? error.message : text.slice(0, 200);
      throw new CatchUpError(
        `GET /v1/events answered ${response.status}: ${message}`,
        response.status,
        typeof error?.code === 'string' ? error.code : undefined,
      );
    }
    const page = body as Partial<ListPage> | undefined;
    if (!Array.isArray(page?.data) || !page.data.every(isEvent)) {
      throw new CatchUpError('GET /v1/events did not answer with a list of events.', response.status);
    }
    return { data: page.data, has_more: page.has_more === true };
  };

  // Newest first, following starting_after, until `stop` says so or the list ends.
  const walkBack = async (
    params: Record<string, string>,
    stop: (event: WebhookEvent<unknown>) => Promise<boolean>,
  ): Promise<WebhookEvent<unknown>[]> => {
    const found: WebhookEvent<unknown>[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await list(cursor === undefined ? params : { ...params, starting_after: cursor });
      for (const event of page.data) {
        if (await stop(event)) return found;
        found.push(event);
      }
      const last = page.data[page.data.length - 1];
      if (!page.has_more || last === undefined) return found;
      cursor = last.id;
    }
  };

  // The main walk, oldest first.
  let recent: WebhookEvent<unknown>[];
  let lastEventId: string | null = null;
  if (since !== undefined && 'eventId' in since) {
    if (typeof since.eventId !== 'string' || since.eventId === '') {
      throw new TypeError('catchUp(): since.eventId must be an event id.');
    }
    // ending_before gives the events just after the cursor, newest first
    // within the page; the newest of a page is the next cursor.
    recent = [];
    lastEventId = since.eventId;
    let cursor = since.eventId;
    for (;;) {
      const page = await list({ ending_before: cursor });
      const newest = page.data[0];
      if (newest === undefined) break;
      recent.push(...[...page.data].reverse());
      cursor = newest.id;
      if (!page.has_more) break;
    }
  } else if (since !== undefined) {
    if (typeof since.created !== 'number' || !Number.isFinite(since.created)) {
      throw new TypeError('catchUp(): since.created must be Unix seconds.');
    }
    recent = (
      await walkBack({ 'created[gte]': String(Math.floor(since.created)) }, async () => false)
    ).reverse();
  } else {
    recent = (
      await walkBack({}, async (event) => {
        if (!(await inbox.has(event.id))) return false;
        // The first known event: everything older is taken to be known too
        // (the undelivered pass below catches what was not).
        lastEventId = event.id;
        return true;
      })
    ).reverse();
  }
  const newestRecent = recent[recent.length - 1];
  if (newestRecent !== undefined) lastEventId = newestRecent.id;

  // Events some endpoint has not acknowledged, whatever their age. Those in
  // the main walk are already taken; the rest are older, so they go first.
  let older: WebhookEvent<unknown>[] = [];
  if (options.undelivered !== false) {
    const seen = new Set(recent.map((event) => event.id));
    const undelivered = await walkBack({ delivery_success: 'false' }, async () => false);
    older = undelivered.filter((event) => !seen.has(event.id)).reverse();
  }

  const result: CatchUpResult = { listed: 0, stored: 0, duplicates: 0, pages, lastEventId };
  const fed = new Set<string>();
  for (const event of [...older, ...recent]) {
    if (fed.has(event.id)) continue;
    fed.add(event.id);
    // The API's JSON of the event stands in for the webhook body.
    const { duplicate } = await inbox.accept(JSON.stringify(event), event);
    if (duplicate) result.duplicates += 1;
    else result.stored += 1;
  }
  result.listed = fed.size;
  result.pages = pages;
  return result;
}
