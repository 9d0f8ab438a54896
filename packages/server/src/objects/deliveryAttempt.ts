/** The `delivery_attempt` object (Switchboard extension): one row of the attempt log. */

import { toUnixSeconds } from '../clock.js';
import type { AttemptRecord } from '../store/types.js';

export interface DeliveryAttemptShape {
  id: string;
  object: 'delivery_attempt';
  event: string;
  webhook_endpoint: string;
  created: number;
  /** Milliseconds since the epoch: `created` has Stripe's 1 s resolution, attempts need more. */
  attempted_at_ms: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  manual: boolean;
  succeeded: boolean;
}

export function attemptForApi(a: AttemptRecord): DeliveryAttemptShape {
  return {
    id: a.id,
    object: 'delivery_attempt',
    event: a.eventId,
    webhook_endpoint: a.endpointId,
    created: toUnixSeconds(a.attemptedAt),
    attempted_at_ms: a.attemptedAt,
    duration_ms: a.durationMs,
    status_code: a.statusCode,
    error: a.error,
    response_body: a.responseBody,
    manual: a.manual,
    succeeded: a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300,
  };
}
