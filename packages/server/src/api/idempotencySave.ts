/**
 * Which results an `Idempotency-Key` keeps, as Stripe's: "results are only
 * saved if an API endpoint started executing". A request refused before it
 * ran (bad or unknown parameters, a missing object, a conflict with a request
 * still running, an unavailable database) saves nothing, so the corrected
 * retry with the same key runs; once it ran, whatever it answered is replayed
 * for 24 h, a 500 included. Pure.
 */

import { ApiError } from './errors.js';

export interface FinishedRequest {
  status: number;
  /** What the handler threw, if it threw (the response was then made from it). */
  thrown: unknown;
}

export function savesIdempotentResult({ status, thrown }: FinishedRequest): boolean {
  // The database is gone or another request holds the key: nothing can or may be saved.
  if (status === 503 || status === 409) return false;
  if (thrown === undefined) return true;
  if (thrown instanceof ApiError) return thrown.status >= 500 || thrown.executed;
  // An unexpected error, answered 500: the request was running.
  return true;
}
