/** What every API handler can reach: the runtime, and per request the caller and its parameters. */

import type { Clock } from '../clock.js';
import type { DeliveryEngine } from '../delivery/engine.js';
import type { AccountRecord, ClaimStepsOptions, PlatformRecord, StepRequest, Store } from '../store/types.js';
import type { RawParams } from './params.js';

export interface Runtime {
  store: Store;
  clock: Clock;
  platform: PlatformRecord;
  engine: DeliveryEngine;
  allowPrivateTargets: boolean;
  /** What events carry unless an endpoint has its own `api_version`. */
  defaultApiVersion: string;
  /** How long without a 2xx disables an endpoint. */
  disableAfterMs: number;
  /** How long a card charge's funds stay pending (services/payments.ts). */
  fundsPendingMs: number;
  /** How long a payout takes to settle (services/payouts.ts). */
  payoutSettleMs: number;
  /** Run scheduled steps now (services/scheduler.ts): the test helper that moves an account's time. */
  runScheduledSteps(options: ClaimStepsOptions, request: StepRequest): Promise<number>;
  /** The origin clients reach the API at (`serve --public-url`); null: the request's own. */
  publicOrigin: string | null;
  /** Believe `X-Forwarded-Proto` and `X-Forwarded-Host`. */
  trustProxy: boolean;
  log: Logger;
  delivery: DeliverySettings;
}

/** How this node delivers: retry schedules, the attempt timeout and the lease that covers it. */
export interface DeliverySettings {
  liveSchedule: readonly number[];
  testSchedule: readonly number[];
  timeoutMs: number;
  leaseMs: number;
  random: () => number;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** The authenticated caller. */
export interface Caller {
  livemode: boolean;
  /** SHA-256 of the API key: scopes idempotency keys without keeping the key. */
  keyHash: string;
  /** The account the request acts as: the platform, or the connected account named by `Stripe-Account`. */
  accountId: string;
  /** Set when acting as a connected account. */
  connectedAccount: AccountRecord | null;
  /** `Stripe-Version`, when sent: one of Stripe's published versions (checked). */
  stripeVersion: string | null;
}

export type ApiEnv = {
  Variables: {
    requestId: string;
    caller: Caller;
    params: RawParams;
  };
};
