/**
 * The official `stripe` package, unchanged, against a real Switchboard:
 * webhook endpoints, connected accounts and events.
 */

import type Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { ENGINES, type Harness, LIVE_KEY, startHarness } from './helpers/switchboard.js';

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
    // Every answer names its request, as Stripe's do (the SDK reads the Request-Id header).
    expect(got.lastResponse.requestId).toMatch(/^req_/);
    expect(created.lastResponse.requestId).not.toBe(got.lastResponse.requestId);
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
    // Requested, and inactive while requirements are due.
    expect(account.capabilities).toEqual({ card_payments: 'inactive', transfers: 'inactive' });
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
    // Nested, only what changed: the metadata key the update added was absent before.
    expect(event.data.previous_attributes).toEqual({
      email: 'seller@example.com',
      metadata: { tier: null },
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

  it('creates accounts with controller properties, deriving type as Stripe does', async () => {
    const stripe = h.stripe();
    const express = await stripe.accounts.create({
      controller: {
        fees: { payer: 'application' },
        losses: { payments: 'application' },
        stripe_dashboard: { type: 'express' },
      },
    });
    expect(express.type).toBe('express');
    expect(express.controller).toMatchObject({
      type: 'application',
      is_controller: true,
      fees: { payer: 'application' },
      losses: { payments: 'application' },
      requirement_collection: 'stripe',
      stripe_dashboard: { type: 'express' },
    });
    expect((await stripe.accounts.create({ controller: {} })).type).toBe('standard');
    const custom = await stripe.accounts.create({
      controller: {
        fees: { payer: 'application' },
        losses: { payments: 'application' },
        requirement_collection: 'application',
        stripe_dashboard: { type: 'none' },
      },
    });
    expect(custom.type).toBe('custom');
    const mixed = await stripe.accounts.create({
      controller: { fees: { payer: 'application' }, stripe_dashboard: { type: 'none' } },
    });
    expect(mixed.type).toBe('none');
    expect((await stripe.accounts.create({ type: 'custom' })).controller?.requirement_collection).toBe(
      'application',
    );
    // Neither: Stripe's defaults. Both, or a bad value: a 400 naming the parameter.
    expect((await stripe.accounts.create({})).type).toBe('standard');
    await expect(
      stripe.accounts.create({ type: 'express', controller: { stripe_dashboard: { type: 'full' } } }),
    ).rejects.toMatchObject({
      statusCode: 400,
      param: 'controller',
    });
    await expect(
      stripe.accounts.create({ controller: { stripe_dashboard: { type: 'fancy' as 'full' } } }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'controller[stripe_dashboard][type]' });
  });

  it('retrieves its own account with GET /v1/account, and a connected one with stripeAccount', async () => {
    const stripe = h.stripe();
    // Both ways stripe-node reaches GET /v1/account.
    const platform = await stripe.accounts.retrieveCurrent();
    expect(platform.id).toBe(h.sb.platform.id);
    expect(platform.charges_enabled).toBe(true);
    expect((await stripe.accounts.retrieve(null)).id).toBe(h.sb.platform.id);
    const acct = await stripe.accounts.create({ type: 'express' });
    expect((await stripe.accounts.retrieveCurrent({}, { stripeAccount: acct.id })).id).toBe(acct.id);
  });

  it('filters the account list by created', async () => {
    const stripe = h.stripe();
    const a = await stripe.accounts.create({ type: 'express' });
    h.clock.advance(10_000);
    const b = await stripe.accounts.create({ type: 'express' });
    expect((await stripe.accounts.list({ created: { gt: a.created } })).data.map((x) => x.id)).toEqual([
      b.id,
    ]);
    expect((await stripe.accounts.list({ created: { lte: a.created } })).data.map((x) => x.id)).toEqual([
      a.id,
    ]);
    expect((await stripe.accounts.list({ created: b.created })).data.map((x) => x.id)).toEqual([b.id]);
  });

  it('keeps each account to the modes it is connected in', async () => {
    const test = h.stripe();
    const live = h.stripe(LIVE_KEY);
    const testOnly = await test.accounts.create({ type: 'express' });
    const liveOnly = await live.accounts.create({ type: 'express' });

    // A live key cannot see a test-only account, nor act as it.
    await expect(live.accounts.retrieve(testOnly.id)).rejects.toMatchObject({ statusCode: 404 });
    await expect(live.accounts.update(testOnly.id, { email: 'x@example.com' })).rejects.toMatchObject({
      statusCode: 404,
    });
    await expect(live.accounts.del(testOnly.id)).rejects.toMatchObject({ statusCode: 404 });
    await expect(live.webhookEndpoints.list({}, { stripeAccount: testOnly.id })).rejects.toMatchObject({
      statusCode: 403,
      code: 'account_invalid',
    });
    // Reading events stays open, and a live key sees no test event.
    expect((await live.events.list({}, { stripeAccount: testOnly.id })).data).toEqual([]);
    expect((await live.accounts.list()).data.map((a) => a.id)).toEqual([liveOnly.id]);

    // A test key acts as a live-connected account (test transactions), but cannot change or disconnect it.
    expect((await test.accounts.retrieve(liveOnly.id)).id).toBe(liveOnly.id);
    expect((await test.events.list({}, { stripeAccount: liveOnly.id })).object).toBe('list');
    await expect(test.accounts.update(liveOnly.id, { email: 'x@example.com' })).rejects.toMatchObject({
      statusCode: 403,
      code: 'account_invalid',
    });
    await expect(test.accounts.del(liveOnly.id)).rejects.toMatchObject({ statusCode: 403 });
    expect((await test.accounts.list()).data.map((a) => a.id)).toEqual([liveOnly.id, testOnly.id]);

    // Connected in both: a live key disconnecting it leaves it connected in test mode.
    const both = (await h.api('POST', '/v1/accounts', { type: 'express', connect_mode: 'both' }))
      .body as Stripe.Account;
    await live.accounts.del(both.id);
    await expect(live.accounts.retrieve(both.id)).rejects.toMatchObject({ statusCode: 404 });
    expect((await test.accounts.update(both.id, { email: 'still@example.com' })).email).toBe(
      'still@example.com',
    );
    const gone = await live.events.list(
      { type: 'account.application.deauthorized' },
      { stripeAccount: both.id },
    );
    expect(gone.data).toHaveLength(1);
    expect(gone.data[0]!.livemode).toBe(true);
  });
});
