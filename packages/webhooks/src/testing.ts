import { prepareTestHeader, type TestHeaderOptions } from './core.js';
import { formatSignatureHeader } from './header.js';
import { computeSignature } from './signature.js';

/**
 * A signature header for your own tests, as a Switchboard server would send
 * it. `timestamp` defaults to now (unix seconds); `scheme` defaults to `v1`.
 *
 * @example
 * const body = JSON.stringify({ id: 'evt_test', object: 'event', type: 'account.updated' });
 * const header = generateTestHeader({ payload: body, secret: 'whsec_test' });
 * await request(app).post('/webhooks').set('Stripe-Signature', header).send(body);
 */
export function generateTestHeader(options: TestHeaderOptions): string {
  const { payload, secret, timestamp, scheme } = prepareTestHeader(options);
  return formatSignatureHeader(timestamp, [{ scheme, value: computeSignature(payload, secret, timestamp) }]);
}
