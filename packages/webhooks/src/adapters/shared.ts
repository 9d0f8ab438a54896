// What every framework adapter does once it has the raw body: verify,
// dispatch, and turn the outcome into a status and a short JSON body. Only
// reading the body and writing the response differ per framework. No node:
// imports here: the Web adapter uses this module too.
import type { ConnectEvent } from '../connectEvents.js';
import {
  normalizeSecrets,
  resolveOptions,
  type SignatureHeaderInput,
  type VerifyOptions,
  type WebhookPayload,
} from '../core.js';
import { WebhookSignatureError, type WebhookSignatureErrorCode } from '../errors.js';
import type { WebhookEvent } from '../events.js';
import type { InboxAcceptor } from '../inbox/types.js';
import { contextOf, type WebhookContext, type WebhookRouter } from '../router.js';

/** Default largest body accepted, in bytes (1 MiB); larger requests get 413. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** What `onError` learns about a failed request, besides the error. */
export interface WebhookErrorInfo {
  /** The status answered: 400 (not verified), 413, 500 (handler threw). */
  status: number;
  /** The code in the response body, e.g. `signature_mismatch` or `handler_failed`. */
  code: string;
  /** The event, when verification succeeded and a handler failed. */
  event?: WebhookEvent<unknown>;
}

type SecretOptions =
  | {
      /** The endpoint's signing secret, or several while it is rotated. */
      secret: string | string[];
      secrets?: undefined;
    }
  | {
      /** The endpoint's signing secrets; any of them may match. */
      secrets: string[];
      secret?: undefined;
    };

type DeliveryOptions =
  | {
      /** Called with each verified event; the response is 2xx once it resolves, 500 if it throws. */
      onEvent: (event: ConnectEvent, ctx: WebhookContext) => unknown;
      router?: undefined;
      inbox?: undefined;
    }
  | {
      /** Dispatches each verified event; the response tells whether a handler ran. */
      router: WebhookRouter;
      onEvent?: undefined;
      inbox?: undefined;
    }
  | {
      /**
       * Stores each verified event (raw body included) in an inbox from
       * `createInbox()`; the response is 2xx once it is stored, and says
       * `"duplicate":true` for an event already there. The inbox's worker
       * runs the handlers.
       */
      inbox: InboxAcceptor;
      onEvent?: undefined;
      router?: undefined;
    };

/**
 * Options of every adapter: a secret (or several), and one of `onEvent`, a
 * `router` or an `inbox`.
 */
export type WebhookAdapterOptions = SecretOptions &
  DeliveryOptions & {
    /** Maximum |now − t| in seconds (default 300). */
    tolerance?: number;
    /** Current time in milliseconds (default `Date.now`), for tests. */
    now?: () => number;
    /**
     * Called for every request answered with an error, for logging. Without
     * it, handler failures (500) are written to `console.error` and the rest
     * stay silent, so unauthenticated requests cannot flood the log.
     */
    onError?: (error: unknown, info: WebhookErrorInfo) => void;
    /** Largest body accepted, in bytes (default 1 MiB); larger ones get 413. */
    maxBodyBytes?: number;
  };

/** A response in a framework-neutral form. */
export interface AdapterResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** @internal The validated form of {@link WebhookAdapterOptions}. */
export interface ResolvedAdapterOptions {
  secrets: string[];
  verifyOptions: VerifyOptions;
  maxBodyBytes: number;
  deliver: (event: WebhookEvent<unknown>, payload: WebhookPayload) => Promise<Record<string, unknown>>;
  report: (error: unknown, info: WebhookErrorInfo) => void;
}

type Verify = (
  payload: WebhookPayload,
  header: SignatureHeaderInput,
  secrets: string[],
  options: VerifyOptions,
) => WebhookEvent<unknown> | Promise<WebhookEvent<unknown>>;

// Deliberately terse: the detailed messages can hint at how the receiver is
// misconfigured, which is for its own log (onError), not for whoever sent
// the request.
const SHORT_REASONS: Partial<Record<WebhookSignatureErrorCode, string>> = {
  missing_header: 'No Stripe-Signature header.',
  malformed_header: 'The Stripe-Signature header is malformed.',
  no_v1_signature: 'The Stripe-Signature header has no v1 signature.',
  timestamp_too_old: 'The signature timestamp is too old.',
  timestamp_in_future: 'The signature timestamp is in the future.',
  signature_mismatch: 'No signature matches the payload.',
  invalid_payload: 'The payload is not a JSON event.',
};

/** A JSON response of the adapters. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): AdapterResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** A JSON error response `{ error: { code, message } }`. */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): AdapterResponse {
  return jsonResponse(status, { error: { code, message } }, headers);
}

