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
export { buildSignatureHeader, computeSignature } from './signature.js';
export { generateTestHeader } from './testing.js';
export { constructEvent, verifySignature } from './verify.js';
export {
  buildSignatureHeaderAsync,
  computeSignatureAsync,
  constructEventAsync,
  generateTestHeaderAsync,
  verifySignatureAsync,
} from './web.js';
