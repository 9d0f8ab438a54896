/**
 * The wire as Stripe sends it: pretty-printed bodies that fail verification
 * once re-serialised, each endpoint's `api_version` stamped on what it gets,
 * and Stripe's enums checked on the way in.
 */

import { constructEvent, isWebhookSignatureError } from '@switchboard/webhooks';
import Stripe from 'stripe';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { buildEvent, serializeEvent, withApiVersion } from '../src/objects/event.js';
import { LATEST_API_VERSION } from '../src/stripe/apiVersions.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';
import { ENGINES, type Engine, type Harness, startHarness } from './helpers/switchboard.js';

const stripeLib = new Stripe('sk_test_unused');

const sample = serializeEvent(
  buildEvent({
    id: 'evt_1',
    type: 'account.updated',
    account: 'acct_1',
    apiVersion: '2026-10-28.endive',
    createdUnix: 1_700_000_000,
    object: { id: 'acct_1', object: 'account', metadata: {}, api_version: 'nested, not the stamp' },
    previousAttributes: { email: null },
    livemode: false,
    pendingWebhooks: 1,
    requestId: null,
    idempotencyKey: null,
  }),
);

describe('serialised events', () => {
  it('are pretty-printed as Stripe sends them: two-space indent, \\n, the object key order', () => {
    expect(sample.startsWith('{\n  "id": "evt_1",\n  "object": "event",\n  "account": "acct_1",\n')).toBe(
      true,
    );
    expect(sample).toContain('\n  "data": {\n    "object": {\n      "id": "acct_1",');
    expect(sample).toContain('"metadata": {}');
    expect(sample.endsWith('\n}')).toBe(true);
    expect(JSON.stringify(JSON.parse(sample))).not.toBe(sample);
  });

  it.each([
    ['no endpoint version keeps the event’s', null, '2026-10-28.endive'],
    ['the same version changes nothing', '2026-10-28.endive', '2026-10-28.endive'],
    ['another version replaces the top-level stamp', '2024-06-20', '2024-06-20'],
  ])('withApiVersion: %s', (_name, version, expected) => {
    const body = withApiVersion(sample, version);
    const parsed = JSON.parse(body);
    expect(parsed.api_version).toBe(expected);
    // Only the top-level stamp: a nested `api_version` is data, and the rest of the bytes stay.
    expect(parsed.data.object.api_version).toBe('nested, not the stamp');
    expect(body.replace(`"api_version": "${expected}"`, '"api_version": "2026-10-28.endive"')).toBe(sample);
  });

  it('withApiVersion leaves a body without a top-level stamp alone', () => {
    expect(withApiVersion('{"api_version":"x"}', '2024-06-20')).toBe('{"api_version":"x"}');
  });
});

