/**
 * The storage contract. Both engines (SQLite and PostgreSQL) implement it and
 * pass one conformance suite (packages/server/test/store/conformance.ts).
 *
 * It is phrased in the system's own operations, not in rows. Times are
 * milliseconds since the epoch unless a name says `Unix` (Stripe's seconds).
 * Every method takes the time it needs as an argument: stores never read a
 * clock themselves, so tests drive time.
 */

import type { ConnectedModes } from '../routing/connectionModes.js';

export type JsonObject = { [key: string]: unknown };

/** The one platform a server runs for. */
export interface PlatformRecord {
  /** `acct_…`: the platform's own account id (owner of its account endpoints and events). */
  id: string;
  /** `ca_…`: the Connect application id, shown as `application` on Connect endpoints. */
  applicationId: string;
  name: string;
  createdAt: number;
}

/** API keys are stored hashed (SHA-256 hex of the whole key); `hint` is the last 4 characters. */
export interface ApiKeyRecord {
  hash: string;
  platformId: string;
  livemode: boolean;
  hint: string;
  createdAt: number;
}

/** A connected account of the platform. `object` is the Stripe `account` object as served. */
export interface AccountRecord {
  id: string;
  platformId: string;
  object: JsonObject;
  createdAt: number;
  /** The modes it is connected to its platform in (routing/connectionModes.ts). */
  connectedModes: ConnectedModes;
  /** Set once the account disconnected in every mode (account.application.deauthorized). */
  deauthorizedAt: number | null;
}

/** The change an event records, committed with it (`appendEvent`): both or neither. */
export interface EventEffect {
  account?: { id: string; object: JsonObject; changes?: AccountChanges };
  /** Emulated objects written (created, changed or deleted) by the call the event records. */
  objects?: ObjectRecord[];
  /** Steps the change sets for later (a payout's outcome), stored with it. */
  scheduleSteps?: ScheduledStep[];
  /** Claimed steps this event is the outcome of: done, with it. */
  completeSteps?: string[];
}

/**
 * A step an emulated object takes later, on the server's clock: funds
 * becoming available, a payout arriving or failing. services/scheduler.ts
 * claims the due ones and runs each.
 */
export interface ScheduledStep {
  /** `step_…` */
  id: string;
  /** What to do: a handler's name (`funds.available`, `payout.settle`). */
  kind: string;
  /** The object the step is about. */
  subjectId: string;
  accountId: string;
  livemode: boolean;
  /** When it is due, ms. */
  dueAt: number;
}

/**
 * An emulated Stripe object (a customer, …) as the API returns it, scoped by
 * the account it lives in and the mode. Written whole: the latest state.
 */
export interface ObjectRecord {
  /** Stripe's id, with its prefix (`cus_…`). */
  id: string;
  /** Stripe's `object` value: `customer`, … */
  kind: string;
  accountId: string;
  livemode: boolean;
  /** Unix seconds (Stripe's `created`). */
  createdUnix: number;
  object: JsonObject;
  /** Deleted: retrieved as Stripe's deleted stub, never listed. */
  deleted: boolean;
  /** What the kind's list filters on besides the account (a customer's email), or null. */
  lookupKey: string | null;
}

/** One page of an account's objects of a kind, newest first. */
export interface ObjectQuery extends PageQuery {
  kind: string;
  accountId: string;
  livemode: boolean;
  /** Only those whose `lookupKey` is this. */
  lookupKey?: string;
  /** Stripe's `created` filter, unix seconds. */
  created?: CreatedRange;
}

/** What `updateAccount` may change besides the object. */
export interface AccountChanges {
  connectedModes?: ConnectedModes;
  deauthorizedAt?: number | null;
}

/** Which accounts `listAccounts` returns. */
export interface AccountFilter {
  /**
   * Only those a key of this mode sees (routing/connectionModes.ts): live,
   * those connected in live mode; test, those connected in either.
   */
  seenByKeyOfMode?: 'test' | 'live';
  /** Stripe's `created` filter, unix seconds. */
  created?: CreatedRange;
}

