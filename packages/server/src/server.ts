/**
 * Assembling a Switchboard: open the store, make sure the platform and its
 * keys exist, build the API and the delivery engine, and put them on a socket.
 *
 * @example
 * const sb = await createSwitchboard({ databaseUrl: 'sqlite:switchboard.db', allowPrivateTargets: true });
 * const { url } = await sb.listen(12111);
 * // … later
 * await sb.close();
 */

import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { createApi } from './api/app.js';
import {
  type ApiEnv,
  type DeliverySettings,
  type Logger,
  type Runtime,
  silentLogger,
} from './api/context.js';
import { IDEMPOTENCY_TTL_MS, sha256 } from './api/middleware.js';
import { publishDeps } from './api/routes/events.js';
import { type Clock, systemClock } from './clock.js';
import { createDeliveryEngine, type DeliveryEngine } from './delivery/engine.js';
import { DEFAULT_DISABLE_AFTER_MS } from './delivery/giveUp.js';
import { createHttpTransport } from './delivery/httpTransport.js';
import { DEFAULT_LIVE_SCHEDULE_MS, DEFAULT_TEST_SCHEDULE_MS } from './delivery/retrySchedule.js';
import { newId, randomToken } from './ids.js';
import { DEFAULT_API_VERSION } from './objects/event.js';
import { DEFAULT_FUNDS_PENDING_MS, paymentStepHandlers } from './services/payments.js';
import { DEFAULT_PAYOUT_SETTLE_MS, payoutStepHandlers } from './services/payouts.js';
import { createScheduler, type Scheduler } from './services/scheduler.js';
import { createListenHub, type ListenHub } from './sessions/listenHub.js';
import { ListenSessions } from './sessions/websocketTransport.js';
import { openStore } from './store/open.js';
import type { ApiKeyRecord, MaintenanceReport, PlatformRecord, Store } from './store/types.js';
import { isStripeApiVersion } from './stripe/apiVersions.js';

export const DEFAULT_PORT = 12111;

