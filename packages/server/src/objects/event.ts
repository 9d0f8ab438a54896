/**
 * Building the `event` object. Pure: ids and time come in as arguments.
 * Key order follows Stripe's payloads so the bytes look like what a
 * receiver sees from Stripe.
 */

import type { JsonObject } from '../store/types.js';

/** The API version events carry when the caller names none (that of the `stripe` package v23). */
export const DEFAULT_API_VERSION = '2026-10-28.endive';

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

/** Serialise for storage and delivery: compact JSON, as Stripe sends it pretty-printed only in the dashboard. */
export const serializeEvent = (event: StripeEventShape): string => JSON.stringify(event);

/** The event as the API serves it: the stored bytes with the live `pending_webhooks`. */
export function eventForApi(body: string, pendingWebhooks: number): StripeEventShape {
  const event = JSON.parse(body) as StripeEventShape;
  event.pending_webhooks = pendingWebhooks;
  return event;
}
