/** The `webhook_endpoint` object as the API serves it. Pure. */

import { toUnixSeconds } from '../clock.js';
import { disablesAt } from '../delivery/giveUp.js';
import type { EndpointRecord } from '../store/types.js';

/** Stripe's limit on an account's endpoints, per mode. */
export const MAX_ENDPOINTS_PER_ACCOUNT = 16;
/** Longest endpoint URL accepted (Stripe publishes no limit; 2048 is what browsers and most servers keep). */
export const MAX_URL_LENGTH = 2048;
/** Most `enabled_events` entries: Stripe has about 275 event types, plus `*`. */
export const MAX_ENABLED_EVENTS = 300;
/** Most secrets signing at once: the current one and rolled ones still overlapping. */
export const MAX_ACTIVE_SECRETS = 5;

export interface WebhookEndpointShape {
  id: string;
  object: 'webhook_endpoint';
  api_version: string | null;
  application: string | null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: boolean;
  metadata: Record<string, string>;
  /** Only in the responses that create or roll the secret. */
  secret?: string;
  status: 'enabled' | 'disabled';
  /** Switchboard extension: why the endpoint is disabled (`manual`, or why it was disabled automatically). */
  disabled_reason: string | null;
  /**
   * Switchboard extension, the warning before automatic disabling: when the
   * endpoint's current run of failures began (unix seconds; null while it
   * answers 2xx), and when it will be disabled if no 2xx comes first.
   */
  failing_since: number | null;
  disables_at: number | null;
  url: string;
}

/**
 * @param applicationId the platform's `ca_…`, shown on Connect endpoints only.
 * @param withSecret include the current secret (create and roll responses).
 */
export function endpointForApi(
  ep: EndpointRecord,
  applicationId: string,
  disableAfterMs: number,
  withSecret = false,
): WebhookEndpointShape {
  const failing = ep.status === 'enabled' ? ep.failingSince : null;
  const out: WebhookEndpointShape = {
    id: ep.id,
    object: 'webhook_endpoint',
    api_version: ep.apiVersion,
    application: ep.connect ? applicationId : null,
    created: toUnixSeconds(ep.createdAt),
    description: ep.description,
    enabled_events: ep.enabledEvents,
    livemode: ep.livemode,
    metadata: ep.metadata,
    status: ep.status,
    disabled_reason: ep.disabledReason,
    failing_since: failing === null ? null : toUnixSeconds(failing),
    disables_at: failing === null ? null : toUnixSeconds(disablesAt(failing, disableAfterMs)),
    url: ep.url,
  };
  if (withSecret) {
    const current = ep.secrets.find((s) => s.expiresAt === null);
    if (current) out.secret = current.secret;
  }
  return out;
}