export interface EndpointSecret {
  secret: string;
  /** null: the current secret. A number: a rolled secret that still signs until then. */
  expiresAt: number | null;
}

export type EndpointStatus = 'enabled' | 'disabled';

export interface EndpointRecord {
  /** `we_…` */
  id: string;
  /** The account that owns the endpoint: the platform, or a connected account. */
  ownerAccountId: string;
  livemode: boolean;
  /** Connect endpoint: receives the events of the owner's connected accounts. Fixed at creation. */
  connect: boolean;
  url: string;
  enabledEvents: string[];
  status: EndpointStatus;
  /** Why the endpoint is disabled: `manual`, or the automatic reason. null when enabled. */
  disabledReason: string | null;
  apiVersion: string | null;
  description: string | null;
  metadata: Record<string, string>;
  secrets: EndpointSecret[];
  createdAt: number;
  /** Last 2xx from this endpoint. */
  lastSuccessAt: number | null;
  /** The first failed attempt since the last 2xx (null while healthy): automatic disabling counts from it. */
  failingSince: number | null;
  /**
   * null for an ordinary webhook endpoint. Otherwise the endpoint belongs to a
   * listen session (`switchboard listen`) and this opaque key names the
   * session's owner (the CLI's API key hash and mode). Listen endpoints are
   * routed, signed and retried like any other, but are left out of the
   * endpoint list and count, and their deliveries are claimed only by the
   * session (see `ClaimOptions.listen`). Fixed at creation.
   */
  listenKey: string | null;
}

/** Fields an update may change; absent keys are left alone. */
export interface EndpointPatch {
  url?: string;
  enabledEvents?: string[];
  description?: string | null;
  metadata?: Record<string, string>;
  status?: EndpointStatus;
  disabledReason?: string | null;
  secrets?: EndpointSecret[];
}

export interface EventRecord {
  /** `evt_…` */
  id: string;
  /** The account the event belongs to (platform or connected account). */
  accountId: string;
  livemode: boolean;
  type: string;
  /** Unix seconds (Stripe's `created`). */
  createdUnix: number;
  /**
   * The event exactly as delivered: the JSON text signed and POSTed on every
   * attempt. Events are immutable; `pending_webhooks` inside it is the value at
   * creation, the live value comes from the deliveries.
   */
  body: string;
  requestId: string | null;
  idempotencyKey: string | null;
}

