/**
 * Building the `event` object. Pure: ids and time come in as arguments.
 * Key order follows Stripe's payloads so the bytes look like what a
 * receiver sees from Stripe.
 */

import type { JsonObject } from '../store/types.js';

import { LATEST_API_VERSION } from '../stripe/apiVersions.js';

/** The accounts' default API version unless the server is given another: the newest Stripe has published. */
export const DEFAULT_API_VERSION: string = LATEST_API_VERSION;

export interface EventInput {
  id: string;
  type: string;
  /** The connected account, when the event is a connected account's; omitted for the platform's own. */
  account: string | null;
  apiVersion: string;
  createdUnix: number;
  object: JsonObject;
  previousAttributes: JsonObject | null;
  livemode: boolean;
  pendingWebhooks: number;
  requestId: string | null;
  idempotencyKey: string | null;
}

export interface StripeEventShape {
  id: string;
  object: 'event';
  account?: string;
  api_version: string;
  created: number;
  data: { object: JsonObject; previous_attributes?: JsonObject };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export function buildEvent(input: EventInput): StripeEventShape {
  const data: StripeEventShape['data'] = { object: input.object };
  if (input.previousAttributes) data.previous_attributes = input.previousAttributes;
  const event: StripeEventShape = {
    id: input.id,
    object: 'event',
    ...(input.account ? { account: input.account } : {}),
    api_version: input.apiVersion,
    created: input.createdUnix,
    data,
    livemode: input.livemode,
    pending_webhooks: input.pendingWebhooks,
    request: { id: input.requestId, idempotency_key: input.idempotencyKey },
    type: input.type,
  };
  return event;
}

/**
 * Serialise for storage and delivery as Stripe sends webhooks: pretty-printed
 * with a two-space indent and `\n`, in the object's key order. A receiver
 * that verifies a re-serialised parse of it fails here as it does against
 * Stripe.
 */
export const serializeEvent = (event: StripeEventShape): string => JSON.stringify(event, null, 2);

/** The top-level `api_version` line of a serialised event: only top-level keys sit at two spaces. */
const TOP_LEVEL_API_VERSION = '\n  "api_version": "';

/**
 * The stored event stamped with an endpoint's `api_version` (null keeps the
 * event's own). Only the stamp changes: every version is rendered in the
 * latest payload shape.
 */
export function withApiVersion(body: string, apiVersion: string | null): string {
  if (apiVersion === null) return body;
  const at = body.indexOf(TOP_LEVEL_API_VERSION);
  if (at < 0) return body;
  const start = at + TOP_LEVEL_API_VERSION.length;
  const end = body.indexOf('"', start);
  if (end < 0 || body.slice(start, end) === apiVersion) return body;
  return `${body.slice(0, start)}${apiVersion}${body.slice(end)}`;
}

/** The event as the API serves it: the stored bytes with the live `pending_webhooks`. */
export function eventForApi(body: string, pendingWebhooks: number): StripeEventShape {
  const event = JSON.parse(body) as StripeEventShape;
  event.pending_webhooks = pendingWebhooks;
  return event;
}

const TOP_LEVEL_PENDING = /\n {2}"pending_webhooks": \d+,\n/;

/**
 * The event as the API serves it, as JSON text: the stored bytes with the
 * live `pending_webhooks` written into them, never parsed, so no stored row
 * (however it was made) can make a response fail. A row stored compact by an
 * older version is parsed; one that cannot be is served as a stub that says so.
 */
export function eventJsonForApi(
  stored: { id: string; type: string; createdUnix: number; livemode: boolean; body: string },
  pendingWebhooks: number,
): string {
  const line = `\n  "pending_webhooks": ${pendingWebhooks},\n`;
  if (TOP_LEVEL_PENDING.test(stored.body)) return stored.body.replace(TOP_LEVEL_PENDING, line);
  try {
    return JSON.stringify(eventForApi(stored.body, pendingWebhooks));
  } catch {
    return JSON.stringify({
      id: stored.id,
      object: 'event',
      created: stored.createdUnix,
      data: { object: null },
      livemode: stored.livemode,
      pending_webhooks: pendingWebhooks,
      type: stored.type,
      switchboard_error: 'This stored event cannot be served: it is nested too deeply to read.',
    });
  }
}
