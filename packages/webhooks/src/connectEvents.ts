// Types for the events a Connect platform is advised to listen to. They are
// written here, not imported from `stripe`, so the package keeps zero
// dependencies; a test checks that the `stripe` package's own types stay
// assignable to them, which catches drift in either direction that matters.
import type { WebhookEvent } from './events.js';

/**
 * A string with known values offered for completion, any other accepted.
 * Stripe adds enum values without notice, so handlers must not assume the
 * list is closed.
 */
export type OpenEnum<T extends string> = T | (string & Record<never, never>);

/** A reference to another object: its id, or the object itself in an expanded API response. */
export type Expandable<T extends ExpandedObject = ExpandedObject> = string | T;

/** The part of an expanded object every Stripe object has. */
export interface ExpandedObject {
  id: string;
  object: string;
}

/** Key-value pairs the platform attached to an object. */
export type Metadata = Record<string, string>;

/**
 * The id of an {@link Expandable} reference, whether it came as an id or
 * expanded. Webhook payloads always carry the id; API responses may expand it.
 *
 * @example
 * const bankAccountId = idOf(payout.destination); // 'ba_…' or null
 */
export function idOf(value: Expandable | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.id;
}

/** `data.object` of `account.application.deauthorized`: the platform the account disconnected from. */
export interface Application {
  /** `ca_…` */
  id: string;
  object: 'application';
  name: string | null;
}

/** One requirement that failed verification. */
export interface RequirementError {
  code: string;
  reason: string;
  /** The requirement it concerns, e.g. `individual.verification.document`. */
  requirement: string;
}

/** What an account still has to provide, and by when. Arrays are null when Stripe omits them. */
export interface AccountRequirements {
  /** Unix seconds by which `currently_due` must be provided, or null. */
  current_deadline: number | null;
  currently_due: string[] | null;
  disabled_reason: OpenEnum<
    | 'action_required.requested_capabilities'
    | 'listed'
    | 'other'
    | 'platform_paused'
    | 'rejected.fraud'
    | 'rejected.incomplete_verification'
    | 'rejected.listed'
    | 'rejected.other'
    | 'rejected.terms_of_service'
    | 'requirements.past_due'
    | 'requirements.pending_verification'
    | 'under_review'
  > | null;
  errors: RequirementError[] | null;
  eventually_due: string[] | null;
  past_due: string[] | null;
  pending_verification: string[] | null;
}

export type CapabilityStatus = OpenEnum<'active' | 'inactive' | 'pending'>;

/**
 * The capabilities most platforms check. Others are present at runtime
 * under their own names (e.g. `sepa_debit_payments`); they are left out of
 * the type because the `stripe` package lists them without an index
 * signature, and one here would make its `Account` unassignable.
 */
export interface AccountCapabilities {
  card_payments?: CapabilityStatus;
  transfers?: CapabilityStatus;
  us_bank_account_ach_payments?: CapabilityStatus;
  sepa_debit_payments?: CapabilityStatus;
}

/** `data.object` of `account.updated`: a connected account. */
export interface Account {
  /** `acct_…` */
  id: string;
  object: 'account';
  type: OpenEnum<'standard' | 'express' | 'custom' | 'none'>;
  business_type?: OpenEnum<'company' | 'government_entity' | 'individual' | 'non_profit'> | null;
  capabilities?: AccountCapabilities;
  charges_enabled: boolean;
  country?: string;
  created?: number;
  default_currency?: string;
  details_submitted: boolean;
  email: string | null;
  future_requirements?: AccountRequirements;
  metadata?: Metadata;
  payouts_enabled: boolean;
  requirements?: AccountRequirements;
}

/**
 * Status of an external account. `errored` follows a failed payout: payouts
 * to it stop until it is updated.
 */
export type ExternalAccountStatus = OpenEnum<
  'new' | 'validated' | 'verified' | 'verification_failed' | 'errored'
>;

