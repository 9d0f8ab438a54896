import type pg from 'pg';
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
import { finishPage } from '../paging.js';
import { applyEndpointPatch } from '../patch.js';
import { RoutableCache, resultsChangeEndpoints } from '../routableCache.js';
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
import { appendOne, EventAppender, updateAccountSql } from './appendEvent.js';
import { claimDue } from './claimDue.js';
import { migrate } from './migrate.js';
import { NodeSignals } from './nodeSignals.js';
import {
  createPool,
  isPostgresUnavailable,
  mapWriteError,
  prepared,
  type Queryable,
  transaction,
} from './pool.js';
import { putObjects } from './putObjects.js';
import { CANCEL_PENDING, PAUSE_PENDING, RESUME_PAUSED, recordAttempts } from './recordAttempts.js';
import { claimDueSteps, completeSteps, scheduleSteps } from './scheduledSteps.js';

export interface PostgresStoreOptions {
  connectionString: string;
  /** Where the tables live; created by migrate() if missing. Default `public`. */
  schema?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /**
   * With the server's autovacuum off, `maintain()` vacuums the deliveries
   * table once this many delivery rows were rewritten (default 10,000; 0: never).
   */
  vacuumAfterRows?: number;
}

const NOT_LISTEN = 'NOT d.listen';
// Listen sessions are not webhook endpoints to the API: they count in neither pending_webhooks nor delivery_success.
const PENDING_COUNT = `(SELECT COUNT(*) FROM deliveries d WHERE d.event_id = e.id AND d.status IN ('pending', 'failed') AND ${NOT_LISTEN})`;
const EVENT_COLUMNS = `e.id, e.account_id, e.livemode, e.type, e.created_unix, e.body, e.request_id, e.idempotency_key,
  ${PENDING_COUNT} AS pending_webhooks`;
const EVENT_SELECT = `SELECT ${EVENT_COLUMNS} FROM events e`;

const POSTGRES_DIALECT: SqlDialect = {
  placeholder: (n) => `$${n}`,
  bool: (v) => v,
  notListen: NOT_LISTEN,
  // Bytewise, whatever the database's collation: prefix ranges rely on it, and so does the index.
  typeColumn: 'e.type COLLATE "C"',
  owedJoin: 'owed o JOIN events e ON e.id = o.event_id',
  rowKey: 'id',
};
const PLATFORM_SELECT = 'SELECT id, application_id, name, created_at FROM platforms LIMIT 1';
const API_KEY_COLUMNS = 'hash, platform_id, livemode, hint, created_at';

/** The PostgreSQL store: several nodes may share one database (SKIP LOCKED claims, leases). */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  return withTypedErrors<Store>(new PostgresStore(options), isPostgresUnavailable);
}

class PostgresStore implements Store {
  readonly engine = 'postgres';
  private readonly pool: pg.Pool;
  /**
   * Claims and attempt results: their commits do not wait for the WAL flush
   * (synchronous_commit off). A database crash can lose the last few of
   * them, which only repeats a delivery (at-least-once), never loses an
   * event; the next synchronous commit (every publish) flushes them too.
   * Publishes and API writes stay on `pool`, fully synchronous.
   */
  private readonly relaxed: pg.Pool;
  private readonly schema: string;
  private readonly appender: EventAppender;
  private readonly vacuumAfterRows: number;
  /** Delivery rows rewritten by claims and results since `maintain()` last looked. */
  private churned = 0;
  private readonly signals: NodeSignals;
  /**
   * Caches for what every request reads (its API key, a publish's endpoints),
   * trusted only while this node listens for other nodes' changes
   * (nodeSignals.ts); set up on first use.
   */
  private readonly keyCache = new Map<string, ApiKeyRecord>();
  private keyGeneration = 0;
  private readonly routable = new RoutableCache(1000, Date.now);
  private cachesWatched = false;