export interface SwitchboardConfig {
  /** `sqlite:<path>`, `sqlite::memory:` or `postgres://…`. Ignored when `store` is given. */
  databaseUrl?: string;
  /** An already-open store (tests). */
  store?: Store;
  /** Keys to accept; generated on the first start when absent. */
  testKey?: string;
  liveKey?: string;
  /** Deliver to private, loopback and link-local addresses (local development). */
  allowPrivateTargets?: boolean;
  /** Replace the retry schedule of both modes (e.g. `[1000, 2000, 5000]` for demos and tests). */
  retrySchedule?: readonly number[];
  /** Per-attempt timeout (default 30 s, as the Stripe CLI's forwarder). */
  deliveryTimeoutMs?: number;
  maxBodyBytes?: number;
  maxInFlight?: number;
  perEndpointConcurrency?: number;
  /** How often the engine surveys for due work nobody told it of (retries, other nodes' publishes); default 1 s. */
  idlePollMs?: number;
  /** Start the delivery engine's loop (default true). Tests turn it off and step `engine.runOnce()`. */
  deliver?: boolean;
  /** Events (with their deliveries and attempts) older than this are removed; default 30 days. */
  retentionDays?: number;
  /** How often store upkeep runs (default 10 s): see `Store.maintain`. */
  maintenanceIntervalMs?: number;
  platformName?: string;
  /**
   * The accounts' default API version: what events carry unless an endpoint
   * was created with its own `api_version`. One of Stripe's published versions.
   */
  defaultApiVersion?: string;
  /** An endpoint that answers no 2xx for this long is disabled (default 3 days). */
  disableAfterMs?: number;
  /** How long a card charge's funds stay pending before they are available (default 10 s, as test mode hurries). */
  fundsPendingMs?: number;
  /** How long a payout takes to be paid or to fail (default 10 s). */
  payoutSettleMs?: number;
  /**
   * This node's stable name, the owner of its leases: a node started again
   * under the same name takes back at once what it had in flight. Default: a
   * new one per start (SQLite needs none: one server owns the file).
   */
  nodeId?: string;
  /**
   * The address clients reach the API at, when that is not this socket's (a
   * TLS proxy in front): `websocket_url` is built from it, so a listen session
   * is never weaker than the API (`https://…` gives `wss://…`).
   */
  publicUrl?: string;
  /** Take the client's scheme and host from `X-Forwarded-Proto` / `X-Forwarded-Host` (only behind a proxy that sets them). */
  trustProxy?: boolean;
  /** Time a client has to send a whole request, headers and body (default 30 s; Node's own is 300 s). */
  requestTimeoutMs?: number;
  /** Open client connections at once, listen websockets included (default 1024); past it new ones are dropped. */
  maxConnections?: number;
  /** Endpoint origins with an open connection pool at once (default 512); idle ones close after a minute. */
  maxOriginPools?: number;
  /**
   * PostgreSQL: a node unseen this long is taken for dead and the others
   * release its leases at once (default 10 s; each node says it is alive
   * every tenth of that).
   */
  nodeLivenessMs?: number;
  /** Speak HTTPS itself: a PEM certificate (chain) and key. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

export interface Switchboard {
  readonly app: Hono<ApiEnv>;
  readonly store: Store;
  readonly engine: DeliveryEngine;
  readonly platform: PlatformRecord;
  readonly listenHub: ListenHub;
  /** Runs the steps emulated objects set for later; tests call `runOnce()` after moving the clock. */
  readonly scheduler: Scheduler;
  /** Keys generated by this start: shown once, then only their hashes exist. */
  readonly generatedKeys: { test?: string; live?: string };
  /** Remove what is past retention now (the server also does it every hour). */
  prune(): Promise<{ events: number; idempotency: number }>;
  /** Store upkeep now (the server also does it every `maintenanceIntervalMs`): see `Store.maintain`. */
  maintain(): Promise<MaintenanceReport>;
  /** Listen on 127.0.0.1 (or `host`); port 0 picks a free one. */
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

export const generateApiKey = (livemode: boolean): string =>
  `${livemode ? 'sk_live_' : 'sk_test_'}${randomToken(32)}`;

function keyRecord(key: string, platformId: string, livemode: boolean, now: number): ApiKeyRecord {
  return { hash: sha256(key), platformId, livemode, hint: key.slice(-4), createdAt: now };
}

/** A key chosen by hand has at least this many characters after its prefix (generated ones have 32). */
export const MIN_KEY_SECRET_LENGTH = 16;

function checkKey(key: string | undefined, livemode: boolean): void {
  if (key === undefined) return;
  const prefix = livemode ? 'sk_live_' : 'sk_test_';
  if (
    !key.startsWith(prefix) ||
    key.length < prefix.length + MIN_KEY_SECRET_LENGTH ||
    !/^[A-Za-z0-9_]+$/.test(key)
  ) {
    throw new Error(
      `The ${livemode ? 'live' : 'test'} key must start with ${prefix} and have at least ${MIN_KEY_SECRET_LENGTH} more letters, digits or _.`,
    );
  }
}

export async function createSwitchboard(config: SwitchboardConfig = {}): Promise<Switchboard> {
  checkKey(config.testKey, false);
  checkKey(config.liveKey, true);
  if (config.publicUrl !== undefined) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(config.publicUrl);
    } catch {}
    if (
      !parsed ||
      (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
      parsed.pathname !== '/' ||
      parsed.search
    ) {
      throw new Error(
        `The public URL must be an http or https origin such as https://switchboard.example.com, got ${config.publicUrl}.`,
      );
    }
  }
  if (config.defaultApiVersion !== undefined && !isStripeApiVersion(config.defaultApiVersion)) {
    throw new Error(
      `Unknown API version '${config.defaultApiVersion}': use one Stripe has published, such as ${DEFAULT_API_VERSION}.`,
    );
  }
  const clock = config.clock ?? systemClock;
  const log = config.logger ?? silentLogger;
  const store = config.store ?? openStore(config.databaseUrl ?? 'sqlite:switchboard.db');
  await store.migrate();

