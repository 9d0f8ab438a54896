import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  type Account,
  type ConnectEvent,
  createWebhookRouter,
  type ExternalAccount,
  type Payout,
  type WebhookContext,
} from '../src/index.js';
import { ACCOUNT, accountUpdated, externalAccountUpdated, live, payoutFailed } from './connectFixtures.js';

const platformEvent = {
  ...payoutFailed,
  id: 'evt_platform',
  account: undefined,
};

describe('createWebhookRouter', () => {
  it('calls the handlers of the event type with the event and its context', async () => {
    const onPayout = vi.fn(async () => 'flagged');
    const onAccount = vi.fn();
    const router = createWebhookRouter({ livemode: 'both' })
      .on('payout.failed', onPayout)
      .on('account.updated', onAccount);
    const result = await router.dispatch(payoutFailed);
    expect(result).toEqual({ handled: true, results: ['flagged'] });
    expect(onAccount).not.toHaveBeenCalled();
    expect(onPayout).toHaveBeenCalledWith(payoutFailed, {
      account: ACCOUNT,
      livemode: false,
      isConnect: true,
    });
  });

  it('gives platform events a null account', async () => {
    let ctx: WebhookContext | undefined;
    const router = createWebhookRouter({ livemode: 'both' }).on('payout.failed', (_e, c) => {
      ctx = c;
    });
    await router.dispatch(platformEvent);
    expect(ctx).toEqual({ account: null, livemode: false, isConnect: false });
  });

  it('types event.data.object by the event type', async () => {
    const router = createWebhookRouter({ livemode: 'both' });
    router.on('payout.failed', (event) => {
      expectTypeOf(event.data.object).toEqualTypeOf<Payout>();
      expectTypeOf(event.type).toEqualTypeOf<'payout.failed'>();
      // @ts-expect-error an account.updated field does not exist on a payout
      return event.data.object.charges_enabled;
    });
    router.on('account.updated', (event) => {
      expectTypeOf(event.data.object).toEqualTypeOf<Account>();
      expectTypeOf(event.data.previous_attributes).toEqualTypeOf<Partial<Account> | undefined>();
      // @ts-expect-error a payout field does not exist on an account
      return event.data.object.failure_code;
    });
    router.on('account.external_account.updated', (event) => {
      expectTypeOf(event.data.object).toEqualTypeOf<ExternalAccount>();
    });
    router.on(['payout.failed', 'account.updated'], (event) => {
      expectTypeOf(event.data.object).toEqualTypeOf<Payout | Account>();
    });
    router.on('customer.created', (event) => {
      expectTypeOf(event.data.object).toEqualTypeOf<Record<string, unknown>>();
      expectTypeOf(event.type).toEqualTypeOf<'customer.created'>();
    });
    router.onAny((event) => {
      expectTypeOf(event).toEqualTypeOf<ConnectEvent>();
    });
    // @ts-expect-error the livemode policy is required
    expect(() => createWebhookRouter({})).toThrow(TypeError);
    await expect(router.dispatch(payoutFailed)).resolves.toMatchObject({ handled: true });
  });

  it('runs several handlers in registration order, onAny included', async () => {
    const calls: string[] = [];
    const router = createWebhookRouter({ livemode: 'both' })
      .onAny(() => calls.push('any'))
      .on(['payout.failed', 'account.updated'], (e) => calls.push(`list:${e.type}`))
      .on('payout.failed', () => calls.push('payout'));
    await router.dispatch(payoutFailed);
    await router.dispatch(accountUpdated);
    expect(calls).toEqual(['any', 'list:payout.failed', 'payout', 'any', 'list:account.updated']);
  });

  it('reports an event no handler matches', async () => {
    const router = createWebhookRouter({ livemode: 'both' }).on('payout.failed', vi.fn());
    await expect(router.dispatch(accountUpdated)).resolves.toEqual({
      handled: false,
      skipped: 'no_handler',
      results: [],
    });
  });

  it('lets an error from a handler propagate and stops there', async () => {
    const after = vi.fn();
    const router = createWebhookRouter({ livemode: 'both' })
      .on('payout.failed', async () => {
        throw new Error('database down');
      })
      .onAny(after);
    await expect(router.dispatch(payoutFailed)).rejects.toThrow('database down');
    expect(after).not.toHaveBeenCalled();
  });

  it('each handler gets its own context', async () => {
    const seen: (string | null)[] = [];
    const router = createWebhookRouter({ livemode: 'both' })
      .onAny((_e, ctx) => {
        seen.push(ctx.account);
        ctx.account = 'acct_tampered';
      })
      .onAny((_e, ctx) => {
        seen.push(ctx.account);
      });
    await router.dispatch(payoutFailed);
    expect(seen).toEqual([ACCOUNT, ACCOUNT]);
  });
});

