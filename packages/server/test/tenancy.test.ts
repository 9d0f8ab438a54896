/**
 * A connected account sees and changes only itself, and deauthorization is
 * final for every route, `POST /v1/events/{id}/retry` included.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from './helpers/receiver.js';
import { ENGINES, type Harness, startHarness } from './helpers/switchboard.js';

describe.each(ENGINES)('tenancy (%s)', (engine) => {
  let h: Harness;
  let rx: Receiver;
  let a: string;
  let b: string;
  beforeEach(async () => {
    h = await startHarness(engine);
    rx = await startReceiver();
    a = (await h.stripe().accounts.create({ type: 'express' })).id;
    b = (await h.stripe().accounts.create({ type: 'express' })).id;
  });
  afterEach(async (ctx) => {
    await rx.close();
    await h.close(ctx.task.result?.state === 'fail');
  });

  const asA = () => ({ 'stripe-account': a });

  it('with Stripe-Account: A, account B can be neither listed, read nor changed', async () => {
    expect((await h.api('GET', '/v1/accounts', undefined, asA())).body.data).toEqual([]);
    expect((await h.api('GET', `/v1/accounts/${b}`, undefined, asA())).status).toBe(404);
    const update = await h.api('POST', `/v1/accounts/${b}`, { email: 'x@example.com' }, asA());
    expect(update.status).toBe(404);
    expect((await h.api('DELETE', `/v1/accounts/${b}`, undefined, asA())).status).toBe(404);
    expect((await h.api('POST', '/v1/accounts', { type: 'express' }, asA())).status).toBe(403);
    // Itself it may read and change.
    expect((await h.api('GET', `/v1/accounts/${a}`, undefined, asA())).body.id).toBe(a);
    expect((await h.api('POST', `/v1/accounts/${a}`, { email: 'a@example.com' }, asA())).body.email).toBe(
      'a@example.com',
    );
    // B is untouched.
    expect((await h.stripe().accounts.retrieve(b)).email).toBeNull();
  });

  it("retry with account=B from A is refused, and B's event is not resent", async () => {
    const ev = await h.api(
      'POST',
      '/v1/events',
      { type: 'customer.created', data: { object: { id: 'cus_b' } } },
      { 'stripe-account': b },
    );
    const retry = await h.api('POST', `/v1/events/${ev.body.id}/retry`, { account: b }, asA());
    expect(retry.status).toBe(404);
    expect(retry.body.error.param).toBe('account');
    expect(rx.requests).toHaveLength(0);
  });

  it('after deauthorization, retry with account= is refused too', async () => {
    const ep = await h
      .stripe()
      .webhookEndpoints.create({ url: `${rx.url}/connect`, enabled_events: ['*'], connect: true });
    const ev = await h.api(
      'POST',
      '/v1/events',
      { type: 'customer.created', data: { object: { id: 'cus_a' } } },
      asA(),
    );
    while ((await h.sb.engine.runOnce()) > 0) {}
    expect(rx.requests).toHaveLength(1);
    await h.stripe().accounts.del(a);
    while ((await h.sb.engine.runOnce()) > 0) {}
    const before = rx.requests.length;
    const viaParam = await h.api('POST', `/v1/events/${ev.body.id}/retry`, {
      account: a,
      webhook_endpoint: ep.id,
    });
    expect(viaParam.status).toBe(403);
    expect(viaParam.body.error).toMatchObject({ code: 'account_invalid', param: 'account' });
    const viaHeader = await h.api(
      'POST',
      `/v1/events/${ev.body.id}/retry`,
      { webhook_endpoint: ep.id },
      asA(),
    );
    expect(viaHeader.status).toBe(403);
    expect(rx.requests).toHaveLength(before);
    // Reading its past stays open.
    expect((await h.api('GET', `/v1/events/${ev.body.id}`, undefined, asA())).status).toBe(200);
  });
});