  const now = clock();
  const generatedKeys: { test?: string; live?: string } = {};
  let platform = await store.getPlatform();
  if (!platform) {
    const candidate: PlatformRecord = {
      id: newId('acct', 16),
      applicationId: newId('ca', 24),
      name: config.platformName ?? 'Switchboard Platform',
      createdAt: now,
    };
    // A test key is made when none is given; a live key only when asked for (given, or `keys create` with one).
    const testKey = config.testKey ?? generateApiKey(false);
    const keys = [keyRecord(testKey, candidate.id, false, now)];
    if (config.liveKey) keys.push(keyRecord(config.liveKey, candidate.id, true, now));
    platform = await store.initPlatform(candidate, keys);
    // Another node may have created the platform first; then our keys were not stored.
    if (platform.id === candidate.id && !config.testKey) generatedKeys.test = testKey;
  }
  const given: ApiKeyRecord[] = [];
  if (config.testKey) given.push(keyRecord(config.testKey, platform.id, false, now));
  if (config.liveKey) given.push(keyRecord(config.liveKey, platform.id, true, now));
  if (given.length) await store.putApiKeys(given);

  const timeoutMs = config.deliveryTimeoutMs ?? 30_000;
  const delivery: DeliverySettings = {
    liveSchedule: config.retrySchedule ?? DEFAULT_LIVE_SCHEDULE_MS,
    testSchedule: config.retrySchedule ?? DEFAULT_TEST_SCHEDULE_MS,
    timeoutMs,
    // Covers a wait for an endpoint slot and a send that runs to its timeout, plus the write that records it.
    leaseMs: 2 * timeoutMs + 5000,
    random: config.random ?? Math.random,
  };
  const http = createHttpTransport({
    timeoutMs,
    allowPrivateTargets: config.allowPrivateTargets ?? false,
    ...(config.maxOriginPools ? { maxPools: config.maxOriginPools } : {}),
  });
  const disableAfterMs = config.disableAfterMs ?? DEFAULT_DISABLE_AFTER_MS;
  // The sessions of `switchboard listen` / `stripe listen` connected to this node, served by the same engine.
  const listenSessions = new ListenSessions(timeoutMs);
  const engine = createDeliveryEngine({
    store,
    http,
    listen: listenSessions,
    clock,
    random: delivery.random,
    liveSchedule: delivery.liveSchedule,
    testSchedule: delivery.testSchedule,
    leaseMs: delivery.leaseMs,
    ...(config.maxInFlight ? { maxInFlight: config.maxInFlight } : {}),
    ...(config.perEndpointConcurrency ? { perEndpointConcurrency: config.perEndpointConcurrency } : {}),
    ...(config.idlePollMs ? { surveyEveryMs: config.idlePollMs } : {}),
    disableAfterMs,
    ...(config.nodeId ? { owner: config.nodeId } : {}),
    onError: (error) => log.error('delivery engine error', { error: String(error) }),
    onWarning: (message, fields) => log.warn(message, fields),
  });

  const runtime: Runtime = {
    store,
    clock,
    platform,
    engine,
    allowPrivateTargets: config.allowPrivateTargets ?? false,
    defaultApiVersion: config.defaultApiVersion ?? DEFAULT_API_VERSION,
    disableAfterMs,
    fundsPendingMs: config.fundsPendingMs ?? DEFAULT_FUNDS_PENDING_MS,
    payoutSettleMs: config.payoutSettleMs ?? DEFAULT_PAYOUT_SETTLE_MS,
    // The scheduler is made from this runtime: bound once it exists, just below.
    runScheduledSteps: (options, request) => scheduler.runOnce(options, request),
    publicOrigin: config.publicUrl ? new URL(config.publicUrl).origin : null,
    trustProxy: config.trustProxy ?? false,
    log,
    delivery,
  };
  // Steps emulated objects set for later (funds available): run on delivering nodes, on the server's clock.
  const scheduler = createScheduler({
    store,
    clock,
    handlers: {
      ...paymentStepHandlers(
        { publish: publishDeps(runtime), store, clock, fundsPendingMs: runtime.fundsPendingMs },
        runtime.defaultApiVersion,
      ),
      ...payoutStepHandlers(
        { publish: publishDeps(runtime), store, clock, payoutSettleMs: runtime.payoutSettleMs },
        runtime.defaultApiVersion,
      ),
    },
    onError: (error, step) =>
      log.error('a scheduled step failed', { step: step.kind, id: step.id, error: String(error) }),
    onPassError: (error) => log.error('scheduled steps could not be claimed', { error: String(error) }),
  });
  const hub: ListenHub = createListenHub(runtime, listenSessions);
  const app = createApi(runtime, {
    ...(config.maxBodyBytes ? { maxBodyBytes: config.maxBodyBytes } : {}),
    extraRoutes: { '/v1/stripecli': hub.routes },
  });
  // What this node had in flight when it stopped goes out now, not when the leases run out.
  const recovered = await store.recoverLeases(engine.owner, clock());
  if (recovered > 0) log.info('in-flight deliveries of the previous run are due again', { count: recovered });
  if (config.deliver !== false) engine.start();
  if (config.deliver !== false) scheduler.start();
  // Other nodes' publishes and released leases (PostgreSQL): claimed now, not at the next survey.
  const unwatchDue = config.deliver !== false ? store.watchDue(() => engine.wake()) : () => {};