describe.each(ENGINES)('the wire (%s)', (engine: Engine) => {
  let h: Harness;
  let rx: Receiver;
  let failed = false;

  async function setup() {
    failed = false;
    onTestFailed(() => {
      failed = true;
    });
    h = await startHarness(engine);
    rx = await startReceiver();
  }
  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    await rx?.close();
    await h?.close(failed);
  });

  it('each endpoint gets events stamped with its api_version, others the default; raw bytes verify, re-serialised ones do not', async () => {
    await setup();
    const stripe = h.stripe();
    const pinned = await stripe.webhookEndpoints.create({
      url: `${rx.url}/pinned`,
      enabled_events: ['customer.created'],
      api_version: '2024-06-20',
    });
    expect(pinned.api_version).toBe('2024-06-20');
    const plain = await stripe.webhookEndpoints.create({ url: `${rx.url}/plain`, enabled_events: ['*'] });
    expect(plain.api_version).toBeNull();
    const published = await h.api('POST', '/v1/events', {
      type: 'customer.created',
      data: { object: { id: 'cus_1', object: 'customer' } },
    });
    expect(published.body.api_version).toBe(LATEST_API_VERSION);
    expect(await h.sb.engine.runOnce()).toBe(2);
    const got = await rx.waitFor(2);
    const byPath = Object.fromEntries(got.map((r) => [r.path, r]));
    const secrets: Record<string, string> = { '/pinned': pinned.secret!, '/plain': plain.secret! };
    const versions: Record<string, string> = { '/pinned': '2024-06-20', '/plain': LATEST_API_VERSION };
    for (const path of ['/pinned', '/plain']) {
      const req = byPath[path]!;
      const header = req.headers['stripe-signature'] as string;
      const raw = req.body.toString('utf8');
      expect(raw.startsWith('{\n  "id": "evt_')).toBe(true);
      const event = stripeLib.webhooks.constructEvent(raw, header, secrets[path]!, 300, undefined, h.clock());
      expect(event.api_version).toBe(versions[path]);
      expect(constructEvent(req.body, header, secrets[path]!, { now: () => h.clock() }).id).toBe(event.id);

      // The most common receiver bug fails here as it does against Stripe, and the toolkit says why.
      const reserialized = JSON.stringify(JSON.parse(raw));
      expect(() =>
        stripeLib.webhooks.constructEvent(reserialized, header, secrets[path]!, 300, undefined, h.clock()),
      ).toThrow(/signature/i);
      let error: unknown;
      try {
        constructEvent(reserialized, header, secrets[path]!, { now: () => h.clock() });
      } catch (e) {
        error = e;
      }
      expect(isWebhookSignatureError(error, 'signature_mismatch')).toBe(true);
      expect((error as Error).message).toMatch(/parsed and serialised again/);
    }
    // The Events API serves the event with the account's default version.
    expect((await stripe.events.retrieve(published.body.id)).api_version).toBe(LATEST_API_VERSION);
  });

  it.each<[string, string, string, unknown, Record<string, string>, string, RegExp]>([
    [
      'a mistyped enabled_events entry',
      'POST',
      '/v1/webhook_endpoints',
      { url: 'https://example.com/h', enabled_events: ['account.updated', 'account.udpated'] },
      {},
      'enabled_events[1]',
      /'account.udpated' is not one of Stripe's event types\. Did you mean 'account.updated'\?/,
    ],
    [
      'an invented event type',
      'POST',
      '/v1/webhook_endpoints',
      { url: 'https://example.com/h', enabled_events: ['banana.split'] },
      {},
      'enabled_events[0]',
      /not one of Stripe's event types/,
    ],
    [
      'an unknown api_version',
      'POST',
      '/v1/webhook_endpoints',
      { url: 'https://example.com/h', enabled_events: ['*'], api_version: 'banana' },
      {},
      'api_version',
      /'banana' is not an API version Stripe has published/,
    ],
    [
      'a nearly right api_version',
      'POST',
      '/v1/webhook_endpoints',
      { url: 'https://example.com/h', enabled_events: ['*'], api_version: '2026-10-28.endiv' },
      {},
      'api_version',
      /Did you mean '2026-10-28.endive'\?/,
    ],
    [
      'an unknown Stripe-Version on a read',
      'GET',
      '/v1/events',
      undefined,
      { 'stripe-version': 'garbage' },
      'Stripe-Version',
      /Invalid Stripe API version: 'garbage'/,
    ],
    [
      'an unknown Stripe-Version on a write',
      'POST',
      '/v1/events',
      { type: 'customer.created', data: { object: {} } },
      { 'stripe-version': '2026-13-01' },
      'Stripe-Version',
      /Invalid Stripe API version/,
    ],
  ])('400 naming the parameter: %s', async (_name, method, path, body, headers, param, message) => {
    await setup();
    const res = await h.api(method, path, body, headers);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(res.body.error.message).toMatch(message);
  });

  it('an update with a mistyped enabled_events entry is refused and changes nothing', async () => {
    await setup();
    const stripe = h.stripe();
    const ep = await stripe.webhookEndpoints.create({ url: 'https://example.com/h', enabled_events: ['*'] });
    const res = await h.api('POST', `/v1/webhook_endpoints/${ep.id}`, { enabled_events: ['payout.faild'] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ param: 'enabled_events[0]' });
    expect(res.body.error.message).toMatch(/Did you mean 'payout.failed'\?/);
    expect((await stripe.webhookEndpoints.retrieve(ep.id)).enabled_events).toEqual(['*']);
  });

  it('a published Stripe-Version is accepted, and the stripe SDK sends one', async () => {
    await setup();
    const res = await h.api('GET', '/v1/events', undefined, { 'stripe-version': '2025-01-27.acacia' });
    expect(res.status).toBe(200);
    expect((await h.stripe().events.list()).object).toBe('list');
  });
});