describe('livemode policy', () => {
  const testEvent = externalAccountUpdated;
  const liveEvent = live(externalAccountUpdated);

  it('live-only acknowledges test events without calling handlers', async () => {
    const handler = vi.fn();
    const router = createWebhookRouter({ livemode: 'live-only' }).on(
      'account.external_account.updated',
      handler,
    );
    await expect(router.dispatch(testEvent)).resolves.toEqual({
      handled: false,
      skipped: 'livemode',
      results: [],
    });
    expect(handler).not.toHaveBeenCalled();
    await expect(router.dispatch(liveEvent)).resolves.toEqual({ handled: true, results: [undefined] });
    expect(handler).toHaveBeenCalledOnce();
    expect(handler.mock.calls[0]?.[1]).toEqual({ account: ACCOUNT, livemode: true, isConnect: true });
  });

  it('test-only is the mirror image', async () => {
    const handler = vi.fn();
    const router = createWebhookRouter({ livemode: 'test-only' }).onAny(handler);
    await expect(router.dispatch(liveEvent)).resolves.toMatchObject({ handled: false, skipped: 'livemode' });
    await expect(router.dispatch(testEvent)).resolves.toMatchObject({ handled: true });
    expect(handler).toHaveBeenCalledOnce();
  });

  it('both runs handlers in either mode', async () => {
    const handler = vi.fn();
    const router = createWebhookRouter({ livemode: 'both' }).onAny(handler);
    await router.dispatch(liveEvent);
    await router.dispatch(testEvent);
    expect(handler).toHaveBeenCalledTimes(2);
  });

  it('a handler can override the router policy', async () => {
    const audit = vi.fn();
    const act = vi.fn();
    const router = createWebhookRouter({ livemode: 'live-only' })
      .onAny(audit, { livemode: 'both' })
      .on('account.external_account.updated', act);
    await expect(router.dispatch(testEvent)).resolves.toEqual({ handled: true, results: [undefined] });
    expect(audit).toHaveBeenCalledOnce();
    expect(act).not.toHaveBeenCalled();
  });

  it('an event without a boolean livemode matches neither live-only nor test-only', async () => {
    const handler = vi.fn();
    const odd = { ...testEvent, livemode: undefined as unknown as boolean };
    for (const livemode of ['live-only', 'test-only'] as const) {
      const router = createWebhookRouter({ livemode }).onAny(handler);
      await expect(router.dispatch(odd)).resolves.toMatchObject({ skipped: 'livemode' });
    }
    expect(handler).not.toHaveBeenCalled();
  });
});

describe('misuse', () => {
  it('is refused when the router is set up', () => {
    // @ts-expect-error not a policy
    expect(() => createWebhookRouter({ livemode: 'live' })).toThrow(/'live-only', 'test-only' or 'both'/);
    const router = createWebhookRouter({ livemode: 'both' });
    // @ts-expect-error not a policy
    expect(() => router.on('payout.failed', vi.fn(), { livemode: 'yes' })).toThrow(TypeError);
    expect(() => router.on('*', vi.fn())).toThrow(/onAny/);
    expect(() => router.on('', vi.fn())).toThrow(TypeError);
    expect(() => router.on([], vi.fn())).toThrow(TypeError);
    // @ts-expect-error not a function
    expect(() => router.on('payout.failed', 'handler')).toThrow(TypeError);
  });

  it('dispatch refuses something that is not an event', async () => {
    const router = createWebhookRouter({ livemode: 'both' });
    // @ts-expect-error not an event
    await expect(router.dispatch({ id: 'evt_1' })).rejects.toThrow(TypeError);
  });
});
