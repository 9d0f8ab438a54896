/**
 * Rows as both engines return them, and their mapping to the contract's records.
 * SQLite gives booleans as 0/1 and JSON as text; PostgreSQL gives booleans and
 * parsed JSON. The mappers accept either so both engines share them.
 */

import type {
  AccountRecord,
  ApiKeyRecord,
  AttemptRecord,
  ClaimedDelivery,
  CreatedRange,
  DeliveryRecord,
  DeliveryStatus,
  EndpointRecord,
  EndpointSecret,
  EndpointStatus,
  IdempotencyRecord,
  JsonObject,
  ObjectRecord,
  PlatformRecord,
  ScheduledStep,
  StoredEvent,
} from './types.js';

type Bool = boolean | number;
/** BIGINT columns: numbers (SQLite, or PostgreSQL with this package's int8 parser). */
type Int = number | string;

const bool = (v: Bool): boolean => v === true || v === 1;
const int = (v: Int): number => (typeof v === 'number' ? v : Number(v));
const intOrNull = (v: Int | null): number | null => (v === null ? null : int(v));
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

export type PlatformRow = { id: string; application_id: string; name: string; created_at: Int };

/** A platform row as a record. */
export function toPlatform(r: PlatformRow): PlatformRecord {
  return { id: r.id, applicationId: r.application_id, name: r.name, createdAt: int(r.created_at) };
}

export type ApiKeyRow = { hash: string; platform_id: string; livemode: Bool; hint: string; created_at: Int };

/** An API key row as a record. */
export function toApiKey(r: ApiKeyRow): ApiKeyRecord {
  return {
    hash: r.hash,
    platformId: r.platform_id,
    livemode: bool(r.livemode),
    hint: r.hint,
    createdAt: int(r.created_at),
  };
}

export type AccountRow = {
  id: string;
  platform_id: string;
  object: unknown;
  created_at: Int;
  deauthorized_at: Int | null;
  connected_test: Bool;
  connected_live: Bool;
};

export const ACCOUNT_COLUMNS =
  'id, platform_id, object, created_at, deauthorized_at, connected_test, connected_live';

/** Stripe's `created` filter (unix seconds) on a column of milliseconds: the bounds, inclusive-exclusive. */
export function createdMsBounds(c: CreatedRange): { from: number | null; before: number | null } {
  const lows = [c.gt !== undefined ? (c.gt + 1) * 1000 : null, c.gte !== undefined ? c.gte * 1000 : null];
  const highs = [c.lt !== undefined ? c.lt * 1000 : null, c.lte !== undefined ? (c.lte + 1) * 1000 : null];
  const pick = (xs: (number | null)[], f: (...n: number[]) => number) => {
    const n = xs.filter((x): x is number => x !== null);
    return n.length ? f(...n) : null;
  };
  return { from: pick(lows, Math.max), before: pick(highs, Math.min) };
}

/** An account row as a record. */
export function toAccount(r: AccountRow): AccountRecord {
  return {
    id: r.id,
    platformId: r.platform_id,
    object: json<JsonObject>(r.object),
    createdAt: int(r.created_at),
    connectedModes: { test: bool(r.connected_test), live: bool(r.connected_live) },
    deauthorizedAt: intOrNull(r.deauthorized_at),
  };
}

export type EndpointRow = {
  id: string;
  owner_account_id: string;
  livemode: Bool;
  connect: Bool;
  url: string;
  enabled_events: unknown;
  status: string;
  disabled_reason: string | null;
  api_version: string | null;
  description: string | null;
  metadata: unknown;
  secrets: unknown;
  created_at: Int;
  last_success_at: Int | null;
  listen_key: string | null;
  failing_since: Int | null;
};

export const ENDPOINT_COLUMNS =
  'id, owner_account_id, livemode, connect, url, enabled_events, status, disabled_reason, api_version, description, metadata, secrets, created_at, last_success_at, listen_key, failing_since';

/** An endpoint row as a record. */
export function toEndpoint(r: EndpointRow): EndpointRecord {
  return {
    id: r.id,
    ownerAccountId: r.owner_account_id,
    livemode: bool(r.livemode),
    connect: bool(r.connect),
    url: r.url,
    enabledEvents: json<string[]>(r.enabled_events),
    status: r.status as EndpointStatus,
    disabledReason: r.disabled_reason,
    apiVersion: r.api_version,
    description: r.description,
    metadata: json<Record<string, string>>(r.metadata),
    secrets: json<EndpointSecret[]>(r.secrets),
    createdAt: int(r.created_at),
    lastSuccessAt: intOrNull(r.last_success_at),
    failingSince: intOrNull(r.failing_since),
    listenKey: r.listen_key,
  };
}

export type EventRow = {
  id: string;
  account_id: string;
  livemode: Bool;
  type: string;
  created_unix: Int;
  body: string;
  request_id: string | null;
  idempotency_key: string | null;
  pending_webhooks: Int;
};