/** A connected account's bank account for payouts (`ba_…`). */
export interface BankAccount {
  id: string;
  object: 'bank_account';
  /** The connected account it belongs to. */
  account?: Expandable | null;
  account_holder_name: string | null;
  account_holder_type: string | null;
  bank_name: string | null;
  country: string;
  currency: string;
  default_for_currency?: boolean | null;
  fingerprint: string | null;
  last4: string;
  metadata?: Metadata | null;
  routing_number: string | null;
  status: ExternalAccountStatus;
}

/** A connected account's debit card for payouts (`card_…`). */
export interface Card {
  id: string;
  object: 'card';
  /** The connected account it belongs to. */
  account?: Expandable | null;
  brand: string;
  country: string | null;
  currency?: string | null;
  default_for_currency?: boolean | null;
  exp_month: number;
  exp_year: number;
  fingerprint?: string | null;
  funding: string;
  last4: string;
  metadata: Metadata | null;
  status?: ExternalAccountStatus | null;
}

/** `data.object` of `account.external_account.updated`; tell them apart by `object`. */
export type ExternalAccount = BankAccount | Card;

/** Funds of one currency, split by the payment method they came from. */
export interface BalanceAmount {
  amount: number;
  currency: string;
  source_types?: { bank_account?: number; card?: number; fpx?: number };
}

/** `data.object` of `balance.available`. A balance has no `id`; the owner is the event's `account`. */
export interface Balance {
  object: 'balance';
  available: BalanceAmount[];
  /** Funds the platform holds back for the connected account's refunds and disputes. */
  connect_reserved?: BalanceAmount[];
  instant_available?: BalanceAmount[];
  livemode: boolean;
  pending: BalanceAmount[];
}

/** `data.object` of `payment_intent.succeeded` (`pi_…`). Amounts are in the currency's smallest unit. */
export interface PaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  application: Expandable | null;
  application_fee_amount: number | null;
  created: number;
  currency: string;
  customer: Expandable | null;
  description: string | null;
  latest_charge: Expandable | null;
  livemode: boolean;
  metadata: Metadata;
  /** The connected account the payment is made for, with destination charges. */
  on_behalf_of: Expandable | null;
  payment_method: Expandable | null;
  status: OpenEnum<
    | 'canceled'
    | 'processing'
    | 'requires_action'
    | 'requires_capture'
    | 'requires_confirmation'
    | 'requires_payment_method'
    | 'succeeded'
  >;
  /** Destination charges: where the funds go, and how much of them. */
  transfer_data?: { amount?: number; destination: Expandable } | null;
  transfer_group: string | null;
}

/** Why a payout failed, as Stripe reports it in `failure_code`. */
export type PayoutFailureCode = OpenEnum<
  | 'account_closed'
  | 'account_frozen'
  | 'bank_account_restricted'
  | 'bank_ownership_changed'
  | 'could_not_process'
  | 'debit_not_authorized'
  | 'declined'
  | 'incorrect_account_holder_name'
  | 'insufficient_funds'
  | 'invalid_account_number'
  | 'invalid_currency'
  | 'no_account'
  | 'unsupported_card'
>;

/** `data.object` of `payout.failed` (`po_…`). */
export interface Payout {
  id: string;
  object: 'payout';
  amount: number;
  /** Unix seconds the payout is expected to arrive (or did). */
  arrival_date: number;
  automatic: boolean;
  balance_transaction: Expandable | null;
  created: number;
  currency: string;
  description: string | null;
  /** The bank account or card paid out to; after a failure it becomes `errored`. */
  destination: Expandable | null;
  /** The transaction that returned the funds to the balance. */
  failure_balance_transaction: Expandable | null;
  failure_code: PayoutFailureCode | null;
  failure_message: string | null;
  livemode: boolean;
  metadata: Metadata | null;
  method: OpenEnum<'standard' | 'instant'>;
  source_type: string;
  statement_descriptor: string | null;
  status: OpenEnum<'paid' | 'pending' | 'in_transit' | 'canceled' | 'failed'>;
  type: OpenEnum<'bank_account' | 'card'>;
}

/** What a person still has to provide. */
export interface PersonRequirements {
  currently_due: string[];
  errors: RequirementError[];
  eventually_due: string[];
  past_due: string[];
  pending_verification: string[];
}

