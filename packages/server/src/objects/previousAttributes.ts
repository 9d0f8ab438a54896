/**
 * The `previous_attributes` of a `*.updated` event, as Stripe computes them:
 * the attributes an update changed, with their values before it. Hashes are
 * compared key by key and give only the keys that changed (a key the update
 * added has `null`); arrays and scalars give their whole old value. Pure.
 */

import type { JsonObject } from '../store/types.js';

const isHash = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The changed attributes of `after` with their values in `before`; empty when nothing changed. */
export function previousAttributes(before: JsonObject, after: JsonObject): JsonObject {
  const prev: JsonObject = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[key];
    const now = after[key];
    if (deepEqual(old, now)) continue;
    prev[key] = isHash(old) && isHash(now) ? previousAttributes(old, now) : (old ?? null);
  }
  return prev;
}

/** Structural equality for JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  return ak.every((k) => Object.hasOwn(bo, k) && deepEqual(ao[k], bo[k]));
}
