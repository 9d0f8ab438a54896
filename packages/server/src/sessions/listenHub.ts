/**
 * Listen sessions: what `switchboard listen` connects to.
 *
 * A session is stored as hidden webhook endpoints (one for the caller's own
 * events, one for its connected accounts' events), keyed by the API key, so
 * routing, signing, retries and the attempt log are the same as for any
 * endpoint, and events published while the CLI is away wait for it. The
 * session's deliveries are claimed only by the delivery engine of the node
 * the CLI is connected to, and sent through its websocket instead of an HTTP
 * POST (websocketTransport.ts).
 */

import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Hono } from 'hono';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ApiEnv, Caller, Runtime } from '../api/context.js';
import { invalidParam, noSuch, unknownEventType } from '../api/errors.js';
import { sha256 } from '../api/middleware.js';
import { Params } from '../api/params.js';
import { newId } from '../ids.js';
import { MAX_ENABLED_EVENTS } from '../objects/webhookEndpoint.js';
import type { EndpointRecord } from '../store/types.js';
import { LATEST_API_VERSION } from '../stripe/apiVersions.js';
import { isStripeEventType } from '../stripe/eventTypes.js';
import {
  CATCH_UP_BOUNDS,
  type CatchUpMessage,
  CLOSE_CODES,
  type ListenSession,
  parseClientMessage,
  UNKNOWN_WEBSOCKET_ID,
  WEBSOCKET_ID_HEADER,
} from './protocol.js';
import { type ListenSessions, type LiveSession, listenEndpointUrl, noAnswer } from './websocketTransport.js';

export const WEBSOCKET_PATH = '/v1/stripecli/websocket';

/**
 * The websocket's address, on the origin the client reached the API at, so it
 * is never weaker than the API: the public URL when the server has one,
 * else what a trusted proxy forwarded, else the request's own.
 */
export function websocketUrl(
  rt: Pick<Runtime, 'publicOrigin' | 'trustProxy'>,
  requestUrl: string,
  header: (name: string) => string | undefined,
): string {
  let secure: boolean;
  let host: string;
  if (rt.publicOrigin) {
    const origin = new URL(rt.publicOrigin);
    secure = origin.protocol === 'https:';
    host = origin.host;
  } else {
    const request = new URL(requestUrl);
    secure = request.protocol === 'https:';
    host = header('host') ?? request.host;
    if (rt.trustProxy) {
      const proto = header('x-forwarded-proto')?.split(',')[0]?.trim();
      const forwardedHost = header('x-forwarded-host')?.split(',')[0]?.trim();
      if (proto === 'https' || proto === 'http') secure = proto === 'https';
      // Only a host (and port): anything else in the header is not one, and is not believed.
      if (forwardedHost && /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(forwardedHost))
        host = forwardedHost;
    }
  }
  return `${secure ? 'wss' : 'ws'}://${host}${WEBSOCKET_PATH}`;
}

/** Identifies the session owner: the key (hence the mode) and the account it acts as. */
export const listenKeyFor = (keyHash: string, accountId: string): string =>
  sha256(`listen:${keyHash}:${accountId}`);

export const sessionIdFor = (listenKey: string): string => `lss_${listenKey.slice(0, 24)}`;

/**
 * The session's signing secret: derived from the key, so it is the same on
 * every start and a developer's `.env` keeps working.
 */
export const listenSecretFor = (listenKey: string): string =>
  `whsec_${createHmac('sha256', 'switchboard listen secret').update(listenKey).digest('hex').slice(0, 40)}`;

const WEBSOCKET_ID_PREFIX = 'lws_';

/**
 * The `websocket_id` the client dials with (`Websocket-Id` header): the only
 * credential on the websocket, as with Stripe, so the API key never travels
 * on it. It names the session owner and cannot be made without the key: the
 * same on every node and after a restart, so no node has to remember it.
 */
export const websocketIdFor = (listenKey: string): string => `${WEBSOCKET_ID_PREFIX}${listenKey}`;

const listenKeyOfWebsocketId = (websocketId: string): string | null =>
  websocketId.startsWith(WEBSOCKET_ID_PREFIX) &&
  /^[0-9a-f]{64}$/.test(websocketId.slice(WEBSOCKET_ID_PREFIX.length))
    ? websocketId.slice(WEBSOCKET_ID_PREFIX.length)
    : null;

/**
 * Seconds between the connection resets the Stripe CLI makes on its own
 * (`reconnect_delay`; it redials with the same id). Switchboard's CLI reads
 * nothing from it.
 */
const RECONNECT_DELAY_S = 3600;

export interface ListenHub {
  routes: Hono<ApiEnv>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly connected: number;
  close(): Promise<void>;
}

