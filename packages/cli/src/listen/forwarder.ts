/**
 * The client side of `switchboard listen`: open a session, hold the
 * websocket, forward each event's exact bytes to the local receiver, report
 * the answer. Reconnects after a network loss; events published meanwhile are
 * queued by the server and arrive after the reconnect.
 */

import {
  type CatchUpMessage,
  CLOSE_CODES,
  type ListenSession,
  UNKNOWN_WEBSOCKET_ID,
  WEBSOCKET_ID_HEADER,
  type WebhookEventMessage,
  type WebhookResponseMessage,
  websocketDialUrl,
} from '@switchboard/server/protocol';
import { Agent, request } from 'undici';
import WebSocket from 'ws';
import type { ApiClient } from '../client.js';

export interface ListenOptions {
  client: ApiClient;
  apiKey: string;
  stripeAccount?: string;
  forwardTo?: string;
  forwardConnectTo?: string;
  events: string[];
  headers: Record<string, string>;
  connectHeaders: Record<string, string>;
  /** Forward to the paths of the configured webhook endpoints instead of one URL. */
  useConfiguredWebhooks: boolean;
  skipVerify: boolean;
  timeoutMs?: number;
  /** Called for what the user sees. */
  onReady(info: { secret: string; sessionId: string; reconnect: boolean }): void;
  /** How many events published while no listen was connected are on their way (and how many were dropped). */
  onCatchUp?(info: { pending: number; dropped: number; maxAgeSeconds: number; maxEvents: number }): void;
  onEvent(info: { event: ForwardedEvent; connect: boolean; payload: string }): void;
  onResponse(info: {
    event: ForwardedEvent;
    status: number | null;
    error: string | null;
    url: string;
    method: string;
  }): void;
  onDisconnect(info: { code: number; reason: string; retryInMs: number }): void;
}

export interface ForwardedEvent {
  id: string;
  type: string;
  account?: string;
  livemode?: boolean;
}

interface ConfiguredEndpoint {
  url: string;
  enabled_events: string[];
  application: string | null;
  status: string;
}

interface ForwardResult {
  status: number | null;
  body: string;
  headers: Record<string, string>;
  error: string | null;
  url: string;
}

/**
 * The websocket must be where the API is, and as safe: same host and port,
 * `wss` for an `https` API (`ws` only for `http`). Anything else would hand
 * the session's credential to another host, or send it in cleartext.
 */
export function checkWebsocketOrigin(websocketUrl: string, apiBase: string): void {
  let ws: URL;
  try {
    ws = new URL(websocketUrl);
  } catch {
    throw new Error(
      `The server answered a websocket_url that is not a URL: ${JSON.stringify(websocketUrl)}.`,
    );
  }
  const api = new URL(apiBase);
  const expected = api.protocol === 'https:' ? 'wss:' : 'ws:';
  if (ws.protocol !== expected || ws.host !== api.host) {
    throw new Error(
      `Refusing the server's websocket_url ${ws.protocol}//${ws.host}: it is not ${expected}//${api.host}, where the API is. ` +
        'Behind a proxy, start the server with --public-url (or --trust-proxy).',
    );
  }
}

/** Lower is worse: no answer, then a non-2xx, then a 2xx. */
export const answerRank = (status: number | null): number =>
  status === null ? 0 : status >= 200 && status < 300 ? 2 : 1;

/** `"K: V, K2: V2"` → headers. */
export function parseHeaderList(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    const i = part.indexOf(':');
    if (i <= 0) throw new Error(`Invalid header "${part.trim()}": use "Name: value"`);
    out[part.slice(0, i).trim().toLowerCase()] = part.slice(i + 1).trim();
  }
  return out;
}

/** The URLs an event goes to: one target, or the configured endpoints' paths on the forward-to origin. */
export function forwardTargets(
  event: ForwardedEvent,
  opts: Pick<ListenOptions, 'forwardTo' | 'forwardConnectTo' | 'useConfiguredWebhooks'>,
  configured: readonly ConfiguredEndpoint[],
): string[] {
  const connect = event.account !== undefined;
  if (!opts.useConfiguredWebhooks) {
    const target = connect ? (opts.forwardConnectTo ?? opts.forwardTo) : opts.forwardTo;
    return target ? [target] : [];
  }
  const base = connect ? (opts.forwardConnectTo ?? opts.forwardTo) : opts.forwardTo;
  if (!base) return [];
  const origin = new URL(base).origin;
  return configured
    .filter(
      (ep) =>
        ep.status === 'enabled' &&
        (ep.application !== null) === connect &&
        (ep.enabled_events.includes('*') || ep.enabled_events.includes(event.type)),
    )
    .map((ep) => {
      const u = new URL(ep.url);
      return `${origin}${u.pathname}${u.search}`;
    });
}

/**
 * Run a listen session until `signal` aborts. Resolves after the session was
 * closed cleanly; rejects on a fatal error (bad key, no session).
 */
