// Entry point for runtimes without node:crypto (edge workers, Deno, Bun,
// browsers) and for fetch-style frameworks (Hono, Next.js route handlers).
// Nothing reachable from this module may import a node: builtin.

export {
  DEFAULT_MAX_BODY_BYTES,
  type WebhookAdapterOptions,
  type WebhookErrorInfo,
} from './adapters/shared.js';
export {
  createWebhookRequestHandler,
  handleWebhookRequest,
  type WebWebhookOptions,
} from './adapters/web.js';
export {
  type Account,
  type AccountCapabilities,
  type AccountRequirements,
  type Application,
  type Balance,
  type BalanceAmount,
  type BankAccount,
  type CapabilityStatus,
  type Card,
  type ConnectEvent,
  type ConnectEventObjects,
  type EventOfType,
  type Expandable,
  type ExpandedObject,
  type ExternalAccount,
  type ExternalAccountStatus,
  type GenericWebhookEvent,
  idOf,
  isEventType,
  isRecommendedConnectEvent,
  type Metadata,
  type OpenEnum,
  type PaymentIntent,
  type Payout,
  type PayoutFailureCode,
  type Person,
  type PersonRequirements,
  RECOMMENDED_CONNECT_EVENTS,
  type RecommendedConnectEvent,
  type RecommendedConnectEventType,
  type RequirementError,
  type TypedWebhookEvent,
} from './connectEvents.js';
export type {
  BuildSignatureHeaderOptions,
  SignatureHeaderInput,
  TestHeaderOptions,
  VerifiedSignature,
  VerifyOptions,
  WebhookPayload,
} from './core.js';
export { DEFAULT_TOLERANCE_SECONDS } from './core.js';
export {
  isWebhookSignatureError,
  WebhookSignatureError,
  type WebhookSignatureErrorCode,
  type WebhookSignatureErrorDetails,
} from './errors.js';
export type { WebhookEvent, WebhookEventRequest } from './events.js';
export {
  formatSignatureHeader,
  type ParsedSignatureHeader,
  parseSignatureHeader,
  type SignatureEntry,
  v1Signatures,
} from './header.js';
export {
  CatchUpError,
  type CatchUpOptions,
  type CatchUpResult,
  type CatchUpSince,
  catchUp,
} from './inbox/catchUp.js';
export {
  createInbox,
  DEFAULT_RETRY_DELAYS_MS,
  defaultOrderingKey,
  type Inbox,
  type InboxErrorInfo,
  type InboxHandler,
  type InboxHandlerContext,
  type InboxOptions,
  type InboxRunResult,
  type TieContext,
  type TieDecision,
} from './inbox/inbox.js';
export {
  createPostgresInbox,
  type PgPool,
  type PgPoolClient,
  type PgQueryable,
  type PgQueryResult,
  type PostgresInboxOptions,
} from './inbox/postgres.js';
export {
  createSqliteInbox,
  type SqliteDatabase,
  type SqliteInboxOptions,
  type SqliteStatement,
  type SqliteTransaction,
} from './inbox/sqlite.js';
export {
  type CompleteOutcome,
  type CompleteResult,
  INBOX_STATUSES,
  type InboxAcceptor,
  type InboxRecord,
  type InboxStats,
  type InboxStatus,
  type InboxStore,
  type Watermark,
} from './inbox/types.js';
export {
  createWebhookRouter,
  type DispatchResult,
  type EventTypeName,
  type HandlerOptions,
  type LivemodePolicy,
  type SkipReason,
  type WebhookContext,
  type WebhookHandler,
  type WebhookRouter,
  type WebhookRouterOptions,
} from './router.js';
export {
  buildSignatureHeaderAsync,
  computeSignatureAsync,
  constructEventAsync,
  generateTestHeaderAsync,
  verifySignatureAsync,
} from './webCrypto.js';
