/**
 * The official `stripe` package, unchanged, against a real Switchboard:
 * webhook endpoints, connected accounts and events.
 */

import type Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { ENGINES, type Harness, startHarness } from './helpers/switchboard.js';

describe.each(ENGINES)('stripe SDK against Switchboard (%s)', (engine) => {
  let h: Harness;
  let failed = false;
  beforeEach(async () => {
    failed = false;
    h = await startHarness(engine);
  });
  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    await h.close(failed);
  });

  it('creates, retrieves, lists, updates and deletes webhook endpoints', async () => {
    onTestFailed(() => {
      failed = true;
    });
    const stripe = h.stripe();
    const created = await stripe.webhookEndpoints.create({
      url: 'https://example.com/hooks',
      enabled_events: ['account.updated', 'payout.failed'],
      connect: true,
      description: 'platform hooks',
      metadata: { team: 'payments' },
    });
    expect(created.id).toMatch(/^we_/);
    expect(created.object).toBe('webhook_endpoint');
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.application).toBe(h.sb.platform.applicationId);
    expect(created.livemode).toBe(false);
    expect(created.status).toBe('enabled');
    expect(created.enabled_events).toEqual(['account.updated', 'payout.failed']);

    const got = await stripe.webhookEndpoints.retrieve(created.id);
    expect(got.secret).toBeUndefined();
    expect(got.metadata).toEqual({ team: 'payments' });

    const acctEndpoint = await stripe.webhookEndpoints.create({
      url: 'https://example.com/own',
      enabled_events: ['*'],
    });
    expect(acctEndpoint.application).toBeNull();

    const list = await stripe.webhookEndpoints.list({ limit: 1 });
    expect(list.data.map((e) => e.id)).toEqual([acctEndpoint.id]);
    expect(list.has_more).toBe(true);
    const all: string[] = [];
    for await (const ep of stripe.webhookEndpoints.list({ limit: 1 })) all.push(ep.id);
    expect(all).toEqual([acctEndpoint.id, created.id]);

    const updated = await stripe.webhookEndpoints.update(created.id, {
      enabled_events: ['*'],
      disabled: true,
      metadata: { team: '', owner: 'ana' },
      description: '',
    });
    expect(updated.status).toBe('disabled');
    expect(updated.enabled_events).toEqual(['*']);
    expect(updated.metadata).toEqual({ owner: 'ana' });
    expect(updated.description).toBeNull();

    const deleted = await stripe.webhookEndpoints.del(created.id);
    expect(deleted).toMatchObject({ id: created.id, object: 'webhook_endpoint', deleted: true });
    await expect(stripe.webhookEndpoints.retrieve(created.id)).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      code: 'resource_missing',
      statusCode: 404,
      message: `No such webhook endpoint: '${created.id}'`,
    });
  });

  it('keeps test and live endpoints apart', async () => {
    onTestFailed(() => {
      failed = true;
    });
    const test = await h
      .stripe()
      .webhookEndpoints.create({ url: 'https://example.com/t', enabled_events: ['*'] });
    const live = await h.stripe('sk_live_switchboardLiveKey0001').webhookEndpoints.create({
      url: 'https://example.com/l',
      enabled_events: ['*'],
    });
    expect(live.livemode).toBe(true);
    expect((await h.stripe().webhookEndpoints.list()).data.map((e) => e.id)).toEqual([test.id]);
    await expect(h.stripe().webhookEndpoints.retrieve(live.id)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('creates, updates, lists and deauthorizes connected accounts; events are seen with stripeAccount', async () => {
    onTestFailed(() => {
      failed = true;
    });
    const stripe = h.stripe();
    const account = await stripe.accounts.create({
      type: 'express',
      country: 'US',
      email: 'seller@example.com',
      metadata: { seller: '42' },
      business_profile: { name: 'Seller Co' },
      capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
    });
    expect(account.id).toMatch(/^acct_/);
    expect(account.type).toBe('express');
    expect(account.charges_enabled).toBe(false);
    expect(account.requirements?.currently_due).toContain('external_account');
    expect(account.capabilities).toEqual({ card_payments: 'active', transfers: 'active' });
    expect(account.business_profile?.name).toBe('Seller Co');

    const updated = await stripe.accounts.update(account.id, {
      email: 'new@example.com',
      metadata: { tier: 'gold' },
    });
    expect(updated.email).toBe('new@example.com');
    expect(updated.metadata).toEqual({ seller: '42', tier: 'gold' });
    expect((await stripe.accounts.retrieve(account.id)).email).toBe('new@example.com');
    expect((await stripe.accounts.list()).data.map((a) => a.id)).toEqual([account.id]);

    // The account.updated event lives in the connected account.
    const events = await stripe.events.list({ type: 'account.updated' }, { stripeAccount: account.id });
    expect(events.data).toHaveLength(1);
    const event = events.data[0]!;
    expect(event.account).toBe(account.id);
    expect(event.data.previous_attributes).toEqual({
      email: 'seller@example.com',
      metadata: { seller: '42' },
    });
    expect((event.data.object as Stripe.Account).email).toBe('new@example.com');
    const again = await stripe.events.retrieve(event.id, {}, { stripeAccount: account.id });
    expect(again.id).toBe(event.id);
    // Without Stripe-Account the platform does not see it.
    await expect(stripe.events.retrieve(event.id)).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
    expect((await stripe.events.list()).data).toHaveLength(0);

    const deleted = await stripe.accounts.del(account.id);
    expect(deleted).toMatchObject({ id: account.id, deleted: true });
    const deauth = await stripe.events.list({ type: 'account.application.*' }, { stripeAccount: account.id });
    expect(deauth.data.map((e) => e.type)).toEqual(['account.application.deauthorized']);
    expect(deauth.data[0]!.data.object).toMatchObject({
      id: h.sb.platform.applicationId,
      object: 'application',
    });
    // The platform has lost the account.
    await expect(stripe.accounts.update(account.id, { email: 'x@example.com' })).rejects.toMatchObject({
      statusCode: 404,
    });
    await expect(stripe.webhookEndpoints.list({}, { stripeAccount: account.id })).rejects.toMatchObject({
      statusCode: 403,
      code: 'account_invalid',
    });
  });

  it('answers a bad key with Stripe’s 401', async () => {
    onTestFailed(() => {
      failed = true;
    });
    await expect(h.stripe('sk_test_wrongwrongwrong1234').webhookEndpoints.list()).rejects.toMatchObject({
      type: 'StripeAuthenticationError',
      statusCode: 401,
      message: 'Invalid API Key provided: sk_test_****1234',
    });
  });
});
