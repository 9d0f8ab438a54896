/**
 * The listen transport: an attempt to a listen-session endpoint is a
 * `webhook_event` frame on the session's websockets on this node, and the
 * client's `webhook_response` is its answer. The sessions connected here are
 * kept in `ListenSessions`; the node's one delivery engine claims their
 * deliveries (`endpointIds`) and sends through `transport`.
 */

import { performance } from 'node:perf_hooks';
import type { WebSocket } from 'ws';
import type { ListenDestinations } from '../delivery/engine.js';
import type { SendResult, Transport } from '../delivery/transport.js';
import { randomToken } from '../ids.js';
import type { EndpointRecord } from '../store/types.js';
import type { WebhookEventMessage } from './protocol.js';

/** Listen endpoints' URLs: `switchboard-listen://<session id>/account` or `…/connect`. */
export const LISTEN_URL_PREFIX = 'switchboard-listen://';

export const listenEndpointUrl = (sessionId: string, connect: boolean): string =>
  `${LISTEN_URL_PREFIX}${sessionId}/${connect ? 'connect' : 'account'}`;

const sessionIdOfUrl = (url: string): string | null =>
  url.startsWith(LISTEN_URL_PREFIX) ? (url.slice(LISTEN_URL_PREFIX.length).split('/')[0] ?? null) : null;

/**
 * A session with its connected clients. Each connected client gets every
 * event (as with Stripe, several `listen`s per key may run at once); the
 * first answer is what the attempt records.
 */
export interface LiveSession {
  sessionId: string;
  sockets: Set<WebSocket>;
  endpoints: EndpointRecord[];
  /** Attempts sent and not answered yet, by `webhook_id`. */
  waiting: Map<string, (result: SendResult) => void>;
}

/** A send that got no answer. Its duration is set by the waiter, which knows when it started. */
export const noAnswer = (errorCode: SendResult['errorCode'], errorMessage: string): SendResult => ({
  statusCode: null,
  headers: {},
  responseBody: null,
  durationMs: 0,
  errorCode,
  errorMessage,
});

/** The sessions connected to this node, and the transport that reaches them. */
export class ListenSessions implements ListenDestinations {
  readonly live = new Map<string, LiveSession>();
  readonly transport: Transport;

  constructor(timeoutMs: number) {
    this.transport = {
      send: (url, headers, body) => this.send(url, headers, body, timeoutMs),
      close: async () => {},
    };
  }

  endpointIds(): string[] {
    const ids: string[] = [];
    for (const s of this.live.values()) for (const e of s.endpoints) ids.push(e.id);
    return ids;
  }

  private send(
    url: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<SendResult> {
    const started = performance.now();
    const sessionId = sessionIdOfUrl(url);
    const s = sessionId === null ? undefined : this.live.get(sessionId);
    const fail = (errorCode: SendResult['errorCode'], errorMessage: string): SendResult => ({
      ...noAnswer(errorCode, errorMessage),
      durationMs: performance.now() - started,
    });
    const open = s ? [...s.sockets].filter((ws) => ws.readyState === ws.OPEN) : [];
    if (!s || open.length === 0) return Promise.resolve(fail('network_error', 'listen session disconnected'));
    const webhookId = `wh_${randomToken(20)}`;
    // The endpoint's URL names its scope; the CLI picks the forward target from it.
    const endpoint = s.endpoints.find((e) => e.url === url);
    const message: WebhookEventMessage = {
      type: 'webhook_event',
      webhook_id: webhookId,
      webhook_conversation_id: webhookId,
      event_payload: body,
      http_headers: headers,
      endpoint: { id: endpoint?.id ?? '', connect: url.endsWith('/connect'), api_version: null },
    };
    const frame = JSON.stringify(message);
    return new Promise<SendResult>((resolve) => {
      const timer = setTimeout(() => {
        s.waiting.delete(webhookId);
        resolve(fail('timeout', `no answer from the listen session within ${timeoutMs} ms`));
      }, timeoutMs);
      s.waiting.set(webhookId, (result) => {
        clearTimeout(timer);
        s.waiting.delete(webhookId);
        resolve({ ...result, durationMs: performance.now() - started });
      });
      let unsent = open.length;
      for (const ws of open) {
        ws.send(frame, (err) => {
          // Failed only when no client got it.
          if (err && --unsent === 0)
            s.waiting.get(webhookId)?.(fail('network_error', `listen session send failed: ${err.message}`));
        });
      }
    });
  }
}
