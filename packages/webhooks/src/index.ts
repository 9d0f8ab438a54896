// The Node entry point: everything the portable entry (./web) has, plus
// synchronous signing and verification on node:crypto.

export { buildSignatureHeader, computeSignature } from './signature.js';
export { generateTestHeader } from './testing.js';
export { constructEvent, verifySignature } from './verify.js';
export * from './web.js';
