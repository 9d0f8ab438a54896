import { withTypedErrors } from '../errors.js';
import { listEvents, type SqlDialect } from '../eventList.js';
import {
  accountsQuery,
  attemptsQuery,
  endpointsQuery,
  listPage,
  objectsQuery,
  type RunSql,
} from '../listQuery.js';
import { loadMigrations } from '../migrations.js';
import { finishPage } from '../paging.js';
import { applyEndpointPatch } from '../patch.js';
import {
  ACCOUNT_COLUMNS,
  type AccountRow,
  type ApiKeyRow,
  type AttemptRow,
  DELIVERY_COLUMNS,
  type DeliveryRow,
  ENDPOINT_COLUMNS,
  type EndpointRow,
  type EventRow,
  type IdempotencyRow,
  OBJECT_COLUMNS,
  type ObjectRow,
  type PlatformRow,
  toAccount,
  toApiKey,
  toAttempt,
  toDelivery,
  toEndpoint,
  toEvent,
  toIdempotency,
  toObject,
  toPlatform,
} from '../rows.js';
import type {
  AccountChanges,
  AccountFilter,
  AccountRecord,
  ApiKeyRecord,
  AttemptQuery,
  AttemptRecord,
  AttemptResult,
  ClaimedDelivery,
  ClaimOptions,
  ClaimStepsOptions,
  DeliveryRecord,
  EndpointPatch,
  EndpointRecord,
  EventEffect,
  EventQuery,
  EventRecord,
  IdempotencyRecord,
  JsonObject,
  MaintenanceReport,
  NewDelivery,
  ObjectQuery,
  ObjectRecord,
  Page,
  PageQuery,
  PlatformRecord,
  ScheduledStep,
  Store,
  StoredEvent,
} from '../types.js';
import { IDEMPOTENCY_IN_PROGRESS, type IdempotencyReservation } from '../types.js';
import { EventAppender } from './appendEvent.js';
import { claimDue } from './claimDue.js';
import { bit, isSqliteUnavailable, mapWriteError, SqliteConn } from './db.js';
import { putObjects } from './putObjects.js';
import { CANCEL_PENDING, PAUSE_PENDING, RESUME_PAUSED, recordAttempts } from './recordAttempts.js';
import { claimDueSteps, completeSteps } from './scheduledSteps.js';
import { updateAccount } from './updateAccount.js';
import { createSqliteWorkerStore } from './workerClient.js';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:`. */
  path: string;
  /** FULL (default) syncs every commit; NORMAL may lose the last commits on power loss, never corrupts. */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * Where the connection lives: `worker` (default) on a writer thread of its
   * own (workerClient.ts), so commits never block the server's event loop;
   * `main` on the calling thread.
   */
  thread?: 'worker' | 'main';
  /** Writer thread only: how long the routable endpoints of an owner set are kept on the server's thread (default 1 s). */
  routableCacheMs?: number;
  /** The cache's clock (default `Date.now`). */
  clock?: () => number;
}

const MIGRATIONS_DIR = new URL('../../../migrations/sqlite/', import.meta.url);

const NOT_LISTEN = 'd.listen = 0';
// Listen sessions are not webhook endpoints to the API: they count in neither pending_webhooks nor delivery_success.
const PENDING_COUNT = `(SELECT COUNT(*) FROM deliveries d WHERE d.event_id = e.id AND d.status IN ('pending', 'failed') AND ${NOT_LISTEN})`;
const EVENT_COLUMNS = `e.id, e.account_id, e.livemode, e.type, e.created_unix, e.body, e.request_id, e.idempotency_key,
  ${PENDING_COUNT} AS pending_webhooks`;
const EVENT_SELECT = `SELECT ${EVENT_COLUMNS} FROM events e`;

const SQLITE_DIALECT: SqlDialect = {
  placeholder: () => '?',
  bool: bit,
  notListen: NOT_LISTEN,
  typeColumn: 'e.type',
  // CROSS JOIN: SQLite keeps the left table outermost.
  owedJoin: 'owed o CROSS JOIN events e ON e.id = o.event_id',
  rowKey: 'seq',
};

/** The SQLite store: one file, one writer, WAL, group-committed event appends. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  return options.thread === 'main' ? openSqliteStoreInThread(options) : createSqliteWorkerStore(options);
}

/** The SQLite store with its connection on the calling thread (the writer thread's own, or `thread: 'main'`). */
export function openSqliteStoreInThread(options: SqliteStoreOptions): Store {
  return withTypedErrors<Store>(new SqliteStore(options), isSqliteUnavailable);
}

class SqliteStore implements Store {
  readonly engine = 'sqlite';
  private readonly conn: SqliteConn;
  private readonly appender: EventAppender;

  constructor(options: SqliteStoreOptions) {
    this.conn = new SqliteConn(options.path, options.synchronous ?? 'FULL');
    this.appender = new EventAppender(this.conn);
  }

  private get<R>(sql: string, ...params: unknown[]): R | undefined {
    return this.conn.stmt(sql).get(...params) as R | undefined;
  }

  private all<R>(sql: string, ...params: unknown[]): R[] {
    return this.conn.stmt(sql).all(...params) as R[];
  }

  private run(sql: string, ...params: unknown[]): number {
    return this.conn.stmt(sql).run(...params).changes;
  }

  /** A statement on this connection, for the shared query helpers (listQuery.ts, eventList.ts). */
  private readonly runSql: RunSql = async <R>(sql: { text: string; values: unknown[] }) =>
    this.all<R>(sql.text, ...sql.values);

  async migrate(): Promise<void> {
    const migrations = loadMigrations(MIGRATIONS_DIR);
    const db = this.conn.db;
    // One IMMEDIATE transaction: a second process waits, then finds them applied.
    this.conn.write(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS switchboard_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
      )`);
      const applied = new Set(
        (db.prepare('SELECT version FROM switchboard_migrations').all() as { version: number }[]).map(
          (r) => r.version,
        ),
      );
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        db.exec(m.sql);
        db.prepare('INSERT INTO switchboard_migrations (version, name) VALUES (?, ?)').run(m.version, m.name);
      }
    });
  }

  async ping(): Promise<void> {
    this.get('SELECT 1');
  }

  async close(): Promise<void> {
    if (!this.conn.db.open) return;
    this.appender.flush();
    this.conn.db.close();
  }

  // Platform and keys

  async getPlatform(): Promise<PlatformRecord | null> {
    const row = this.get<PlatformRow>('SELECT id, application_id, name, created_at FROM platforms LIMIT 1');
    return row === undefined ? null : toPlatform(row);
  }

  async initPlatform(platform: PlatformRecord, keys: ApiKeyRecord[]): Promise<PlatformRecord> {
    return this.conn.write(() => {
      const created = this.run(
        `INSERT INTO platforms (id, application_id, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        platform.id,
        platform.applicationId,
        platform.name,
        platform.createdAt,
      );
      if (created > 0) this.insertKeys(keys);
      const row = this.get<PlatformRow>('SELECT id, application_id, name, created_at FROM platforms LIMIT 1');
      return toPlatform(row!);
    });
  }

  private insertKeys(keys: ApiKeyRecord[]): void {
    for (const k of keys) {
      this.run(
        `INSERT INTO api_keys (hash, platform_id, livemode, hint, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (hash) DO UPDATE SET platform_id = excluded.platform_id, livemode = excluded.livemode,
           hint = excluded.hint, created_at = excluded.created_at`,
        k.hash,
        k.platformId,
        bit(k.livemode),
        k.hint,
        k.createdAt,
      );
    }
  }

  async putApiKeys(keys: ApiKeyRecord[]): Promise<void> {
    this.conn.write(() => this.insertKeys(keys));
  }

  async findApiKey(hash: string): Promise<ApiKeyRecord | null> {
    const row = this.get<ApiKeyRow>(
      'SELECT hash, platform_id, livemode, hint, created_at FROM api_keys WHERE hash = ?',
      hash,
    );
    return row === undefined ? null : toApiKey(row);
  }

  async deleteApiKey(hash: string): Promise<boolean> {
    return this.run('DELETE FROM api_keys WHERE hash = ?', hash) > 0;
  }

  async listApiKeys(platformId: string): Promise<ApiKeyRecord[]> {
    return this.all<ApiKeyRow>(
      'SELECT hash, platform_id, livemode, hint, created_at FROM api_keys WHERE platform_id = ? ORDER BY created_at, hash',
      platformId,
    ).map(toApiKey);
  }

  // Connected accounts

  async createAccount(a: AccountRecord): Promise<void> {
    try {
      this.run(
        `INSERT INTO accounts (${ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        a.id,
        a.platformId,
        JSON.stringify(a.object),
        a.createdAt,
        a.deauthorizedAt,
        bit(a.connectedModes.test),
        bit(a.connectedModes.live),
      );
    } catch (err) {
      throw mapWriteError(err, `Account ${a.id}`);
    }
  }

  async getAccount(id: string): Promise<AccountRecord | null> {
    const row = this.get<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`, id);
    return row === undefined ? null : toAccount(row);
  }

  async updateAccount(id: string, object: JsonObject, changes: AccountChanges = {}): Promise<void> {
    updateAccount(this.conn, id, object, changes);
  }

  async listAccounts(
    platformId: string,
    page: PageQuery,
    filter: AccountFilter = {},
  ): Promise<Page<AccountRecord>> {
    const { rows, plan } = await listPage<AccountRow>(
      accountsQuery(platformId, page, filter, SQLITE_DIALECT.bool),
      SQLITE_DIALECT.placeholder,
      this.runSql,
    );
    return finishPage(rows.map(toAccount), plan);
  }

  // Webhook endpoints

  async createEndpoint(w: EndpointRecord): Promise<void> {
    try {
      this.run(
        `INSERT INTO webhook_endpoints (${ENDPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        w.id,
        w.ownerAccountId,
        bit(w.livemode),
        bit(w.connect),
        w.url,
        JSON.stringify(w.enabledEvents),
        w.status,
        w.disabledReason,
        w.apiVersion,
        w.description,
        JSON.stringify(w.metadata),
        JSON.stringify(w.secrets),
        w.createdAt,
        w.lastSuccessAt,
        w.listenKey,
        w.failingSince,
      );
    } catch (err) {
      throw mapWriteError(err, `Webhook endpoint ${w.id}`);
    }
  }

  private endpoint(id: string): EndpointRecord | null {
    const row = this.get<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?`, id);
    return row === undefined ? null : toEndpoint(row);
  }

  async getEndpoint(id: string): Promise<EndpointRecord | null> {
    return this.endpoint(id);
  }

  async updateEndpoint(id: string, patch: EndpointPatch): Promise<EndpointRecord | null> {
    return this.conn.write(() => {
      const current = this.endpoint(id);
      if (current === null) return null;
      const next = applyEndpointPatch(current, patch);
      this.run(
        `UPDATE webhook_endpoints SET url = ?, enabled_events = ?, description = ?, metadata = ?, status = ?,
           disabled_reason = ?, secrets = ? WHERE id = ?`,
        next.url,
        JSON.stringify(next.enabledEvents),
        next.description,
        JSON.stringify(next.metadata),
        next.status,
        next.disabledReason,
        JSON.stringify(next.secrets),
        id,
      );
      if (next.status !== current.status) {
        // A listen session's deliveries end with it; an endpoint's wait, and resume if it is enabled again.
        if (next.status === 'disabled')
          this.run(next.listenKey === null ? PAUSE_PENDING : CANCEL_PENDING, id);
        else this.run(RESUME_PAUSED, id);
      }
      return next;
    });
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    return this.conn.write(() => {
      const deleted = this.run('DELETE FROM webhook_endpoints WHERE id = ?', id) > 0;
      if (deleted) this.run(CANCEL_PENDING, id);
      return deleted;
    });
  }

  async listEndpoints(
    ownerAccountId: string,
    livemode: boolean,
    page: PageQuery,
  ): Promise<Page<EndpointRecord>> {
    const { rows, plan } = await listPage<EndpointRow>(
      endpointsQuery(ownerAccountId, livemode, page, SQLITE_DIALECT.bool),
      SQLITE_DIALECT.placeholder,
      this.runSql,
    );
    return finishPage(rows.map(toEndpoint), plan);
  }

  async countEndpoints(ownerAccountId: string, livemode: boolean): Promise<number> {
    const row = this.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM webhook_endpoints WHERE owner_account_id = ? AND livemode = ? AND listen_key IS NULL',
      ownerAccountId,
      bit(livemode),
    );
    return row?.n ?? 0;
  }

  async listRoutableEndpoints(ownerAccountIds: string[]): Promise<EndpointRecord[]> {
    if (ownerAccountIds.length === 0) return [];
    // One placeholder per owner (a publish names one or two): a plain IN list, cheaper per publish than json_each.
    return this.all<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
       WHERE owner_account_id IN (${ownerAccountIds.map(() => '?').join(', ')}) AND status = 'enabled' ORDER BY seq`,
      ...ownerAccountIds,
    ).map(toEndpoint);
  }

  async findListenEndpoints(listenKey: string): Promise<EndpointRecord[]> {
    return this.all<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE listen_key = ? ORDER BY seq`,
      listenKey,
    ).map(toEndpoint);
  }

  // Events and deliveries

  appendEvent(event: EventRecord, deliveries: NewDelivery[], effect?: EventEffect): Promise<void> {
    return this.appender.append(event, deliveries, effect);
  }

  // Emulated objects

  async getObject(id: string): Promise<ObjectRecord | null> {
    const row = this.get<ObjectRow>(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE id = ?`, id);
    return row === undefined ? null : toObject(row);
  }

  async listObjects(q: ObjectQuery): Promise<Page<ObjectRecord>> {
    const { rows, plan } = await listPage<ObjectRow>(
      objectsQuery(q, SQLITE_DIALECT.bool),
      SQLITE_DIALECT.placeholder,
      this.runSql,
    );
    return finishPage(rows.map(toObject), plan);
  }

  async putObjects(objects: ObjectRecord[]): Promise<void> {
    if (objects.length > 0) this.conn.write(() => putObjects(this.conn, objects));
  }

  // Scheduled steps

  async claimDueSteps(
    now: number,
    leaseMs: number,
    limit: number,
    options?: ClaimStepsOptions,
  ): Promise<ScheduledStep[]> {
    return claimDueSteps(this.conn, now, leaseMs, limit, options);
  }

  async completeSteps(ids: string[]): Promise<void> {
    if (ids.length > 0) this.conn.write(() => completeSteps(this.conn, ids));
  }

  async getEvent(id: string): Promise<StoredEvent | null> {
    const row = this.get<EventRow>(`${EVENT_SELECT} WHERE e.id = ?`, id);
    return row === undefined ? null : toEvent(row);
  }

  async listEvents(q: EventQuery): Promise<Page<StoredEvent>> {
    return listEvents(q, SQLITE_DIALECT, EVENT_COLUMNS, this.runSql, toEvent);
  }

  async getDelivery(eventId: string, endpointId: string): Promise<DeliveryRecord | null> {
    const row = this.get<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE event_id = ? AND endpoint_id = ?`,
      eventId,
      endpointId,
    );
    return row === undefined ? null : toDelivery(row);
  }

  async listDeliveries(eventId: string): Promise<DeliveryRecord[]> {
    return this.all<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE event_id = ? ORDER BY created_at, id`,
      eventId,
    ).map(toDelivery);
  }

  async claimDue(options: ClaimOptions): Promise<ClaimedDelivery[]> {
    return claimDue(this.conn, options);
  }

  async wakeDeliveries(endpointIds: string[], now: number): Promise<number> {
    if (endpointIds.length === 0) return 0;
    // Enters by deliveries_endpoint_due. A live lease is left alone: its
    // next_attempt_at is the lease end, when the delivery comes back anyway.
    return this.run(
      `UPDATE deliveries SET next_attempt_at = @now
       WHERE endpoint_id IN (SELECT value FROM json_each(@ids)) AND status = 'pending'
         AND next_attempt_at > @now AND (lease_until IS NULL OR lease_until <= @now)`,
      { ids: JSON.stringify(endpointIds), now },
    );
  }

  async recoverLeases(_owner: string, now: number): Promise<number> {
    // This server owns the file (SqliteConn): every lease in it was an earlier run's.
    return this.run(
      `UPDATE deliveries SET next_attempt_at = @now, lease_until = NULL, lease_owner = NULL
       WHERE status = 'pending' AND lease_until > @now`,
      { now },
    );
  }

  async heartbeat(): Promise<{ released: number; deadNodes: string[] }> {
    // One server owns the file: there is no other node to watch.
    return { released: 0, deadNodes: [] };
  }

  async trimListenBacklog(
    endpointIds: string[],
    bound: { createdAfter: number; newest: number },
    now: number,
  ): Promise<{ dropped: number; pending: number }> {
    if (endpointIds.length === 0) return { dropped: 0, pending: 0 };
    const ids = JSON.stringify(endpointIds);
    return this.conn.write(() => {
      const dropped = this.run(
        `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL
         WHERE endpoint_id IN (SELECT value FROM json_each(@ids)) AND status = 'pending'
           AND (lease_until IS NULL OR lease_until <= @now)
           AND (created_at < @createdAfter OR id NOT IN (
             SELECT id FROM deliveries
             WHERE endpoint_id IN (SELECT value FROM json_each(@ids)) AND status = 'pending'
             ORDER BY created_at DESC, id DESC LIMIT @newest))`,
        { ids, now, createdAfter: bound.createdAfter, newest: bound.newest },
      );
      const row = this.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM deliveries WHERE endpoint_id IN (SELECT value FROM json_each(?)) AND status = 'pending'`,
        ids,
      );
      return { dropped, pending: Number(row?.n ?? 0) };
    });
  }

  async recordAttempts(results: AttemptResult[]): Promise<void> {
    recordAttempts(this.conn, results);
  }

  // One server owns the file, and it wakes its own engine: nobody else publishes.
  watchDue(_listener: () => void): () => void {
    return () => {};
  }

  async recordAndClaim(results: AttemptResult[], claim: ClaimOptions): Promise<ClaimedDelivery[]> {
    return this.conn.writeRelaxed(() => {
      recordAttempts(this.conn, results);
      return claimDue(this.conn, claim);
    });
  }

  async nextDueAt(): Promise<number | null> {
    // listen = 0 matches the partial index deliveries_due.
    const row = this.get<{ at: number | null }>(
      `SELECT MIN(next_attempt_at) AS at FROM deliveries WHERE status = 'pending' AND listen = 0`,
    );
    return row?.at ?? null;
  }

  async listAttempts(q: AttemptQuery): Promise<Page<AttemptRecord>> {
    const { rows, plan } = await listPage<AttemptRow>(
      attemptsQuery(q),
      SQLITE_DIALECT.placeholder,
      this.runSql,
    );
    return finishPage(rows.map(toAttempt), plan);
  }

  // Idempotency

  async getIdempotency(scope: string, key: string): Promise<IdempotencyRecord | null> {
    const row = this.get<IdempotencyRow>(
      `SELECT scope, key, request_hash, status_code, response_body, created_at
       FROM idempotency_keys WHERE scope = ? AND key = ?`,
      scope,
      key,
    );
    return row === undefined ? null : toIdempotency(row);
  }

  async putIdempotency(r: IdempotencyRecord): Promise<boolean> {
    const inserted = this.run(
      `INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response_body, created_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING`,
      r.scope,
      r.key,
      r.requestHash,
      r.statusCode,
      r.responseBody,
      r.createdAt,
    );
    return inserted > 0;
  }

  async reserveIdempotency(
    r: { scope: string; key: string; requestHash: string; createdAt: number },
    limits: { staleBefore: number; expiredBefore: number },
  ): Promise<IdempotencyReservation> {
    return this.conn.write(() => {
      const taken =
        this.run(
          `INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response_body, created_at)
           VALUES (@scope, @key, @requestHash, ${IDEMPOTENCY_IN_PROGRESS}, '', @createdAt)
           ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash,
             status_code = excluded.status_code, response_body = excluded.response_body, created_at = excluded.created_at
           WHERE created_at < @expiredBefore OR (status_code = ${IDEMPOTENCY_IN_PROGRESS} AND created_at < @staleBefore)`,
          { ...r, ...limits },
        ) > 0;
      if (taken) return { kind: 'reserved' };
      const row = this.get<IdempotencyRow>(
        'SELECT scope, key, request_hash, status_code, response_body, created_at FROM idempotency_keys WHERE scope = ? AND key = ?',
        r.scope,
        r.key,
      );
      return { kind: 'existing', record: toIdempotency(row!) };
    });
  }

  async completeIdempotency(
    scope: string,
    key: string,
    statusCode: number,
    responseBody: string,
  ): Promise<void> {
    this.run(
      `UPDATE idempotency_keys SET status_code = ?, response_body = ? WHERE scope = ? AND key = ? AND status_code = ${IDEMPOTENCY_IN_PROGRESS}`,
      statusCode,
      responseBody,
      scope,
      key,
    );
  }

  async releaseIdempotency(scope: string, key: string): Promise<void> {
    this.run(
      `DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND status_code = ${IDEMPOTENCY_IN_PROGRESS}`,
      scope,
      key,
    );
  }

  async prune(
    eventsBefore: number,
    idempotencyBefore: number,
  ): Promise<{ events: number; idempotency: number }> {
    // created_unix * 1000 < eventsBefore, for whole seconds.
    const beforeUnix = Math.ceil(eventsBefore / 1000);
    return this.conn.write(() => {
      this.run(
        'DELETE FROM delivery_attempts WHERE event_id IN (SELECT id FROM events WHERE created_unix < ?)',
        beforeUnix,
      );
      // Deliveries go with their event (ON DELETE CASCADE).
      const events = this.run('DELETE FROM events WHERE created_unix < ?', beforeUnix);
      const idempotency = this.run('DELETE FROM idempotency_keys WHERE created_at < ?', idempotencyBefore);
      return { events, idempotency };
    });
  }

  async maintain(): Promise<MaintenanceReport> {
    // Old row versions do not outlive a commit in SQLite (WAL checkpoints reuse the pages).
    return { vacuumed: false, churned: 0 };
  }
}