  constructor(options: PostgresStoreOptions) {
    this.schema = options.schema ?? 'public';
    this.pool = createPool(options.connectionString, this.schema, options.poolSize);
    // One engine loop per node claims and records: a few connections serve them.
    this.relaxed = createPool(options.connectionString, this.schema, 4, { synchronous_commit: 'off' });
    this.appender = new EventAppender(this.pool);
    this.vacuumAfterRows = options.vacuumAfterRows ?? 10_000;
    this.signals = new NodeSignals(options.connectionString, this.schema, (channel, topic) =>
      this.pool.query('SELECT pg_notify($1, $2)', [channel, topic]),
    );
  }

  watchDue(listener: () => void): () => void {
    return this.signals.watch('due', listener);
  }

  /** The caches can be used: this node listens for other nodes' changes. */
  private cachesUsable(): boolean {
    if (!this.cachesWatched) {
      this.cachesWatched = true;
      this.signals.watch('keys', () => this.dropKeys());
      this.signals.watch('endpoints', () => this.routable.invalidate());
    }
    return this.signals.listening;
  }

  private dropKeys(): void {
    this.keyGeneration++;
    this.keyCache.clear();
  }

  /** An endpoint changed here: drop it from every node's cache. */
  private endpointsChanged(): void {
    this.routable.invalidate();
    this.signals.signal('endpoints');
  }

