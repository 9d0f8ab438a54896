/** Where an event came from: the API request that caused it, if any. */
export interface WebhookEventRequest {
  id: string | null;
  idempotency_key: string | null;
}

/**
 * A webhook event as delivered (the subset of Stripe's Event object that
 * receivers rely on). `TObject` types `data.object` when the event type is known.
 *
 * @example
 * const event = constructEvent<WebhookEvent<{ id: string; amount: number }>>(body, header, secret);
 */
export interface WebhookEvent<TObject = Record<string, unknown>> {
  id: string;
  object: 'event';
  /** The connected account the event belongs to (Connect events only). */
  account?: string;
  api_version: string | null;
  /** Unix seconds. */
  created: number;
  data: {
    object: TObject;
    /** For `*.updated` events: the previous values of the attributes that changed. */
    previous_attributes?: Record<string, unknown>;
  };
  livemode: boolean;
  pending_webhooks: number;
  request: WebhookEventRequest | null;
  type: string;
}
