/**
 * The listen protocol: messages on the websocket between the server and
 * `switchboard listen`, modelled on the Stripe CLI's. JSON text frames.
 */

/** Server → CLI: an event to forward, already signed with the session secret. */
export interface WebhookEventMessage {
  type: 'webhook_event';
  webhook_id: string;
  webhook_conversation_id: string;
  /** The exact bytes to forward (the signature covers them). */
  event_payload: string;
  http_headers: Record<string, string>;
  endpoint: { id: string; connect: boolean };
}

/** CLI → server: the event arrived at the CLI. */
export interface EventAckMessage {
  type: 'event_ack';
  webhook_id: string;
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
  if (typeof m['webhook_id'] !== 'string') return null;
  if (m['type'] === 'event_ack') return m as unknown as EventAckMessage;
  if (m['type'] === 'webhook_response') {
    if (m['status'] !== null && typeof m['status'] !== 'number') return null;
    return m as unknown as WebhookResponseMessage;
  }
  return null;
}

/** Close codes the server uses, so the CLI can tell a fatal refusal from a network blip. */
export const CLOSE_CODES = {
  /** Another connection took over the session. */
  replaced: 4000,
  unauthorized: 4401,
  /** No such session (create one with POST /v1/stripecli/sessions). */
  notFound: 4404,
  /** The server is shutting down; reconnect. */
  goingAway: 1001,
} as const;