  private async rows<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    db: Queryable = this.pool,
  ) {
    return (await db.query<R>(sql, params)).rows;
  }

  private async one<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    db: Queryable = this.pool,
  ) {
    return (await db.query<R>(sql, params)).rows[0];
  }

  private async run(sql: string, params: unknown[] = [], db: Queryable = this.pool): Promise<number> {
    return (await db.query(sql, params)).rowCount ?? 0;
  }

  /** A statement on the pool, for the shared query helpers (listQuery.ts, eventList.ts). */
  private readonly runSql: RunSql = async <R>(sql: { text: string; values: unknown[] }) =>
    this.rows<R & pg.QueryResultRow>(sql.text, sql.values);

  async migrate(): Promise<void> {
    await migrate(this.pool, this.schema);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.pool.ended) return;
    await this.signals.close();
    await this.appender.drain();
    await Promise.all([this.pool.end(), this.relaxed.end()]);
  }

  // Platform and keys

  async getPlatform(): Promise<PlatformRecord | null> {
    const row = await this.one<PlatformRow>(PLATFORM_SELECT);
    return row === undefined ? null : toPlatform(row);
  }

  async initPlatform(platform: PlatformRecord, keys: ApiKeyRecord[]): Promise<PlatformRecord> {
    return transaction(this.pool, async (client) => {
      // The singleton column makes a second platform conflict, even from another node.
      const created = await this.run(
        `INSERT INTO platforms (id, application_id, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [platform.id, platform.applicationId, platform.name, platform.createdAt],
        client,
      );
      if (created > 0) await this.insertKeys(keys, client);
      return toPlatform((await this.one<PlatformRow>(PLATFORM_SELECT, [], client))!);
    });
  }

  private async insertKeys(all: ApiKeyRecord[], db: Queryable): Promise<void> {
    // One statement cannot upsert a row twice: a key given twice keeps the last.
    const keys = [...new Map(all.map((k) => [k.hash, k])).values()];
    if (keys.length === 0) return;
    await db.query(
      `INSERT INTO api_keys (${API_KEY_COLUMNS})
       SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::bigint[])
       ON CONFLICT (hash) DO UPDATE SET platform_id = excluded.platform_id, livemode = excluded.livemode,
         hint = excluded.hint, created_at = excluded.created_at`,
      [
        keys.map((k) => k.hash),
        keys.map((k) => k.platformId),
        keys.map((k) => k.livemode),
        keys.map((k) => k.hint),
        keys.map((k) => k.createdAt),
      ],
    );
  }

  async putApiKeys(keys: ApiKeyRecord[]): Promise<void> {
    // One statement: atomic on its own.
    await this.insertKeys(keys, this.pool);
  }

  async findApiKey(hash: string): Promise<ApiKeyRecord | null> {
    // Only keys found are kept: a key created on another node is found at its first use.
    const usable = this.cachesUsable();
    const cached = usable ? this.keyCache.get(hash) : undefined;
    if (cached) return cached;
    const generation = this.keyGeneration;
    const row = await this.one<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE hash = $1`, [hash]);
    const record = row === undefined ? null : toApiKey(row);
    // Not kept if a revocation was heard meanwhile: the row read may be the revoked key.
    if (record && usable && generation === this.keyGeneration) {
      if (this.keyCache.size >= 1000) this.keyCache.clear();
      this.keyCache.set(hash, record);
    }
    return record;
  }

  async deleteApiKey(hash: string): Promise<boolean> {
    const deleted = (await this.run('DELETE FROM api_keys WHERE hash = $1', [hash])) > 0;
    this.dropKeys();
    // Every other node forgets it too.
    if (deleted) this.signals.signal('keys');
    return deleted;
  }

  async listApiKeys(platformId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.rows<ApiKeyRow>(
      `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE platform_id = $1 ORDER BY created_at, hash`,
      [platformId],
    );
    return rows.map(toApiKey);
  }

  // Connected accounts

  async createAccount(a: AccountRecord): Promise<void> {
    try {
      await this.pool.query(`INSERT INTO accounts (${ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        a.id,
        a.platformId,
        JSON.stringify(a.object),
        a.createdAt,
        a.deauthorizedAt,
        a.connectedModes.test,
        a.connectedModes.live,
      ]);
    } catch (err) {
      throw mapWriteError(err, `Account ${a.id}`);
    }
  }

  async getAccount(id: string): Promise<AccountRecord | null> {
    const row = await this.one<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1`, [id]);
    return row === undefined ? null : toAccount(row);
  }

  async updateAccount(id: string, object: JsonObject, changes: AccountChanges = {}): Promise<void> {
    const { text, values } = updateAccountSql(id, object, changes);
    await this.run(text, values);
  }

  async listAccounts(
    platformId: string,
    page: PageQuery,
    filter: AccountFilter = {},
  ): Promise<Page<AccountRecord>> {
    const { rows, plan } = await listPage<AccountRow>(
      accountsQuery(platformId, page, filter, POSTGRES_DIALECT.bool),
      POSTGRES_DIALECT.placeholder,
      this.runSql,
    );
    return finishPage(rows.map(toAccount), plan);
  }

  // Webhook endpoints

  async createEndpoint(w: EndpointRecord): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO webhook_endpoints (${ENDPOINT_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
        [
          w.id,
          w.ownerAccountId,
          w.livemode,
          w.connect,
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
        ],
      );
    } catch (err) {
      throw mapWriteError(err, `Webhook endpoint ${w.id}`);
    } finally {
      this.endpointsChanged();
    }
  }

  async getEndpoint(id: string): Promise<EndpointRecord | null> {
    const row = await this.one<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`,
      [id],
    );
    return row === undefined ? null : toEndpoint(row);
  }

  async updateEndpoint(id: string, patch: EndpointPatch): Promise<EndpointRecord | null> {
    try {
      return await this.updateEndpointRow(id, patch);
    } finally {
      this.endpointsChanged();
    }
  }

  private updateEndpointRow(id: string, patch: EndpointPatch): Promise<EndpointRecord | null> {
    return transaction(this.pool, async (client) => {
      const row = await this.one<EndpointRow>(
        `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 FOR UPDATE`,
        [id],
        client,
      );
      if (row === undefined) return null;
      const current = toEndpoint(row);
      const next = applyEndpointPatch(current, patch);
      await client.query(
        `UPDATE webhook_endpoints SET url = $2, enabled_events = $3, description = $4, metadata = $5, status = $6,
           disabled_reason = $7, secrets = $8 WHERE id = $1`,
        [
          id,
          next.url,
          JSON.stringify(next.enabledEvents),
          next.description,
          JSON.stringify(next.metadata),
          next.status,
          next.disabledReason,
          JSON.stringify(next.secrets),
        ],
      );
      if (next.status !== current.status) {
        // A listen session's deliveries end with it; an endpoint's wait, and resume if it is enabled again.
        if (next.status === 'enabled')
          await client.query(prepared('sb_resume_paused', RESUME_PAUSED, [[id]]));
        else if (next.listenKey === null)
          await client.query(prepared('sb_pause_pending', PAUSE_PENDING, [[id]]));
        else await client.query(prepared('sb_cancel_pending', CANCEL_PENDING, [[id]]));
      }
      return next;
    });
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    try {
      return await transaction(this.pool, async (client) => {
        const deleted = (await this.run('DELETE FROM webhook_endpoints WHERE id = $1', [id], client)) > 0;
        if (deleted) await client.query(prepared('sb_cancel_pending', CANCEL_PENDING, [[id]]));
        return deleted;
      });
    } finally {
      this.endpointsChanged();
    }
  }

  async listEndpoints(
    ownerAccountId: string,
    livemode: boolean,
    page: PageQuery,
  ): Promise<Page<EndpointRecord>> {
    const { rows, plan } = await listPage<EndpointRow>(
      endpointsQuery(ownerAccountId, livemode, page, POSTGRES_DIALECT.bool),
      POSTGRES_DIALECT.placeholder,
      this.runSql,
    );
    return finishPage(rows.map(toEndpoint), plan);
  }

  async countEndpoints(ownerAccountId: string, livemode: boolean): Promise<number> {
    const row = await this.one<{ n: number }>(
      'SELECT COUNT(*) AS n FROM webhook_endpoints WHERE owner_account_id = $1 AND livemode = $2 AND listen_key IS NULL',
      [ownerAccountId, livemode],
    );
    return row?.n ?? 0;
  }

  async listRoutableEndpoints(ownerAccountIds: string[]): Promise<EndpointRecord[]> {
    if (ownerAccountIds.length === 0) return [];
    if (this.cachesUsable()) return this.routable.get(ownerAccountIds, (owners) => this.readRoutable(owners));
    return this.readRoutable(ownerAccountIds);
  }

  private async readRoutable(ownerAccountIds: string[]): Promise<EndpointRecord[]> {
    const rows = await this.rows<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
       WHERE owner_account_id = ANY ($1::text[]) AND status = 'enabled' ORDER BY seq`,
      [ownerAccountIds],
    );
    return rows.map(toEndpoint);
  }

  async findListenEndpoints(listenKey: string): Promise<EndpointRecord[]> {
    const rows = await this.rows<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE listen_key = $1 ORDER BY seq`,
      [listenKey],
    );
    return rows.map(toEndpoint);
  }

  // Events and deliveries

  async appendEvent(event: EventRecord, deliveries: NewDelivery[], effect?: EventEffect): Promise<void> {
    await this.append(event, deliveries, effect);
    // Webhook deliveries left for a claim: whichever node is idle takes them now.
    if (deliveries.some((d) => d.lease === undefined && d.listen !== true)) this.signals.signal('due');
  }

  private append(event: EventRecord, deliveries: NewDelivery[], effect?: EventEffect): Promise<void> {
    if (!effect) return this.appender.append(event, deliveries);
    // Rare next to plain publishes: its own transaction, outside the group commit.
    return transaction(this.pool, async (client) => {
      if (effect.account) {
        const { text, values } = updateAccountSql(
          effect.account.id,
          effect.account.object,
          effect.account.changes,
        );
        await client.query(text, values);
      }
      if (effect.objects) await putObjects(client, effect.objects);
      if (effect.scheduleSteps) await scheduleSteps(client, effect.scheduleSteps);
      if (effect.completeSteps) await completeSteps(client, effect.completeSteps);
      try {
        await appendOne(client, event, deliveries);
      } catch (err) {
        throw mapWriteError(err, `Event ${event.id}`);
      }
    });
  }

  // Emulated objects

  async getObject(id: string): Promise<ObjectRecord | null> {
    const row = await this.one<ObjectRow>(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE id = $1`, [id]);
    return row === undefined ? null : toObject(row);
  }

  async listObjects(q: ObjectQuery): Promise<Page<ObjectRecord>> {
    const { rows, plan } = await listPage<ObjectRow>(
      objectsQuery(q, POSTGRES_DIALECT.bool),
      POSTGRES_DIALECT.placeholder,
      this.runSql,
    );
    return finishPage(rows.map(toObject), plan);
  }

  async putObjects(objects: ObjectRecord[]): Promise<void> {
    await putObjects(this.pool, objects);
  }

  // Scheduled steps

  async claimDueSteps(
    now: number,
    leaseMs: number,
    limit: number,
    options?: ClaimStepsOptions,
  ): Promise<ScheduledStep[]> {
    return claimDueSteps(this.relaxed, now, leaseMs, limit, options);
  }

  async completeSteps(ids: string[]): Promise<void> {
    await completeSteps(this.pool, ids);
  }

  async getEvent(id: string): Promise<StoredEvent | null> {
    const row = await this.one<EventRow>(`${EVENT_SELECT} WHERE e.id = $1`, [id]);
    return row === undefined ? null : toEvent(row);
  }

  async listEvents(q: EventQuery): Promise<Page<StoredEvent>> {
    return listEvents(q, POSTGRES_DIALECT, EVENT_COLUMNS, this.runSql, toEvent);
  }

  async getDelivery(eventId: string, endpointId: string): Promise<DeliveryRecord | null> {
    const row = await this.one<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE event_id = $1 AND endpoint_id = $2`,
      [eventId, endpointId],
    );
    return row === undefined ? null : toDelivery(row);
  }

  async listDeliveries(eventId: string): Promise<DeliveryRecord[]> {
    const rows = await this.rows<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE event_id = $1 ORDER BY created_at, id`,
      [eventId],
    );
    return rows.map(toDelivery);
  }

  async claimDue(options: ClaimOptions): Promise<ClaimedDelivery[]> {
    const claimed = await claimDue(this.relaxed, options);
    this.churned += claimed.length;
    return claimed;
  }

  async recoverLeases(owner: string, now: number): Promise<number> {
    return this.run(
      `UPDATE deliveries SET next_attempt_at = $2, lease_until = NULL, lease_owner = NULL
       WHERE status = 'pending' AND lease_owner = $1 AND lease_until > $2`,
      [owner, now],
    );
  }

  async heartbeat(
    node: string,
    now: number,
    deadBefore: number,
  ): Promise<{ released: number; deadNodes: string[] }> {
    await this.run(
      `INSERT INTO nodes (id, heartbeat_at) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = GREATEST(nodes.heartbeat_at, excluded.heartbeat_at)`,
      [node, now],
    );
    // Rare: only when a node has gone quiet does anything scan the deliveries for its leases.
    const dead = await this.rows<{ id: string }>(
      'SELECT id FROM nodes WHERE heartbeat_at < $1 AND id <> $2',
      [deadBefore, node],
    );
    if (dead.length === 0) return { released: 0, deadNodes: [] };
    const ids = dead.map((d) => d.id);
    const outcome = await transaction(this.pool, async (client) => {
      // Claimed again by whoever deletes the row: two survivors never both release.
      const gone = await client.query<{ id: string }>(
        'DELETE FROM nodes WHERE id = ANY ($1::text[]) AND heartbeat_at < $2 RETURNING id',
        [ids, deadBefore],
      );
      if (gone.rows.length === 0) return { released: 0, deadNodes: [] };
      const released = await client.query(
        `UPDATE deliveries SET next_attempt_at = $2, lease_until = NULL, lease_owner = NULL
         WHERE status = 'pending' AND lease_owner = ANY ($1::text[]) AND lease_until > $2`,
        [gone.rows.map((r) => r.id), now],
      );
      return { released: released.rowCount ?? 0, deadNodes: gone.rows.map((r) => r.id) };
    });
    // The silent node's deliveries are due: every live node may take them.
    if (outcome.released > 0) this.signals.signal('due');
    return outcome;
  }

  async trimListenBacklog(
    endpointIds: string[],
    bound: { createdAfter: number; newest: number },
    now: number,
  ): Promise<{ dropped: number; pending: number }> {
    if (endpointIds.length === 0) return { dropped: 0, pending: 0 };
    return transaction(this.pool, async (client) => {
      const dropped = await this.run(
        `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL
         WHERE endpoint_id = ANY ($1::text[]) AND status = 'pending'
           AND (lease_until IS NULL OR lease_until <= $2)
           AND (created_at < $3 OR id NOT IN (
             SELECT id FROM deliveries
             WHERE endpoint_id = ANY ($1::text[]) AND status = 'pending'
             ORDER BY created_at DESC, id DESC LIMIT $4))`,
        [endpointIds, now, bound.createdAfter, bound.newest],
        client,
      );
      const row = await this.one<{ n: string }>(
        `SELECT COUNT(*) AS n FROM deliveries WHERE endpoint_id = ANY ($1::text[]) AND status = 'pending'`,
        [endpointIds],
        client,
      );
      return { dropped, pending: Number(row?.n ?? 0) };
    });
  }

  async wakeDeliveries(endpointIds: string[], now: number): Promise<number> {
    if (endpointIds.length === 0) return 0;
    // Enters by deliveries_endpoint_due. A row being claimed right now is
    // re-checked once the claim commits: leased by then, it is left alone (its
    // next_attempt_at is the lease end, when it comes back anyway).
    return this.run(
      `UPDATE deliveries SET next_attempt_at = $2
       WHERE endpoint_id = ANY ($1::text[]) AND status = 'pending'
         AND next_attempt_at > $2 AND (lease_until IS NULL OR lease_until <= $2)`,
      [endpointIds, now],
    );
  }

  async recordAttempts(results: AttemptResult[]): Promise<void> {
    try {
      await recordAttempts(this.relaxed, results);
    } finally {
      // An endpoint disabled by these results routes nothing more, on any node.
      if (resultsChangeEndpoints(results)) this.endpointsChanged();
    }
    this.churned += results.length;
  }

  // Two statements, each its own transaction: one transaction around both would cost PostgreSQL more round
  // trips (BEGIN, COMMIT) than it saves, and nothing needs them atomic (a result and a claim are independent).
  async recordAndClaim(results: AttemptResult[], claim: ClaimOptions): Promise<ClaimedDelivery[]> {
    await this.recordAttempts(results);
    return this.claimDue(claim);
  }

  async nextDueAt(): Promise<number | null> {
    // NOT listen matches the partial index deliveries_due.
    const row = await this.one<{ at: number | null }>(
      `SELECT MIN(next_attempt_at) AS at FROM deliveries WHERE status = 'pending' AND NOT listen`,
    );
    return row?.at ?? null;
  }

  async listAttempts(q: AttemptQuery): Promise<Page<AttemptRecord>> {
    const { rows, plan } = await listPage<AttemptRow>(
      attemptsQuery(q),
      POSTGRES_DIALECT.placeholder,
      this.runSql,
    );
    return finishPage(rows.map(toAttempt), plan);
  }

  // Idempotency

  async getIdempotency(scope: string, key: string): Promise<IdempotencyRecord | null> {
    const row = await this.one<IdempotencyRow>(
      `SELECT scope, key, request_hash, status_code, response_body, created_at
       FROM idempotency_keys WHERE scope = $1 AND key = $2`,
      [scope, key],
    );
    return row === undefined ? null : toIdempotency(row);
  }

  async putIdempotency(r: IdempotencyRecord): Promise<boolean> {
    const inserted = await this.run(
      `INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response_body, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope, key) DO NOTHING`,
      [r.scope, r.key, r.requestHash, r.statusCode, r.responseBody, r.createdAt],
    );
    return inserted > 0;
  }

  async reserveIdempotency(
    r: { scope: string; key: string; requestHash: string; createdAt: number },
    limits: { staleBefore: number; expiredBefore: number },
  ): Promise<IdempotencyReservation> {
    // One statement: of two nodes inserting the same key at once, exactly one wins the row.
    const taken = await this.run(
      `INSERT INTO idempotency_keys AS i (scope, key, request_hash, status_code, response_body, created_at)
       VALUES ($1, $2, $3, ${IDEMPOTENCY_IN_PROGRESS}, '', $4)
       ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash,
         status_code = excluded.status_code, response_body = excluded.response_body, created_at = excluded.created_at
       WHERE i.created_at < $5 OR (i.status_code = ${IDEMPOTENCY_IN_PROGRESS} AND i.created_at < $6)`,
      [r.scope, r.key, r.requestHash, r.createdAt, limits.expiredBefore, limits.staleBefore],
    );
    if (taken > 0) return { kind: 'reserved' };
    const row = await this.one<IdempotencyRow>(
      'SELECT scope, key, request_hash, status_code, response_body, created_at FROM idempotency_keys WHERE scope = $1 AND key = $2',
      [r.scope, r.key],
    );
    // Gone between the two statements (pruned): try once more.
    if (row === undefined) return this.reserveIdempotency(r, limits);
    return { kind: 'existing', record: toIdempotency(row) };
  }

  async completeIdempotency(
    scope: string,
    key: string,
    statusCode: number,
    responseBody: string,
  ): Promise<void> {
    await this.run(
      `UPDATE idempotency_keys SET status_code = $3, response_body = $4
       WHERE scope = $1 AND key = $2 AND status_code = ${IDEMPOTENCY_IN_PROGRESS}`,
      [scope, key, statusCode, responseBody],
    );
  }

  async releaseIdempotency(scope: string, key: string): Promise<void> {
    await this.run(
      `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status_code = ${IDEMPOTENCY_IN_PROGRESS}`,
      [scope, key],
    );
  }

  async prune(
    eventsBefore: number,
    idempotencyBefore: number,
  ): Promise<{ events: number; idempotency: number }> {
    // created_unix * 1000 < eventsBefore, for whole seconds.
    const beforeUnix = Math.ceil(eventsBefore / 1000);
    return transaction(this.pool, async (client) => {
      await client.query(
        'DELETE FROM delivery_attempts WHERE event_id IN (SELECT id FROM events WHERE created_unix < $1)',
        [beforeUnix],
      );
      // Deliveries go with their event (ON DELETE CASCADE).
      const events = await this.run('DELETE FROM events WHERE created_unix < $1', [beforeUnix], client);
      const idempotency = await this.run(
        'DELETE FROM idempotency_keys WHERE created_at < $1',
        [idempotencyBefore],
        client,
      );
      return { events, idempotency };
    });
  }

  async maintain(): Promise<MaintenanceReport> {
    const churned = this.churned;
    if (this.vacuumAfterRows <= 0 || churned < this.vacuumAfterRows || this.pool.ended)
      return { vacuumed: false, churned: 0 };
    this.churned = 0;
    const { rows } = await this.pool.query<{ on: boolean }>(
      "SELECT current_setting('autovacuum') = 'on' AS on",
    );
    // With autovacuum on, the table's own thresholds (migration 004) have it vacuumed often enough.
    if (rows[0]?.on === true) return { vacuumed: false, churned };
    // SKIP_LOCKED: another node vacuuming it already is enough.
    await this.relaxed.query('VACUUM (SKIP_LOCKED) deliveries');
    return { vacuumed: true, churned };
  }
}