/** `data.object` of `person.updated`: a person of a connected account (`person_…`). */
export interface Person {
  id: string;
  object: 'person';
  /** The connected account the person belongs to. */
  account: string;
  created: number;
  email?: string | null;
  first_name?: string | null;
  future_requirements?: PersonRequirements | null;
  last_name?: string | null;
  metadata?: Metadata;
  relationship?: {
    director?: boolean | null;
    executive?: boolean | null;
    owner?: boolean | null;
    percent_ownership?: number | null;
    representative?: boolean | null;
    title?: string | null;
  };
  requirements?: PersonRequirements | null;
  verification?: {
    details?: string | null;
    details_code?: string | null;
    status: OpenEnum<'unverified' | 'pending' | 'verified'>;
  };
}

/** The event types Stripe recommends a Connect platform listen to. */
export const RECOMMENDED_CONNECT_EVENTS = Object.freeze([
  'account.application.deauthorized',
  'account.external_account.updated',
  'account.updated',
  'balance.available',
  'payment_intent.succeeded',
  'payout.failed',
  'person.updated',
] as const);

export type RecommendedConnectEventType = (typeof RECOMMENDED_CONNECT_EVENTS)[number];

/** `data.object` by event type, for the recommended Connect events. */
export interface ConnectEventObjects {
  'account.application.deauthorized': Application;
  'account.external_account.updated': ExternalAccount;
  'account.updated': Account;
  'balance.available': Balance;
  'payment_intent.succeeded': PaymentIntent;
  'payout.failed': Payout;
  'person.updated': Person;
}

/** An event whose `type` and `data.object` are known together. */
export interface TypedWebhookEvent<TType extends string, TObject> extends WebhookEvent<TObject> {
  type: TType;
  data: {
    object: TObject;
    /** For `*.updated` events: the previous values of the top-level keys that changed. */
    previous_attributes?: Partial<TObject>;
  };
}

/** An event of a type with no dedicated object type here: `data.object` is a plain record. */
export type GenericWebhookEvent<TType extends string = string> = TypedWebhookEvent<
  TType,
  Record<string, unknown>
>;

/**
 * The event for a given type: `EventOfType<'payout.failed'>` has a
 * `Payout` as `data.object`; any other type gets a generic record. A union
 * of types gives the union of their events.
 */
export type EventOfType<T extends string> = T extends RecommendedConnectEventType
  ? TypedWebhookEvent<T, ConnectEventObjects[T]>
  : GenericWebhookEvent<T>;

/** One of the seven recommended Connect events; `switch (event.type)` narrows `data.object`. */
export type RecommendedConnectEvent = {
  [T in RecommendedConnectEventType]: EventOfType<T>;
}[RecommendedConnectEventType];

/**
 * Any event a Connect endpoint may receive: a recommended one, or any other
 * type with a generic `data.object`.
 *
 * TypeScript cannot subtract the seven literals from `string`, so comparing
 * `event.type` on this union does not narrow `data.object`; narrow with
 * {@link isEventType} or {@link isRecommendedConnectEvent} first.
 *
 * @example
 * if (isRecommendedConnectEvent(event)) {
 *   switch (event.type) {
 *     case 'payout.failed':
 *       notify(event.account, event.data.object.failure_code);
 *       break;
 *   }
 * }
 */
export type ConnectEvent = RecommendedConnectEvent | GenericWebhookEvent;

const RECOMMENDED = new Set<string>(RECOMMENDED_CONNECT_EVENTS);

/**
 * Narrows an event to the given type, typing `data.object` accordingly.
 *
 * @example
 * if (isEventType(event, 'payout.failed')) event.data.object.failure_code;
 */
export function isEventType<T extends OpenEnum<RecommendedConnectEventType>>(
  event: { type: string },
  type: T,
): event is EventOfType<T> {
  return event.type === type;
}

/** True for the seven recommended Connect event types, narrowing to a union a `switch` can discriminate. */
export function isRecommendedConnectEvent(event: { type: string }): event is RecommendedConnectEvent {
  return RECOMMENDED.has(event.type);
}
