/**
 * Listen sessions: what `switchboard listen` connects to.
 *
 * A session is stored as hidden webhook endpoints (one for the caller's own
 * events, one for its connected accounts' events), keyed by the API key, so
 * routing, signing, retries and the attempt log are the same as for any
 * endpoint, and events published while the CLI is away wait for it. The
 * session's deliveries are claimed only by a dispatcher bound to its
 * websocket on the node the CLI is connected to; the transport is the socket
 * instead of an HTTP POST.
 */

import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Hono } from 'hono';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ApiEnv, Caller, Runtime } from '../api/context.js';
import { ApiError, invalidParam, noSuch } from '../api/errors.js';
import { resolveCaller, sha256 } from '../api/middleware.js';
import { Params } from '../api/params.js';
import { type AttemptReport, type AttemptTarget, attemptDelivery } from '../delivery/attempt.js';
import { createDispatcher, type Dispatcher } from '../delivery/dispatcher.js';
import type { Sender, SendResult } from '../delivery/send.js';
import { newId, randomToken } from '../ids.js';
import { isEnabledEventsEntry } from '../routing/eventTypes.js';
import type { EndpointRecord } from '../store/types.js';
import { CLOSE_CODES, parseClientMessage, type WebhookEventMessage } from './protocol.js';

export const WEBSOCKET_PATH = '/v1/stripecli/websocket';
const LISTEN_URL_PREFIX = 'switchboard-listen://';

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

interface LiveSession {
  sessionId: string;
  ws: WebSocket;
  endpoints: EndpointRecord[];
  dispatcher: Dispatcher;
  waiting: Map<string, (result: SendResult) => void>;
}

export interface ListenHub {
  routes: Hono<ApiEnv>;
  /** A manual resend to a listen endpoint: sent on its websocket if connected here, else a failed attempt. */
  resend(target: AttemptTarget): Promise<AttemptReport>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  wakeAll(): void;
  readonly connected: number;
  close(): Promise<void>;
}