/** An event row (with its live pending count) as a record. */
export function toEvent(r: EventRow): StoredEvent {
  return {
    id: r.id,
    accountId: r.account_id,
    livemode: bool(r.livemode),
    type: r.type,
    createdUnix: int(r.created_unix),
    body: r.body,
    requestId: r.request_id,
    idempotencyKey: r.idempotency_key,
    pendingWebhooks: int(r.pending_webhooks),
  };
}

export type DeliveryRow = {
  id: string;
  event_id: string;
  endpoint_id: string;
  status: string;
  attempts: Int;
  next_attempt_at: Int | null;
  created_at: Int;
  delivered_at: Int | null;
};

export const DELIVERY_COLUMNS =
  'id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, delivered_at';

/** A delivery row as a record. */
export function toDelivery(r: DeliveryRow): DeliveryRecord {
  return {
    id: r.id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    status: r.status as DeliveryStatus,
    attempts: int(r.attempts),
    nextAttemptAt: intOrNull(r.next_attempt_at),
    createdAt: int(r.created_at),
    deliveredAt: intOrNull(r.delivered_at),
  };
}

export type ClaimedRow = {
  id: string;
  event_id: string;
  endpoint_id: string;
  attempts: Int;
  created_at: Int;
  body: string;
  livemode: Bool;
  url: string;
  secrets: unknown;
  last_success_at: Int | null;
  failing_since: Int | null;
  api_version: string | null;
};

/** A claimed delivery; only secrets still valid at `now` sign it. */
export function toClaimed(r: ClaimedRow, now: number): ClaimedDelivery {
  const secrets = json<EndpointSecret[]>(r.secrets)
    .filter((s) => s.expiresAt === null || s.expiresAt > now)
    .map((s) => s.secret);
  return {
    id: r.id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    attempt: int(r.attempts) + 1,
    createdAt: int(r.created_at),
    livemode: bool(r.livemode),
    url: r.url,
    secrets,
    body: r.body,
    apiVersion: r.api_version,
    endpointLastSuccessAt: intOrNull(r.last_success_at),
    endpointFailingSince: intOrNull(r.failing_since),
  };
}

export type AttemptRow = {
  id: string;
  delivery_id: string | null;
  event_id: string;
  endpoint_id: string;
  attempted_at: Int;
  duration_ms: Int;
  status_code: Int | null;
  error: string | null;
  response_body: string | null;
  manual: Bool;
};

export const ATTEMPT_COLUMNS =
  'id, delivery_id, event_id, endpoint_id, attempted_at, duration_ms, status_code, error, response_body, manual';

/** An attempt row as a record. */
export function toAttempt(r: AttemptRow): AttemptRecord {
  return {
    id: r.id,
    deliveryId: r.delivery_id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    attemptedAt: int(r.attempted_at),
    durationMs: int(r.duration_ms),
    statusCode: intOrNull(r.status_code),
    error: r.error,
    responseBody: r.response_body,
    manual: bool(r.manual),
  };
}

export type IdempotencyRow = {
  scope: string;
  key: string;
  request_hash: string;
  status_code: Int;
  response_body: string;
  created_at: Int;
};

/** An idempotency row as a record. */
export function toIdempotency(r: IdempotencyRow): IdempotencyRecord {
  return {
    scope: r.scope,
    key: r.key,
    requestHash: r.request_hash,
    statusCode: int(r.status_code),
    responseBody: r.response_body,
    createdAt: int(r.created_at),
  };
}

export const OBJECT_COLUMNS = 'id, kind, account_id, livemode, created_unix, object, deleted, lookup_key';

export type ObjectRow = {
  id: string;
  kind: string;
  account_id: string;
  livemode: Bool;
  created_unix: Int;
  object: unknown;
  deleted: Bool;
  lookup_key: string | null;
};

/** An emulated object's row as a record. */
export function toObject(r: ObjectRow): ObjectRecord {
  return {
    id: r.id,
    kind: r.kind,
    accountId: r.account_id,
    livemode: bool(r.livemode),
    createdUnix: int(r.created_unix),
    object: json<JsonObject>(r.object),
    deleted: bool(r.deleted),
    lookupKey: r.lookup_key,
  };
}

export type StepRow = {
  id: string;
  kind: string;
  subject_id: string;
  account_id: string;
  livemode: Bool;
  due_at: Int;
};

/** Claimed steps as records, in the order they were due. */
export function toSteps(rows: StepRow[]): ScheduledStep[] {
  return rows
    .map((r) => ({
      id: r.id,
      kind: r.kind,
      subjectId: r.subject_id,
      accountId: r.account_id,
      livemode: bool(r.livemode),
      dueAt: int(r.due_at),
    }))
    .sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : 1));
}