/** Validates adapter options once, when the adapter is created, so mistakes fail at startup. */
export function resolveAdapterOptions(options: unknown, adapter: string): ResolvedAdapterOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `${adapter} needs an options object: { secret, onEvent }, { secret, router } or { secret, inbox }.`,
    );
  }
  const { secret, secrets, tolerance, now, onEvent, router, inbox, onError, maxBodyBytes } =
    options as Record<string, unknown>;
  if (secret !== undefined && secrets !== undefined) {
    throw new TypeError(`${adapter}: pass either secret or secrets, not both.`);
  }
  const checkedSecrets = normalizeSecrets(secrets ?? secret);
  // Validates tolerance and now; the defaults stay implicit.
  resolveOptions({ tolerance, now });
  const verifyOptions: VerifyOptions = {};
  if (tolerance !== undefined) verifyOptions.tolerance = tolerance as number;
  if (now !== undefined) verifyOptions.now = now as () => number;

  if ([onEvent, router, inbox].filter((value) => value !== undefined).length !== 1) {
    throw new TypeError(`${adapter}: pass exactly one of onEvent (a function), router or inbox.`);
  }
  let deliver: ResolvedAdapterOptions['deliver'];
  if (inbox !== undefined) {
    const accept = (inbox as Partial<InboxAcceptor> | null)?.accept;
    if (typeof accept !== 'function') {
      throw new TypeError(`${adapter}: inbox must be an inbox from createInbox().`);
    }
    deliver = async (event, payload) => {
      const { duplicate } = await accept.call(inbox, payload, event);
      return { duplicate };
    };
  } else if (onEvent !== undefined) {
    if (typeof onEvent !== 'function') throw new TypeError(`${adapter}: onEvent must be a function.`);
    const handler = onEvent as (event: unknown, ctx: WebhookContext) => unknown;
    deliver = async (event) => {
      await handler(event, contextOf(event));
      return {};
    };
  } else {
    const dispatch = (router as Partial<WebhookRouter> | null)?.dispatch;
    if (typeof dispatch !== 'function') {
      throw new TypeError(`${adapter}: router must be a router from createWebhookRouter().`);
    }
    deliver = async (event) => {
      const result = await dispatch.call(router, event);
      return result.skipped === undefined
        ? { handled: result.handled }
        : { handled: result.handled, skipped: result.skipped };
    };
  }

  if (onError !== undefined && typeof onError !== 'function') {
    throw new TypeError(`${adapter}: onError must be a function.`);
  }
  const limit = maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (typeof limit !== 'number' || !(limit > 0) || (Number.isFinite(limit) && !Number.isInteger(limit))) {
    throw new TypeError(`${adapter}: maxBodyBytes must be a positive whole number of bytes (or Infinity).`);
  }

  const report = (error: unknown, info: WebhookErrorInfo) => {
    if (onError === undefined) {
      if (info.status >= 500)
        console.error(`Webhook request failed with ${info.status} (${info.code}):`, error);
      return;
    }
    try {
      (onError as (error: unknown, info: WebhookErrorInfo) => void)(error, info);
    } catch {
      // A failing logger must not change the answer to the sender.
    }
  };

  return { secrets: checkedSecrets, verifyOptions, maxBodyBytes: limit, deliver, report };
}

/** 413, for a body over the limit. */
export function tooLargeResponse(config: ResolvedAdapterOptions): AdapterResponse {
  const message = `The request body exceeds the ${config.maxBodyBytes}-byte limit.`;
  config.report(new Error(message), { status: 413, code: 'payload_too_large' });
  return errorResponse(413, 'payload_too_large', message);
}

/** 405, for anything but POST. */
export function methodNotAllowedResponse(): AdapterResponse {
  return errorResponse(405, 'method_not_allowed', 'Webhooks are delivered with POST.', { allow: 'POST' });
}

/** 400 `payload_not_raw`, with a message naming the fix: it is about the receiver's own setup. */
export function notRawResponse(config: ResolvedAdapterOptions, message: string): AdapterResponse {
  const error = new WebhookSignatureError('payload_not_raw', message);
  config.report(error, { status: 400, code: error.code });
  return errorResponse(400, error.code, message);
}

/**
 * Verifies the raw body and hands the event on: 400 with the error code if
 * it does not verify, 500 if the handler throws, 200 once it resolved.
 */
export async function processWebhook(
  config: ResolvedAdapterOptions,
  payload: WebhookPayload,
  header: SignatureHeaderInput,
  verify: Verify,
): Promise<AdapterResponse> {
  let event: WebhookEvent<unknown>;
  try {
    event = await verify(payload, header, config.secrets, config.verifyOptions);
  } catch (error) {
    const reason = error instanceof WebhookSignatureError ? SHORT_REASONS[error.code] : undefined;
    if (error instanceof WebhookSignatureError && reason !== undefined) {
      config.report(error, { status: 400, code: error.code });
      return errorResponse(400, error.code, reason);
    }
    if (error instanceof WebhookSignatureError && error.code === 'payload_not_raw') {
      return notRawResponse(config, error.message);
    }
    config.report(error, { status: 500, code: 'internal_error' });
    return errorResponse(500, 'internal_error', 'The webhook could not be verified.');
  }
  try {
    const extra = await config.deliver(event, payload);
    return jsonResponse(200, { received: true, ...extra });
  } catch (error) {
    config.report(error, { status: 500, code: 'handler_failed', event });
    return errorResponse(500, 'handler_failed', 'The webhook handler failed; the delivery will be retried.');
  }
}
