/**
 * What the benchmarks publish and deliver: a payout-shaped object padded to a
 * chosen size, wrapped as the server wraps it, so that direct baselines and
 * verification runs handle the same bytes the server sends.
 */

import { randomBytes } from 'node:crypto';
import { DEFAULT_API_VERSION } from '@switchboard/server';

export type JsonObject = { [key: string]: unknown };

/** The headers every delivery carries (docs/retries.md), so baselines send requests of the same size. */
export const DELIVERY_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-cache',
  'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
  accept: '*/*; q=0.5, application/xml',
};

const randomId = (prefix: string, bytes = 12) => `${prefix}_${randomBytes(bytes).toString('hex')}`;

function payout(pad: number): JsonObject {
  return {
    id: 'po_1BenchPayout000000000000',
    object: 'payout',
    amount: 12_345,
    currency: 'usd',
    arrival_date: 1_764_324_000,
    method: 'standard',
    status: 'paid',
    metadata: { pad: 'x'.repeat(Math.max(0, pad)) },
  };
}

/** A serialized event as the server stores and delivers it (objects/event.ts), with a fresh id. */
export function eventEnvelope(type: string, object: JsonObject, id = randomId('evt')): string {
  return JSON.stringify({
    id,
    object: 'event',
    api_version: DEFAULT_API_VERSION,
    created: Math.floor(Date.now() / 1000),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: randomId('req', 8), idempotency_key: null },
    type,
  });
}

/** A data object whose event comes to `eventBytes` bytes (never less than the unpadded size). */
export function sizedObject(eventBytes: number): JsonObject {
  const base = Buffer.byteLength(eventEnvelope('payout.paid', payout(0)));
  return payout(eventBytes - base);
}

/** The body of POST /v1/events for `object` (JSON; the API takes JSON as well as form bodies). */
export const publishBody = (type: string, object: JsonObject): string =>
  JSON.stringify({ type, data: { object } });