  const retentionMs = (config.retentionDays ?? 30) * 24 * 3600_000;
  const prune = () => store.prune(clock() - retentionMs, clock() - IDEMPOTENCY_TTL_MS);
  const pruneTimer = setInterval(() => {
    prune().catch((error: unknown) => log.error('prune failed', { error: String(error) }));
  }, 3600_000);
  pruneTimer.unref();
  // Often enough that a queue table churning thousands of rows a second is vacuumed before claims slow down.
  const maintain = () => store.maintain();
  const maintainTimer = setInterval(() => {
    maintain().catch((error: unknown) => log.error('maintenance failed', { error: String(error) }));
  }, config.maintenanceIntervalMs ?? 10_000);
  maintainTimer.unref();
  // Several nodes on PostgreSQL: say this one is alive, and take back what a silent one held.
  const livenessMs = config.nodeLivenessMs ?? 10_000;
  const heartbeat = async () => {
    const now = clock();
    const { released, deadNodes } = await store.heartbeat(engine.owner, now, now - livenessMs);
    if (released > 0 || deadNodes.length > 0) {
      log.warn('nodes went silent: their in-flight deliveries are due again', {
        nodes: deadNodes,
        count: released,
      });
      engine.wake();
    }
  };
  const heartbeatTimer =
    store.engine === 'postgres'
      ? setInterval(
          () => {
            heartbeat().catch((error: unknown) => log.error('heartbeat failed', { error: String(error) }));
          },
          Math.max(50, Math.floor(livenessMs / 10)),
        )
      : null;
  heartbeatTimer?.unref();
  if (heartbeatTimer) await heartbeat();

  let server: ServerType | null = null;
  let closed = false;
  return {
    app,
    store,
    engine,
    platform,
    listenHub: hub,
    scheduler,
    generatedKeys,
    prune,
    maintain,
    async listen(port = DEFAULT_PORT, host = '127.0.0.1') {
      // A slow body or a pile of idle connections holds no more than these. Timed-out requests are looked for
      // often enough for the bound to mean something (Node looks every 30 s by default).
      const requestTimeout = config.requestTimeoutMs ?? 30_000;
      const bounds = {
        requestTimeout,
        headersTimeout: Math.min(60_000, requestTimeout),
        connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(requestTimeout / 4))),
      };
      server = config.tls
        ? createAdaptorServer({
            fetch: app.fetch,
            createServer: createHttpsServer,
            serverOptions: { ...bounds, cert: config.tls.cert, key: config.tls.key },
          })
        : createAdaptorServer({ fetch: app.fetch, serverOptions: bounds });
      const s = server;
      (s as import('node:http').Server).maxConnections = config.maxConnections ?? 1024;
      s.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => resolve());
      });
      const actual = (s.address() as AddressInfo).port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      return { url: `${config.tls ? 'https' : 'http'}://${shownHost}:${actual}`, port: actual };
    },
    async close() {
      if (closed) return;
      closed = true;
      unwatchDue();
      clearInterval(pruneTimer);
      clearInterval(maintainTimer);
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      const s = server;
      if (s) {
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          // Keep-alive sockets would hold close() open.
          if ('closeAllConnections' in s) s.closeAllConnections();
        });
      }
      await hub.close();
      await scheduler.stop();
      await engine.stop();
      await http.close();
      if (!config.store) await store.close();
    },
  };
}
