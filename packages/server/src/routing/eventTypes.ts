/**
 * Event type strings and the patterns that select them.
 *
 * `enabled_events` on an endpoint holds `*` or exact types (Stripe's rule;
 * which types, stripe/eventTypes.ts).
 * List filters (`GET /v1/events?type=account.*`) also take a trailing `*`.
 */

import type { TypeFilter } from '../store/types.js';

const TYPE_RE = /^[a-z0-9_]+(\.[a-z0-9_]+)+$/;
const PATTERN_RE = /^([a-z0-9_]+\.)*(\*|[a-z0-9_]+(\.[a-z0-9_]+)*\.\*)$/;

/** A well-formed event type: dot-separated lowercase words, at least two (`customer.created`). */
export function isEventType(value: string): boolean {
  return TYPE_RE.test(value) && value.length <= 100;
}

/** Does an endpoint with these `enabled_events` want this type? */
export function matchesEnabledEvents(type: string, enabledEvents: readonly string[]): boolean {
  for (const entry of enabledEvents) {
    if (entry === '*' || entry === type) return true;
  }
  return false;
}

/** Valid as a list filter: an event type, `*`, or a prefix ending in `.*` (`account.*`, `account.external_account.*`). */
export function isTypePattern(value: string): boolean {
  return isEventType(value) || value === '*' || PATTERN_RE.test(value);
}

/**
 * Turn list-filter patterns into what a store can query.
 *
 * @example
 * toTypeFilter(['account.*', 'payout.failed']) // { exact: ['payout.failed'], prefixes: ['account.'] }
 */
export function toTypeFilter(patterns: readonly string[]): TypeFilter {
  const exact: string[] = [];
  const prefixes: string[] = [];
  for (const p of patterns) {
    if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
    else exact.push(p);
  }
  return { exact, prefixes };
}

/** Does a type match a list-filter pattern? (The pure twin of the stores' SQL filter.) */
export function matchesTypePattern(type: string, pattern: string): boolean {
  return pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern;
}