export function createListenHub(rt: Runtime): ListenHub {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 });
  const live = new Map<string, LiveSession>();

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
          url: `${LISTEN_URL_PREFIX}${sessionId}/${isConnect ? 'connect' : 'account'}`,
          enabledEvents: events,
          status: 'enabled',
          disabledReason: null,
          apiVersion: null,
          description: `switchboard listen (${isConnect ? 'Connect' : 'account'} events)`,
          metadata: {},
          secrets: [{ secret, expiresAt: null }],
          createdAt: rt.clock(),
          lastSuccessAt: null,
          listenKey,
        };
        await rt.store.createEndpoint(record);
        out.push(record);
      }
    }
    return out;
  }

  const routes = new Hono<ApiEnv>();

  // What `switchboard listen` calls first (the Stripe CLI calls the same path).
  routes.post('/sessions', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), ['events', 'connect', 'device_name', 'websocket_features']);
    const events = p.stringArray('events') ?? ['*'];
    events.forEach((e, i) => {
      if (!isEnabledEventsEntry(e)) throw invalidParam(`events[${i}]`, `Invalid event type: '${e}'.`);
    });
    const endpoints = await ensureEndpoints(
      caller,
      events.length ? [...new Set(events)] : ['*'],
      p.bool('connect') ?? true,
    );
    const listenKey = listenKeyFor(caller.keyHash, caller.accountId);
    const sessionId = sessionIdFor(listenKey);
    const host = c.req.header('host') ?? '127.0.0.1';
    const scheme = new URL(c.req.url).protocol === 'https:' ? 'wss' : 'ws';
    return c.json({
      object: 'stripecli_session',
      id: sessionId,
      secret: listenSecretFor(listenKey),
      livemode: caller.livemode,
      websocket_url: `${scheme}://${host}${WEBSOCKET_PATH}`,
      websocket_id: sessionId,
      websocket_authorized_feature: 'webhook-payloads',
      reconnect_delay: 1,
      endpoints: endpoints.map((e) => ({ id: e.id, connect: e.connect, enabled_events: e.enabledEvents })),
    });
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
    live.get(sessionIdFor(listenKey))?.ws.close(1000, 'session ended');
    return c.json({ id: c.req.param('id'), object: 'stripecli_session', deleted: true });
  });

  /** A send that got no answer. Its duration is set by the waiter, which knows when it started. */
  const noAnswer = (errorCode: SendResult['errorCode'], errorMessage: string): SendResult => ({
    statusCode: null,
    headers: {},
    responseBody: null,
    durationMs: 0,
    errorCode,
    errorMessage,
  });

  function socketSender(session: () => LiveSession | undefined): Sender {
    return {
      async send(url, headers, body) {
        const started = performance.now();
        const s = session();
        const fail = (errorCode: SendResult['errorCode'], errorMessage: string): SendResult => ({
          ...noAnswer(errorCode, errorMessage),
          durationMs: performance.now() - started,
        });
        if (!s || s.ws.readyState !== s.ws.OPEN) return fail('network_error', 'listen session disconnected');
        const webhookId = `wh_${randomToken(20)}`;
        // The endpoint's URL names its scope; the CLI picks the forward target from it.
        const endpoint = s.endpoints.find((e) => e.url === url);
        const message: WebhookEventMessage = {
          type: 'webhook_event',
          webhook_id: webhookId,
          webhook_conversation_id: webhookId,
          event_payload: body,
          http_headers: headers,
          endpoint: { id: endpoint?.id ?? '', connect: url.endsWith('/connect') },
        };
        return new Promise<SendResult>((resolve) => {
          const timer = setTimeout(() => {
            s.waiting.delete(webhookId);
            resolve(fail('timeout', `no answer from the listen session within ${rt.delivery.timeoutMs} ms`));
          }, rt.delivery.timeoutMs);
          s.waiting.set(webhookId, (result) => {
            clearTimeout(timer);
            s.waiting.delete(webhookId);
            resolve({ ...result, durationMs: performance.now() - started });
          });
          s.ws.send(JSON.stringify(message), (err) => {
            if (err)
              s.waiting.get(webhookId)?.(fail('network_error', `listen session send failed: ${err.message}`));
          });
        });
      },
      async close() {},
    };
  }

  async function authenticateUpgrade(req: IncomingMessage): Promise<Caller | null> {
    const acting = req.headers['stripe-account'];
    try {
      return await resolveCaller(
        rt,
        {
          authorization: req.headers.authorization,
          stripeAccount: typeof acting === 'string' ? acting : undefined,
        },
        false,
      );
    } catch (error) {
      if (error instanceof ApiError) return null;
      throw error;
    }
  }

  async function attach(ws: WebSocket, caller: Caller): Promise<void> {
    const listenKey = listenKeyFor(caller.keyHash, caller.accountId);
    const sessionId = sessionIdFor(listenKey);
    const endpoints = (await rt.store.findListenEndpoints(listenKey)).filter((e) => e.status === 'enabled');
    if (endpoints.length === 0) {
      ws.close(CLOSE_CODES.notFound, 'no listen session: POST /v1/stripecli/sessions first');
      return;
    }
    const previous = live.get(sessionId);
    if (previous) {
      live.delete(sessionId);
      previous.ws.close(CLOSE_CODES.replaced, 'another listen connection took over this session');
      await previous.dispatcher.stop();
    }
    let session: LiveSession | undefined;
    const dispatcher = createDispatcher({
      store: rt.store,
      sender: socketSender(() => session),
      clock: rt.clock,
      random: rt.delivery.random,
      liveSchedule: rt.delivery.liveSchedule,
      testSchedule: rt.delivery.testSchedule,
      leaseMs: rt.delivery.leaseMs,
      listenEndpointIds: endpoints.map((e) => e.id),
      maxInFlight: 32,
      perEndpointConcurrency: 32,
      idlePollMs: 500,
      onError: (error) =>
        rt.log.error('listen dispatcher error', { session: sessionId, error: String(error) }),
    });
    session = { sessionId, ws, endpoints, dispatcher, waiting: new Map() };
    const current = session;
    live.set(sessionId, current);
    ws.on('message', (data) => {
      const msg = parseClientMessage(data.toString());
      if (msg?.type !== 'webhook_response') return;
      const status = msg.status;
      current.waiting.get(msg.webhook_id)?.({
        statusCode: status,
        headers: msg.http_headers ?? {},
        responseBody: typeof msg.body === 'string' ? msg.body.slice(0, 4096) : null,
        durationMs: 0,
        errorCode: status === null ? (msg.error === 'timeout' ? 'timeout' : 'connection_refused') : null,
        errorMessage: status === null ? (msg.error ?? 'the local receiver could not be reached') : null,
      });
    });
    ws.on('close', () => {
      if (live.get(sessionId) === current) live.delete(sessionId);
      for (const resolve of current.waiting.values())
        resolve(noAnswer('network_error', 'listen session disconnected'));
      void dispatcher.stop();
    });
    // What was published while the CLI was away is due now, not at its next retry time.
    await rt.store.wakeDeliveries(
      endpoints.map((e) => e.id),
      rt.clock(),
    );
    dispatcher.start();
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
      wss.handleUpgrade(req, socket, head, (ws) => {
        authenticateUpgrade(req).then(
          (caller) => {
            if (!caller) {
              ws.close(CLOSE_CODES.unauthorized, 'invalid API key');
              return;
            }
            return attach(ws, caller);
          },
          (error: unknown) => {
            rt.log.error('listen upgrade failed', { error: String(error) });
            ws.close(1011, 'server error');
          },
        );
      });
    },
    wakeAll() {
      for (const s of live.values()) s.dispatcher.wake();
    },
    async resend(target) {
      const session = [...live.values()].find((s) => s.endpoints.some((e) => e.id === target.endpointId));
      const report = await attemptDelivery(
        socketSender(() => session),
        rt.clock,
        target,
        true,
      );
      await rt.store.recordAttempts([
        { attempt: report.record, outcome: { kind: 'manual', ok: report.success }, leaseOwner: null },
      ]);
      return report;
    },
    async close() {
      for (const s of [...live.values()]) {
        s.ws.close(CLOSE_CODES.goingAway, 'server shutting down');
        await s.dispatcher.stop();
      }
      live.clear();
      wss.close();
    },
  };
}
