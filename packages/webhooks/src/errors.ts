/**
 * Why a webhook signature could not be verified (or a signing call was
 * misused). Codes are stable: branch on `code`, never on `message`, which
 * is written for humans and may be reworded.
 */
export type WebhookSignatureErrorCode =
  | 'missing_header'
  | 'malformed_header'
  | 'no_v1_signature'
  | 'timestamp_too_old'
  | 'timestamp_in_future'
  | 'signature_mismatch'
  | 'payload_not_raw'
  | 'invalid_payload'
  | 'invalid_secret'
  | 'invalid_options';

export interface WebhookSignatureErrorDetails {
  /**
   * For `timestamp_too_old` / `timestamp_in_future`: now − t in whole
   * seconds. Positive when the signature is older than this machine's clock,
   * negative when it is from the future.
   */
  skewSeconds?: number;
  /** The signature header as received, when there was one. */
  header?: string;
  /** The underlying error, e.g. the `SyntaxError` behind `invalid_payload`. */
  cause?: unknown;
}

/**
 * The only error type thrown by verification. Callers should answer 400 to
 * the sender for every code except `invalid_secret` and `invalid_options`,
 * which are configuration mistakes on the receiving side.
 *
 * @example
 * try {
 *   event = constructEvent(rawBody, req.headers['stripe-signature'], secret);
 * } catch (err) {
 *   if (err instanceof WebhookSignatureError) return res.status(400).send(err.code);
 *   throw err;
 * }
 */
export class WebhookSignatureError extends Error {
  override readonly name = 'WebhookSignatureError';
  readonly code: WebhookSignatureErrorCode;
  readonly skewSeconds?: number;
  readonly header?: string;

  constructor(code: WebhookSignatureErrorCode, message: string, details: WebhookSignatureErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.skewSeconds !== undefined) this.skewSeconds = details.skewSeconds;
    if (details.header !== undefined) this.header = details.header;
  }
}

/** Type guard that also narrows to a given code, e.g. `isWebhookSignatureError(e, 'timestamp_too_old')`. */
export function isWebhookSignatureError(
  value: unknown,
  code?: WebhookSignatureErrorCode,
): value is WebhookSignatureError {
  return value instanceof WebhookSignatureError && (code === undefined || value.code === code);
}
