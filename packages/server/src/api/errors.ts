/**
 * API errors in Stripe's shape: `{"error": {type, code, message, param, doc_url}}`.
 * Codes are stable; messages follow Stripe's wording where one exists.
 */

import { STRIPE_EVENT_TYPES } from '../stripe/eventTypes.js';
import { closestName } from '../stripe/suggest.js';

export type ApiErrorType =
  | 'invalid_request_error'
  | 'api_error'
  | 'idempotency_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error'
  | 'card_error';

export interface ApiErrorBody {
  type: ApiErrorType;
  code?: string;
  message: string;
  param?: string;
  doc_url?: string;
}

export class ApiError extends Error {
  /**
   * Thrown once the request had started executing (a card decline, say),
   * not while its input was checked: an `Idempotency-Key` then replays it.
   */
  executed = false;
  /** Response headers the error comes with (`Retry-After`). */
  headers: Record<string, string> = {};
  /** More fields of the error object, as Stripe's card errors have (`decline_code`, `charge`, `payment_intent`). */
  details: Record<string, unknown> = {};

  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toJSON(): { error: ApiErrorBody } {
    const error: ApiErrorBody = { type: this.type, message: this.message };
    if (this.code) error.code = this.code;
    if (this.param) error.param = this.param;
    if (this.code) error.doc_url = `https://docs.stripe.com/error-codes/${this.code.replaceAll('_', '-')}`;
    return { error: { ...error, ...this.details } };
  }
}

export const invalid = (message: string, code: string, param?: string): ApiError =>
  new ApiError(400, 'invalid_request_error', message, code, param);

export const missingParam = (param: string): ApiError =>
  invalid(`Missing required param: ${param}.`, 'parameter_missing', param);

export const unknownParam = (param: string): ApiError =>
  invalid(`Received unknown parameter: ${param}`, 'parameter_unknown', param);

export const invalidParam = (param: string, message: string, code = 'parameter_invalid'): ApiError =>
  invalid(message, code, param);

/** 404 with Stripe's message: `No such webhook endpoint: 'we_…'`. */
export const noSuch = (what: string, id: string, param = 'id'): ApiError =>
  new ApiError(404, 'invalid_request_error', `No such ${what}: '${id}'`, 'resource_missing', param);

export const unrecognizedUrl = (method: string, path: string): ApiError =>
  new ApiError(
    404,
    'invalid_request_error',
    `Unrecognized request URL (${method}: ${path}). Please see https://docs.stripe.com or the Switchboard API reference.`,
  );

/** Stripe masks all but the last four characters of a bad key. */
export function invalidApiKey(key: string | null): ApiError {
  if (!key) {
    return new ApiError(
      401,
      'invalid_request_error',
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    );
  }
  const prefix = key.startsWith('sk_live_') ? 'sk_live_' : key.startsWith('sk_test_') ? 'sk_test_' : '';
  const masked = `${prefix}${'*'.repeat(4)}${key.slice(-4)}`;
  return new ApiError(401, 'invalid_request_error', `Invalid API Key provided: ${masked}`, 'api_key_invalid');
}

export const internalError = (requestId: string): ApiError =>
  new ApiError(
    500,
    'api_error',
    `An unexpected error occurred while processing your request (request ${requestId}). It has been logged; retrying with the same Idempotency-Key is safe.`,
  );

export const unavailable = (): ApiError =>
  new ApiError(
    503,
    'api_error',
    'The database is unreachable; nothing was stored. Retry the request (with the same Idempotency-Key).',
    'database_unavailable',
  );

/** A name that is not one of Stripe's event types, with the likely intended one. */
export function unknownEventType(param: string, value: string): ApiError {
  const near = closestName(value, STRIPE_EVENT_TYPES);
  return invalidParam(
    param,
    `Invalid ${param}: '${value}' is not one of Stripe's event types.${near ? ` Did you mean '${near}'?` : " Use a type such as 'account.updated', or '*'."}`,
  );
}