/** An event with the live number of endpoints it is still owed to. */
export interface StoredEvent extends EventRecord {
  pendingWebhooks: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

/** One (event, endpoint) pair the event was routed to. */
export interface NewDelivery {
  /** `wd_…` */
  id: string;
  eventId: string;
  endpointId: string;
  /** The first attempt; also the delivery's `createdAt` (the start of its retry window). */
  nextAttemptAt: number;
  /**
   * The endpoint is a listen-session endpoint (non-null `listenKey`): only a
   * claim with `listen: true` takes the delivery. Given here because the
   * publisher has the endpoint in hand, so claims need no join to tell.
   * Absent means false.
   */
  listen?: boolean;
  /**
   * Stored already claimed by this node (the publishing node sends it at once,
   * without a claim query): as a claim would leave it, leased until `until`
   * and due again then if the owner never reports.
   */
  lease?: DeliveryLease;
}

/** A delivery held by one node until `until`; due again then if the owner never reports. */
export interface DeliveryLease {
  owner: string;
  until: number;
}

export interface DeliveryRecord {
  id: string;
  eventId: string;
  endpointId: string;
  status: DeliveryStatus;
  /** Attempts made so far (manual resends not counted). */
  attempts: number;
  /**
   * null once delivered by the schedule, failed or cancelled. While claimed:
   * the end of the lease, when it is due again if the claimer never reports.
   */
  nextAttemptAt: number | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** A delivery claimed for sending, with everything the delivery engine needs to send it. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** When the delivery was created (the start of its retry window). */
  createdAt: number;
  livemode: boolean;
  url: string;
  /** Secrets that sign this attempt: the current one and rolled ones not yet expired at `now`. */
  secrets: string[];
  /** The event as stored; `apiVersion` restamps it for this endpoint. */
  body: string;
  /** The endpoint's own `api_version`; null to keep the event's (the account's default). */
  apiVersion: string | null;
  endpointLastSuccessAt: number | null;
  endpointFailingSince: number | null;
}

export interface AttemptRecord {
  /** `wa_…` */
  id: string;
  /** null for a manual resend to an endpoint the event was never routed to. */
  deliveryId: string | null;
  eventId: string;
  endpointId: string;
  attemptedAt: number;
  durationMs: number;
  /** HTTP status, or null when no response (connection error, timeout, refused target). */
  statusCode: number | null;
  /** A short, stable description of what went wrong; null on 2xx. */
  error: string | null;
  /** The first few KB of the response body. */
  responseBody: string | null;
  /** A resend through the API, outside the automatic schedule. */
  manual: boolean;
}

/** What to do with a delivery after an attempt. */
export type DeliveryOutcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; at: number; disableEndpoint?: { reason: string } | null }
  | { kind: 'failed'; disableEndpoint: { reason: string } | null }
  /** A manual resend: 2xx marks the delivery delivered, anything else changes nothing. */
  | { kind: 'manual'; ok: boolean };

export interface AttemptResult {
  attempt: AttemptRecord;
  outcome: DeliveryOutcome;
  /**
   * The node that claimed the delivery. A result is applied to the delivery
   * only while that node still holds the claim (a stale node's late result is
   * logged as an attempt but does not move the delivery). null for manual.
   */
  leaseOwner: string | null;
}

