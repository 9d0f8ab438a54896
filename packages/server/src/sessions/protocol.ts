/**
 * The listen protocol: the session request and the messages on the websocket
 * between the server and a listening client, `switchboard listen` or the
 * Stripe CLI's `stripe listen` (the same protocol: stripe-cli's
 * pkg/stripeauth and pkg/websocket). JSON text frames. Server and CLI both
 * import this module.
 */

/** The answer to `POST /v1/stripecli/sessions`: the fields both clients read. */
export interface ListenSession {
  object: 'stripecli_session';
  id: string;
  /** Signs every event of the session (`whsec_…`). */
  secret: string;
  livemode: boolean;
  /** Dialled as `${websocket_url}?websocket_feature=${websocket_authorized_feature}`. */
  websocket_url: string;
  /** Sent on the dial as the `Websocket-Id` header: the websocket's only credential. */
  websocket_id: string;
  websocket_authorized_feature: string;
  /** Seconds between the Stripe CLI's own connection resets. */
  reconnect_delay: number;
  default_version: string;
  latest_version: string;
  display_connect_filter_warning: boolean;
  endpoints: Array<{ id: string; connect: boolean; enabled_events: string[] }>;
}

/** The dial URL for a session, as the Stripe CLI builds it. */
export const websocketDialUrl = (
  session: Pick<ListenSession, 'websocket_url' | 'websocket_authorized_feature'>,
) => `${session.websocket_url}?websocket_feature=${encodeURIComponent(session.websocket_authorized_feature)}`;

/** The header that carries `websocket_id` on the dial. */
export const WEBSOCKET_ID_HEADER = 'websocket-id';

/** Server → CLI: an event to forward, already signed with the session secret. */
export interface WebhookEventMessage {
  type: 'webhook_event';
  webhook_id: string;
  webhook_conversation_id: string;
  /** The exact bytes to forward (the signature covers them). */
  event_payload: string;
  http_headers: Record<string, string>;
  /**
   * `api_version` null: the event is in the account's default version (the
   * Stripe CLI drops events with a version unless run with `--latest`).
   */
  endpoint: { id: string; connect: boolean; api_version: string | null };
}

/**
 * What a session keeps for a client that is away: events published while no
 * client was connected reach it on its return, within these bounds (older or
 * more are dropped). Stripe keeps nothing for a session that is away.
 */
export const CATCH_UP_BOUNDS = { maxAgeMs: 24 * 60 * 60 * 1000, maxEvents: 1000 } as const;

/**
 * Server → CLI, once when a session (re)starts: how many events it is
 * catching up on. A Switchboard message; the Stripe CLI ignores types it does
 * not know.
 */
export interface CatchUpMessage {
  type: 'switchboard_catch_up';
  /** Events waiting, now on their way. */
  pending: number;
  /** Events dropped for being older or more than the bounds. */
  dropped: number;
  max_age_seconds: number;
  max_events: number;
}

/** CLI → server: the event arrived at the CLI (older Stripe CLIs send only `event_id`). */
export interface EventAckMessage {
  type: 'event_ack';
  webhook_id?: string;
  webhook_conversation_id?: string;
  event_id?: string;
}

/** CLI → server: what the local receiver answered (or why it could not be reached). */
export interface WebhookResponseMessage {
  type: 'webhook_response';
  webhook_id: string;
  /** HTTP status from the local receiver; null when it could not be reached. */
  status: number | null;
  /** Why there is no status: `connection_refused`, `timeout`, … */
  error?: string | null;
  body?: string;
  http_headers?: Record<string, string | string[] | undefined>;
  forward_url?: string;
}

export type ClientMessage = EventAckMessage | WebhookResponseMessage;

/** Parse a frame from the CLI; null for anything malformed (ignored, never fatal). */
export function parseClientMessage(text: string): ClientMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Record<string, unknown>;
  if (m['type'] === 'event_ack') return m as unknown as EventAckMessage;
  if (typeof m['webhook_id'] !== 'string') return null;
  if (m['type'] === 'webhook_response') {
    if (m['status'] !== null && typeof m['status'] !== 'number') return null;
    return m as unknown as WebhookResponseMessage;
  }
  return null;
}

/** Close codes the server uses, so the CLI can tell a fatal refusal from a network blip. */
export const CLOSE_CODES = {
  /** The session was ended (`DELETE /v1/stripecli/sessions/{id}`). */
  ended: 1000,
  /** The server is shutting down; reconnect. */
  goingAway: 1001,
} as const;

/** The upgrade's refusal (HTTP 401) for a `Websocket-Id` the server does not know: open a new session. */
export const UNKNOWN_WEBSOCKET_ID = 'Unknown WebSocket ID.';
