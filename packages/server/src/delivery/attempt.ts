/**
 * One delivery attempt: sign with a fresh timestamp, send, classify. Shared
 * by the delivery engine (automatic attempts) and the resend route (manual ones).
 */

import { buildSignatureHeader } from '@switchboard/webhooks';
import { toUnixSeconds } from '../clock.js';
import { newSortableId, randomBytesPooled } from '../ids.js';
import { withApiVersion } from '../objects/event.js';
import type { AttemptRecord } from '../store/types.js';
import { classifyOutcome } from './outcome.js';
import type { Transport } from './transport.js';

/** The headers Stripe sends with every webhook (reference §6). */
export const DELIVERY_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-cache',
  'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
  accept: '*/*; q=0.5, application/xml',
};

export interface AttemptTarget {
  deliveryId: string | null;
  eventId: string;
  endpointId: string;
  url: string;
  secrets: string[];
  /** The event as stored. */
  body: string;
  /** The endpoint's `api_version`, stamped on the body it is sent; null keeps the event's. */
  apiVersion: string | null;
  livemode: boolean;
}

export interface AttemptReport {
  record: AttemptRecord;
  success: boolean;
  retryAfterMs: number | null;
}

/**
 * The `Stripe-Signature` value for one attempt. Test-mode events also carry a
 * `v0` that is deliberately meaningless, as Stripe's do, so receivers that
 * accept any scheme but `v1` are caught in testing.
 */
export function signatureFor(
  body: string,
  secrets: string[],
  timestampUnix: number,
  livemode: boolean,
): string {
  return buildSignatureHeader({
    payload: body,
    secrets,
    timestamp: timestampUnix,
    ...(livemode ? {} : { extraSchemes: { v0: randomBytesPooled(32).toString('hex') } }),
  });
}

export async function attemptDelivery(
  transport: Transport,
  clock: () => number,
  target: AttemptTarget,
  manual: boolean,
): Promise<AttemptReport> {
  const attemptedAt = clock();
  const body = withApiVersion(target.body, target.apiVersion);
  const headers = {
    ...DELIVERY_HEADERS,
    'stripe-signature': signatureFor(body, target.secrets, toUnixSeconds(attemptedAt), target.livemode),
  };
  const result = await transport.send(target.url, headers, body);
  const verdict = classifyOutcome({
    statusCode: result.statusCode,
    errorCode: result.errorCode,
    headers: result.headers,
    now: clock(),
  });
  const error = verdict.success
    ? null
    : result.errorMessage && result.errorCode
      ? `${verdict.error}: ${result.errorMessage}`
      : verdict.error;
  return {
    success: verdict.success,
    retryAfterMs: verdict.retryAfterMs,
    record: {
      id: newSortableId('wa', attemptedAt),
      deliveryId: target.deliveryId,
      eventId: target.eventId,
      endpointId: target.endpointId,
      attemptedAt,
      durationMs: Math.round(result.durationMs),
      statusCode: result.statusCode,
      error,
      responseBody: result.responseBody,
      manual,
    },
  };
}