export interface ClaimOptions {
  now: number;
  /** At most this many deliveries in all. */
  limit: number;
  /** The claim is held until now + leaseMs; after that another node may take it. */
  leaseMs: number;
  /** Identifies the claiming node. */
  owner: string;
  /** At most this many deliveries of one endpoint in one claim. */
  perEndpointLimit: number;
  /** Endpoints to skip (already at their concurrency bound on this node). */
  excludeEndpointIds: string[];
  /**
   * A hint that the claim may serve only the endpoints found among the oldest
   * due deliveries of all (a bounded window) rather than every endpoint
   * with pending deliveries. Cheaper with many endpoints; the engine still makes a full (deep)
   * claim now and then so that endpoints behind another one's backlog are
   * reached. Either way a claim reads each endpoint's oldest due deliveries
   * by endpoint, so its cost never follows the size of a backlog.
   */
  shallow?: boolean;
  /**
   * false or absent: claim only webhook deliveries (sent over HTTP). true:
   * claim only listen-session deliveries, of the sessions connected to the
   * claiming node (`onlyEndpointIds`). One claim never mixes the two.
   */
  listen?: boolean;
  /** When given, claim only deliveries of these endpoints (none when empty). */
  onlyEndpointIds?: string[];
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

/** Stripe cursor pagination, newest first. `startingAfter`/`endingBefore` are object ids. */
export interface PageQuery {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
}

export interface CreatedRange {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

/** A type filter: exact types, or prefixes from patterns like `account.*` (prefix `account.`). */
export interface TypeFilter {
  exact: string[];
  prefixes: string[];
}

export interface EventQuery extends PageQuery {
  accountId: string;
  livemode: boolean;
  types?: TypeFilter;
  created?: CreatedRange;
  /** true: every delivery delivered; false: some delivery pending or failed. */
  deliverySuccess?: boolean;
}

export interface AttemptQuery extends PageQuery {
  eventId?: string;
  endpointId?: string;
}

export interface IdempotencyRecord {
  /** Who sent it: the key's hash and the acting account, so keys of different callers never collide. */
  scope: string;
  key: string;
  /** A hash of method, path and parameters: the same key with other parameters is an error. */
  requestHash: string;
  /** `IDEMPOTENCY_IN_PROGRESS` (0) while the first request runs; then its status. */
  statusCode: number;
  responseBody: string;
  createdAt: number;
}

/** The status of a reservation whose request is still running (no HTTP status is 0). */
export const IDEMPOTENCY_IN_PROGRESS = 0;

export type IdempotencyReservation =
  | { kind: 'reserved' }
  /** Another request holds the key: running (`statusCode` 0) or done. */
  | { kind: 'existing'; record: IdempotencyRecord };

/** Opening and closing the database. */
export interface StoreLifecycle {
  /** `sqlite` or `postgres`. */
  readonly engine: string;
  /** Apply numbered migrations not yet applied. Idempotent; safe with several nodes starting at once. */
  migrate(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The platform and its API keys (start-up, authentication, `switchboard keys`). */
export interface PlatformStore {
  getPlatform(): Promise<PlatformRecord | null>;
  /** Create the platform with its keys, unless one exists; returns the one that exists. */
  initPlatform(platform: PlatformRecord, keys: ApiKeyRecord[]): Promise<PlatformRecord>;
  /** Add keys (replacing a key of the same hash). */
  putApiKeys(keys: ApiKeyRecord[]): Promise<void>;
  findApiKey(hash: string): Promise<ApiKeyRecord | null>;
  listApiKeys(platformId: string): Promise<ApiKeyRecord[]>;
  /** Revoke a key. Returns false if there was none with this hash. */
  deleteApiKey(hash: string): Promise<boolean>;
}

/** Connected accounts (the API). */
export interface AccountStore {
  createAccount(account: AccountRecord): Promise<void>;
  getAccount(id: string): Promise<AccountRecord | null>;
  /** Replace the account object (and optionally its connection modes and deauthorization). */
  updateAccount(id: string, object: JsonObject, changes?: AccountChanges): Promise<void>;
  listAccounts(platformId: string, page: PageQuery, filter?: AccountFilter): Promise<Page<AccountRecord>>;
}

/** Webhook endpoints, and the hidden ones of listen sessions (the API, routing). */
export interface EndpointStore {
  createEndpoint(endpoint: EndpointRecord): Promise<void>;
  /** Either kind of endpoint: callers serving `/v1/webhook_endpoints` check `listenKey`. */
  getEndpoint(id: string): Promise<EndpointRecord | null>;
  /**
   * Apply a patch. Disabling (status → disabled) cancels the endpoint's pending
   * deliveries in the same transaction: a disabled endpoint gets no retries.
   * Returns the updated endpoint, or null if none.
   */
  updateEndpoint(id: string, patch: EndpointPatch): Promise<EndpointRecord | null>;
  /** Delete; pending deliveries are cancelled, attempts are kept. Returns false if none. */
  deleteEndpoint(id: string): Promise<boolean>;
  /** Ordinary endpoints only (`listenKey` null): listen-session endpoints are never listed. */
  listEndpoints(ownerAccountId: string, livemode: boolean, page: PageQuery): Promise<Page<EndpointRecord>>;
  /** Ordinary endpoints only: listen-session endpoints do not count towards the per-account cap. */
  countEndpoints(ownerAccountId: string, livemode: boolean): Promise<number>;
  /**
   * Every enabled endpoint owned by one of these accounts, both modes, both
   * kinds (ordinary and listen-session): the input of routing.
   */
  listRoutableEndpoints(ownerAccountIds: string[]): Promise<EndpointRecord[]>;
  /** Every endpoint with this listen key, whatever its status, oldest first. */
  findListenEndpoints(listenKey: string): Promise<EndpointRecord[]>;
}

/** Events, their deliveries and attempts, as the API reads and publishes them. */
export interface EventStore {
  /**
   * Store an event and its deliveries atomically, with the change the event
   * records (`effect`) in the same transaction: no crash can keep one
   * without the other. Resolves only once durable (concurrent calls are
   * group-committed).
   */
  appendEvent(event: EventRecord, deliveries: NewDelivery[], effect?: EventEffect): Promise<void>;
  getEvent(id: string): Promise<StoredEvent | null>;
  listEvents(query: EventQuery): Promise<Page<StoredEvent>>;
  getDelivery(eventId: string, endpointId: string): Promise<DeliveryRecord | null>;
  listDeliveries(eventId: string): Promise<DeliveryRecord[]>;
  listAttempts(query: AttemptQuery): Promise<Page<AttemptRecord>>;
}

/** What the delivery engine and the node around it use: claims, results, leases, wake-ups. */
export interface DeliveryStore {
  /**
   * Claim due deliveries: status pending, nextAttemptAt <= now, no live lease,
   * of the kind `options.listen` asks for (ordinary by default) and, when
   * given, of `options.onlyEndpointIds`. Oldest due first. Safe under
   * concurrency (several nodes on PostgreSQL).
   */
  claimDue(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /**
   * Record attempts and apply their outcomes in one transaction: delivered
   * (and the endpoint's lastSuccessAt), rescheduled, failed (and disable the
   * endpoint, cancelling its other pending deliveries), manual resend.
   */
  recordAttempts(results: AttemptResult[]): Promise<void>;
  /**
   * `recordAttempts(results)`, then `claimDue(claim)`: the delivery engine's
   * step under load, in one call (on SQLite one transaction and one trip to
   * the writer thread). The claim sees the recorded outcomes.
   */
  recordAndClaim(results: AttemptResult[], claim: ClaimOptions): Promise<ClaimedDelivery[]>;
  /**
   * Call `listener` when another node (or this one) committed webhook
   * deliveries nobody has claimed, so an idle engine claims them now rather
   * than at its next survey. Returns the unsubscribe. SQLite: never called
   * (one server owns the file, and it wakes its own engine).
   */
  watchDue(listener: () => void): () => void;
  /**
   * Make the pending deliveries of these endpoints that are scheduled after
   * `now` due at `now`, unless a live lease holds them: when a listen client
   * reconnects, what queued up while it was away flows at once instead of
   * waiting out the retry schedule. Returns how many moved.
   */
  wakeDeliveries(endpointIds: string[], now: number): Promise<number>;
  /**
   * At a node's start: the deliveries it had in flight when it stopped are
   * due now, not when their leases run out. SQLite, which one server owns,
   * releases every lease; PostgreSQL those held by `owner` (a node's stable
   * id). Returns how many.
   */
  recoverLeases(owner: string, now: number): Promise<number>;
  /**
   * Node liveness (PostgreSQL; SQLite has one server): `node` is alive at
   * `now`; the leases of every other node not seen since `deadBefore` are
   * released, and that node forgotten. Returns how many leases.
   */
  heartbeat(
    node: string,
    now: number,
    deadBefore: number,
  ): Promise<{ released: number; deadNodes: string[] }>;
  /**
   * Bound what waits for a listen session: cancel its pending deliveries
   * created before `createdAfter` and all but the `newest` most recent ones
   * (a live lease is left alone). Returns how many were dropped and how many
   * are still pending: the catch-up the client gets.
   */
  trimListenBacklog(
    endpointIds: string[],
    bound: { createdAfter: number; newest: number },
    now: number,
  ): Promise<{ dropped: number; pending: number }>;
  /**
   * Earliest nextAttemptAt of a pending webhook delivery, or null.
   * Listen-session deliveries are left out: a backlog waiting for a
   * disconnected listen client is not due work.
   */
  nextDueAt(): Promise<number | null>;
}

/** Idempotency keys (the API middleware). */
export interface IdempotencyStore {
  getIdempotency(scope: string, key: string): Promise<IdempotencyRecord | null>;
  /** Insert unless present. Returns false if a record for (scope, key) already existed. */
  putIdempotency(record: IdempotencyRecord): Promise<boolean>;
  /**
   * Reserve a key before its request runs, atomically on every node: the
   * first caller gets `reserved`; the others the record as it stands. A
   * reservation older than `staleBefore` whose request never finished (its
   * node died), or any record older than `expiredBefore`, is taken over.
   */
  reserveIdempotency(
    reservation: { scope: string; key: string; requestHash: string; createdAt: number },
    limits: { staleBefore: number; expiredBefore: number },
  ): Promise<IdempotencyReservation>;
  /** Keep the reserved key's result. */
  completeIdempotency(scope: string, key: string, statusCode: number, responseBody: string): Promise<void>;
  /** Drop a reservation whose request saves nothing (it was refused before it ran). */
  releaseIdempotency(scope: string, key: string): Promise<void>;
}

/** Upkeep the server runs on timers. */
export interface RetentionStore {
  /** Remove events (with deliveries and attempts) created before `eventsBefore`, and idempotency records before `idempotencyBefore`. */
  prune(eventsBefore: number, idempotencyBefore: number): Promise<{ events: number; idempotency: number }>;
  /**
   * Keep the delivery queue cheap to read; the server calls it every few
   * seconds. Every claim and result rewrites delivery rows; PostgreSQL keeps
   * the old versions until a vacuum, and claims wade through them (a drain of
   * 100,000 deliveries ran at 712/s unvacuumed, 3,134/s vacuumed every 10 s).
   * PostgreSQL vacuums `deliveries` here when autovacuum is off and enough
   * rows have changed since the last look; SQLite has nothing to do.
   */
  maintain(): Promise<MaintenanceReport>;
}

/** A claim of steps ahead of time, for one account (the test helper that moves an account's time). */
export interface ClaimStepsOptions {
  /** Claim the steps due by then instead of by `now` (leases still run from `now`). */
  dueBy?: number;
  /** Only the steps of this account in this mode (and of this object, when given). */
  scope?: { accountId: string; livemode: boolean; subjectId?: string };
}

/** The request a step runs for, when one made it run early: its events record it. */
export interface StepRequest {
  requestId: string | null;
  idempotencyKey: string | null;
}

/** Steps set for later (services/scheduler.ts): claimed with a lease when due, completed with their event. */
export interface ScheduleStore {
  /**
   * Lease up to `limit` due steps (dueAt <= now, no live lease) to the caller
   * until now + leaseMs, oldest first: a step whose runner dies is due again
   * when the lease ends.
   */
  claimDueSteps(
    now: number,
    leaseMs: number,
    limit: number,
    options?: ClaimStepsOptions,
  ): Promise<ScheduledStep[]>;
  /** Steps that are done without an event. */
  completeSteps(ids: string[]): Promise<void>;
}

/** The emulated Stripe objects (src/resources/): written with their events, or alone. */
export interface ObjectStore {
  getObject(id: string): Promise<ObjectRecord | null>;
  listObjects(query: ObjectQuery): Promise<Page<ObjectRecord>>;
  /** Create or replace objects in one transaction, for a change that causes no event. */
  putObjects(objects: ObjectRecord[]): Promise<void>;
}

/**
 * The storage contract, split by who uses it; both engines implement all of it
 * and pass one conformance suite (test/store/conformance.ts).
 */
export interface Store
  extends StoreLifecycle,
    PlatformStore,
    AccountStore,
    EndpointStore,
    EventStore,
    DeliveryStore,
    IdempotencyStore,
    RetentionStore,
    ObjectStore,
    ScheduleStore {}

export interface MaintenanceReport {
  /** Whether the deliveries table was vacuumed by this call. */
  vacuumed: boolean;
  /** Delivery rows rewritten since the previous call that looked. */
  churned: number;
}