export function createListenHub(rt: Runtime, sessions: ListenSessions): ListenHub {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 });
  const live = sessions.live;

  async function ensureEndpoints(
    caller: Caller,
    events: string[],
    connect: boolean,
  ): Promise<EndpointRecord[]> {
    const listenKey = listenKeyFor(caller.keyHash, caller.accountId);
    const secret = listenSecretFor(listenKey);
    const sessionId = sessionIdFor(listenKey);
    const existing = await rt.store.findListenEndpoints(listenKey);
    const wanted: boolean[] = caller.connectedAccount || !connect ? [false] : [false, true];
    const out: EndpointRecord[] = [];
    for (const isConnect of [false, true]) {
      const ep = existing.find((e) => e.connect === isConnect);
      if (!wanted.includes(isConnect)) {
        if (ep && ep.status === 'enabled')
          await rt.store.updateEndpoint(ep.id, {
            status: 'disabled',
            disabledReason: 'listen session without Connect events',
          });
        continue;
      }
      if (ep) {
        const updated = await rt.store.updateEndpoint(ep.id, {
          enabledEvents: events,
          status: 'enabled',
          disabledReason: null,
          secrets: [{ secret, expiresAt: null }],
        });
        if (updated) out.push(updated);
      } else {
        const record: EndpointRecord = {
          id: newId('we'),
          ownerAccountId: caller.accountId,
          livemode: caller.livemode,
          connect: isConnect,
          url: listenEndpointUrl(sessionId, isConnect),
          enabledEvents: events,
          status: 'enabled',
          disabledReason: null,
          apiVersion: null,
          description: `switchboard listen (${isConnect ? 'Connect' : 'account'} events)`,
          metadata: {},
          secrets: [{ secret, expiresAt: null }],
          createdAt: rt.clock(),
          lastSuccessAt: null,
          failingSince: null,
          listenKey,
        };
        await rt.store.createEndpoint(record);
        out.push(record);
      }
    }
    return out;
  }

  const routes = new Hono<ApiEnv>();

  // What `switchboard listen` and the Stripe CLI's `stripe listen` call first. The Stripe CLI filters events
  // and picks forward targets itself: its forward_* parameters are accepted and need nothing from the server.
  routes.post('/sessions', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), [
      'device_name',
      'websocket_features',
      'websocket_feature',
      'forward_to_url',
      'forward_connect_to_url',
      'forward_thin_to_url',
      'forward_thin_connect_to_url',
      'filters',
      // Switchboard extensions: server-side event filter, and whether Connect events come too.
      'events',
      'connect',
    ]);
    p.string('device_name', { maxLength: 200 });
    for (const name of [
      'forward_to_url',
      'forward_connect_to_url',
      'forward_thin_to_url',
      'forward_thin_connect_to_url',
    ])
      p.string(name, { maxLength: 2048 });
    p.string('filters', { maxLength: 10_000 });
    const features = [
      ...(p.stringArray('websocket_features') ?? []),
      ...(p.has('websocket_feature') ? [p.string('websocket_feature')!] : []),
    ];
    features.forEach((f, i) => {
      if (f.length > 64)
        throw invalidParam(`websocket_features[${i}]`, 'A websocket feature name is at most 64 characters.');
    });
    const events = p.stringArray('events') ?? ['*'];
    if (events.length > MAX_ENABLED_EVENTS)
      throw invalidParam(
        'events',
        `events may name at most ${MAX_ENABLED_EVENTS} event types (got ${events.length}).`,
      );
    events.forEach((e, i) => {
      if (e !== '*' && !isStripeEventType(e)) throw unknownEventType(`events[${i}]`, e);
    });
    const endpoints = await ensureEndpoints(
      caller,
      events.length ? [...new Set(events)] : ['*'],
      p.bool('connect') ?? true,
    );
    const listenKey = listenKeyFor(caller.keyHash, caller.accountId);
    const sessionId = sessionIdFor(listenKey);
    const session: ListenSession = {
      object: 'stripecli_session',
      id: sessionId,
      secret: listenSecretFor(listenKey),
      livemode: caller.livemode,
      // The client appends `?websocket_feature=…` to it: it carries no query of its own.
      websocket_url: websocketUrl(rt, c.req.url, (name) => c.req.header(name)),
      websocket_id: websocketIdFor(listenKey),
      websocket_authorized_feature: 'webhooks',
      reconnect_delay: RECONNECT_DELAY_S,
      default_version: rt.defaultApiVersion,
      latest_version: LATEST_API_VERSION,
      display_connect_filter_warning: false,
      endpoints: endpoints.map((e) => ({ id: e.id, connect: e.connect, enabled_events: e.enabledEvents })),
    };
    return c.json(session);
  });

  // A clean end (^C): the session's endpoints are disabled, which cancels what they still owe.
  routes.delete('/sessions/:id', async (c) => {
    const caller = c.get('caller');
    const listenKey = listenKeyFor(caller.keyHash, caller.accountId);
    if (c.req.param('id') !== sessionIdFor(listenKey)) throw noSuch('listen session', c.req.param('id'));
    for (const ep of await rt.store.findListenEndpoints(listenKey)) {
      if (ep.status === 'enabled')
        await rt.store.updateEndpoint(ep.id, { status: 'disabled', disabledReason: 'listen session ended' });
    }
    for (const ws of live.get(sessionIdFor(listenKey))?.sockets ?? [])
      ws.close(CLOSE_CODES.ended, 'session ended');
    return c.json({ id: c.req.param('id'), object: 'stripecli_session', deleted: true });
  });

  /** The session a `Websocket-Id` names, if it is one whose endpoints exist and are enabled. */
  async function sessionEndpoints(
    websocketId: string | undefined,
  ): Promise<{ listenKey: string; endpoints: EndpointRecord[] } | null> {
    const listenKey = websocketId ? listenKeyOfWebsocketId(websocketId) : null;
    if (!listenKey) return null;
    const endpoints = (await rt.store.findListenEndpoints(listenKey)).filter((e) => e.status === 'enabled');
    return endpoints.length === 0 ? null : { listenKey, endpoints };
  }

  function attach(ws: WebSocket, listenKey: string, endpoints: EndpointRecord[]): void {
    const sessionId = sessionIdFor(listenKey);
    let current = live.get(sessionId);
    if (current) {
      current.sockets.add(ws);
      // Stripe's CLI reconnects on its own every `reconnect_delay`: the endpoints may have changed meanwhile.
      current.endpoints = endpoints;
    } else {
      const session: LiveSession = { sessionId, sockets: new Set([ws]), endpoints, waiting: new Map() };
      current = session;
      live.set(sessionId, current);
      // What was published while no client was connected, within the bounds, is due now (not at its next retry
      // time); the client is told how much that is.
      const ids = endpoints.map((e) => e.id);
      const now = rt.clock();
      void rt.store
        .trimListenBacklog(
          ids,
          { createdAfter: now - CATCH_UP_BOUNDS.maxAgeMs, newest: CATCH_UP_BOUNDS.maxEvents },
          now,
        )
        .then(async (backlog) => {
          const message: CatchUpMessage = {
            type: 'switchboard_catch_up',
            pending: backlog.pending,
            dropped: backlog.dropped,
            max_age_seconds: CATCH_UP_BOUNDS.maxAgeMs / 1000,
            max_events: CATCH_UP_BOUNDS.maxEvents,
          };
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
          await rt.store.wakeDeliveries(ids, now);
        })
        .then(() => rt.engine.wake())
        .catch((error: unknown) =>
          rt.log.error('listen session start failed', { session: sessionId, error: String(error) }),
        );
    }
    const session = current;
    ws.on('message', (data) => {
      const msg = parseClientMessage(data.toString());
      if (msg?.type !== 'webhook_response') return;
      const status = msg.status;
      session.waiting.get(msg.webhook_id)?.({
        statusCode: status,
        headers: msg.http_headers ?? {},
        responseBody: typeof msg.body === 'string' ? msg.body.slice(0, 4096) : null,
        durationMs: 0,
        errorCode: status === null ? (msg.error === 'timeout' ? 'timeout' : 'connection_refused') : null,
        errorMessage: status === null ? (msg.error ?? 'the local receiver could not be reached') : null,
      });
    });
    // A malformed frame (bad bits, no mask, too large) is the client's fault: that socket ends, nothing else.
    ws.on('error', (error) => {
      rt.log.warn('listen websocket error', { session: sessionId, error: String(error) });
      ws.terminate();
    });
    ws.on('close', () => {
      session.sockets.delete(ws);
      if (session.sockets.size > 0) return;
      if (live.get(sessionId) === session) live.delete(sessionId);
      for (const resolve of session.waiting.values())
        resolve(noAnswer('network_error', 'listen session disconnected'));
    });
  }

  /** Refuse an upgrade before it happens, with Stripe's answer for an id it does not know (the CLI then opens a new session). */
  function refuseUpgrade(socket: Duplex, status: number, message: string): void {
    const body = JSON.stringify({ error: { message } });
    socket.end(
      `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Internal Server Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  return {
    routes,
    get connected() {
      return live.size;
    },
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== WEBSOCKET_PATH) {
        socket.destroy();
        return;
      }
      const header = req.headers[WEBSOCKET_ID_HEADER];
      sessionEndpoints(typeof header === 'string' ? header : undefined).then(
        (found) => {
          if (!found) {
            refuseUpgrade(socket, 401, UNKNOWN_WEBSOCKET_ID);
            return;
          }
          wss.handleUpgrade(req, socket, head, (ws) => attach(ws, found.listenKey, found.endpoints));
        },
        (error: unknown) => {
          rt.log.error('listen upgrade failed', { error: String(error) });
          refuseUpgrade(socket, 500, 'server error');
        },
      );
    },
    async close() {
      for (const s of [...live.values()]) {
        for (const ws of s.sockets) ws.close(CLOSE_CODES.goingAway, 'server shutting down');
      }
      live.clear();
      wss.close();
    },
  };
}