export async function runListen(opts: ListenOptions, signal: AbortSignal): Promise<void> {
  const dispatcher = new Agent({ connect: { rejectUnauthorized: !opts.skipVerify } });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let configured: ConfiguredEndpoint[] = [];
  if (opts.useConfiguredWebhooks) {
    const list = await opts.client.request<{ data: ConfiguredEndpoint[] }>('GET', '/v1/webhook_endpoints', {
      limit: 100,
    });
    configured = list.data;
  }

  const openSession = () =>
    opts.client.request<ListenSession>('POST', '/v1/stripecli/sessions', {
      events: opts.events.length ? opts.events : ['*'],
      connect: true,
      device_name: 'switchboard-cli',
    });

  async function forward(url: string, payload: string, headers: Record<string, string>) {
    try {
      const res = await request(url, {
        method: 'POST',
        headers,
        body: payload,
        dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await res.body.text()).slice(0, 4096);
      return { status: res.statusCode, body, headers: res.headers as Record<string, string>, error: null };
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      const err =
        code === 'ECONNREFUSED'
          ? 'connection_refused'
          : /timeout/i.test(code) || (error as Error).name === 'TimeoutError'
            ? 'timeout'
            : (error as Error).message;
      return { status: null, body: '', headers: {}, error: err };
    }
  }

  let attempt = 0;
  let reconnect = false;
  while (!signal.aborted) {
    const session = await openSession();
    checkWebsocketOrigin(session.websocket_url, opts.client.apiBase);
    const closed = await new Promise<{ code: number; reason: string; fatal: boolean }>((resolve) => {
      // The websocket id is the session's credential: the API key never travels on the websocket.
      const ws = new WebSocket(websocketDialUrl(session), {
        headers: { [WEBSOCKET_ID_HEADER]: session.websocket_id },
      });
      let refusal: string | null = null;
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          if (body.length < 4096) body += chunk.toString();
        });
        res.on('end', () => {
          refusal = body.includes(UNKNOWN_WEBSOCKET_ID) ? 'expired' : `HTTP ${res.statusCode}`;
          ws.terminate();
        });
      });
      const onAbort = () => ws.close(1000, 'listen stopped');
      signal.addEventListener('abort', onAbort, { once: true });
      ws.on('open', () => {
        attempt = 0;
        opts.onReady({ secret: session.secret, sessionId: session.id, reconnect });
        reconnect = true;
      });
      ws.on('message', (data) => {
        let msg: Partial<WebhookEventMessage> | Partial<CatchUpMessage>;
        try {
          msg = JSON.parse(data.toString());
        } catch {
          return;
        }
        if (msg.type === 'switchboard_catch_up') {
          const c = msg as CatchUpMessage;
          opts.onCatchUp?.({
            pending: c.pending,
            dropped: c.dropped,
            maxAgeSeconds: c.max_age_seconds,
            maxEvents: c.max_events,
          });
          return;
        }
        if (msg.type !== 'webhook_event' || !msg.webhook_id || typeof msg.event_payload !== 'string') return;
        const webhookId = msg.webhook_id;
        const payload = msg.event_payload;
        const event = JSON.parse(payload) as ForwardedEvent;
        ws.send(JSON.stringify({ type: 'event_ack', webhook_id: webhookId, event_id: event.id }));
        const connect = event.account !== undefined;
        opts.onEvent({ event, connect, payload });
        const targets = forwardTargets(event, opts, configured);
        const headers = { ...(msg.http_headers ?? {}), ...(connect ? opts.connectHeaders : opts.headers) };
        void (async () => {
          let worst: ForwardResult | null = null;
          for (const url of targets) {
            const r = { ...(await forward(url, payload, headers)), url };
            opts.onResponse({ event, status: r.status, error: r.error, url, method: 'POST' });
            // The worst answer is what the server records, so a failing target is retried.
            if (!worst || answerRank(r.status) < answerRank(worst.status)) worst = r;
          }
          if (ws.readyState === ws.OPEN) {
            const response: WebhookResponseMessage = {
              type: 'webhook_response',
              webhook_id: webhookId,
              status: worst ? worst.status : 200,
              error: worst?.error ?? null,
              body: worst?.body ?? '',
              http_headers: worst?.headers ?? {},
              forward_url: worst?.url ?? '',
            };
            ws.send(JSON.stringify(response));
          }
        })();
      });
      ws.on('close', (code, reason) => {
        signal.removeEventListener('abort', onAbort);
        // The server ended the session (DELETE): reconnecting would open it again.
        const ended = code === CLOSE_CODES.ended && !signal.aborted;
        resolve({ code, reason: refusal ?? reason.toString(), fatal: ended });
      });
      ws.on('error', () => {
        /* 'close' follows */
      });
    });
    if (signal.aborted) break;
    if (closed.fatal)
      throw new Error(`The server closed the listen session: ${closed.reason || closed.code}`);
    attempt++;
    const retryInMs = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6));
    opts.onDisconnect({ code: closed.code, reason: closed.reason, retryInMs });
    await new Promise((r) => setTimeout(r, retryInMs));
    // A server that is down makes openSession throw: keep trying until it is back or we are stopped.
    while (!signal.aborted) {
      try {
        await opts.client.request('GET', '/v1/webhook_endpoints', { limit: 1 });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, retryInMs));
      }
    }
  }
  await dispatcher.close();
}
