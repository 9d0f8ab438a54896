/**
 * `/v1/accounts/{account}/external_accounts`: a connected account's bank
 * accounts and debit cards, where its payouts go. Each change is an event on
 * the connected account (`account.external_account.created`, `.updated`,
 * `.deleted`); the first one also meets the account's `external_account`
 * requirement (`account.updated`). The account object lists them.
 */

import { type Context, Hono } from 'hono';
import type Stripe from 'stripe';
import { newId } from '../../ids.js';
import {
  accountWithExternalAccount,
  BANK_TOKENS,
  DEBIT_CARD_TOKENS,
  type ExternalAccount,
  newBankAccount,
  newDebitCard,
  TEST_ROUTING_NUMBER,
  withExternalAccountList,
} from '../../objects/externalAccount.js';
import { previousAttributes } from '../../objects/previousAttributes.js';
import { publishAccountUpdate } from '../../services/accountUpdates.js';
import { asJson, objectRecord, ownObject } from '../../services/objects.js';
import { publishEvent } from '../../services/publish.js';
import type { AccountRecord, JsonObject, ObjectRecord } from '../../store/types.js';
import type { ApiEnv, Runtime } from '../context.js';
import { ApiError, invalid, invalidParam } from '../errors.js';
import { listObject, PAGE_PARAMS, pageQuery } from '../pagination.js';
import { applyMetadata, Params } from '../params.js';
import { pathAccount } from './accounts.js';
import { publishDeps, requestEventFields } from './events.js';

const KIND = 'external_account';
export function externalAccountRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  // One kind for both bank accounts and cards; the list filters on which (`object=bank_account`).
  const record = (
    account: AccountRecord,
    livemode: boolean,
    ea: ExternalAccount,
    deleted = false,
  ): ObjectRecord =>
    objectRecord({ accountId: account.id, livemode }, ea, {
      kind: KIND,
      lookupKey: ea.object,
      deleted,
      createdUnix: Math.floor(rt.clock() / 1000),
    });

  async function all(account: AccountRecord, livemode: boolean): Promise<ExternalAccount[]> {
    const page = await rt.store.listObjects({ kind: KIND, accountId: account.id, livemode, limit: 100 });
    return page.data.map((o) => o.object as unknown as ExternalAccount);
  }

  const one = (account: AccountRecord, livemode: boolean, id: string) =>
    ownObject<ExternalAccount>(rt.store, { accountId: account.id, livemode }, KIND, 'external account', id);

  /**
   * Commit an external account change with its event, the account's embedded
   * list brought up to date in the same transaction; `account.updated`
   * follows when the change met a requirement.
   */
  async function commit(
    c: Context<ApiEnv>,
    account: AccountRecord,
    type: string,
    changed: ExternalAccount,
    written: ObjectRecord[],
    listAfter: ExternalAccount[],
    previous: JsonObject | null = null,
    demoted: ExternalAccount[] = [],
  ): Promise<void> {
    const _caller = c.get('caller');
    const before = account.object as unknown as Stripe.Account;
    const met = type === 'account.external_account.created' ? accountWithExternalAccount(before) : before;
    const next = withExternalAccountList(met, listAfter);
    const common = requestEventFields(rt, c, account.id);
    await publishEvent(publishDeps(rt), {
      ...common,
      effect: { objects: written, account: { id: account.id, object: asJson(next) } },
      type,
      object: asJson(changed),
      previousAttributes: previous,
    });
    // The former default of the currency changed too: its own event.
    for (const d of demoted)
      await publishEvent(publishDeps(rt), {
        ...common,
        type: 'account.external_account.updated',
        object: asJson(d),
        previousAttributes: { default_for_currency: true },
      });
    if (met !== before)
      await publishAccountUpdate(publishDeps(rt), common, withExternalAccountList(before, listAfter), next);
  }

  app.post('/', async (c) => {
    const caller = c.get('caller');
    const account = await pathAccount(rt, c);
    const p = new Params(c.get('params'), ['external_account', 'default_for_currency', 'metadata']);
    const raw = p.raw['external_account'];
    if (raw === undefined || raw === '')
      throw invalid('Missing required param: external_account.', 'parameter_missing', 'external_account');
    const existing = await all(account, caller.livemode);
    const metadata = applyMetadata({}, p.metadata());
    let created: ExternalAccount;
    const currencyOf = (currency: string) => existing.filter((e) => e.currency === currency);
    if (typeof raw === 'string') {
      const card = DEBIT_CARD_TOKENS[raw];
      const number = BANK_TOKENS[raw];
      if (card) {
        created = newDebitCard({
          id: newId('card', 24),
          account: account.id,
          ...card,
          currency: 'usd',
          defaultForCurrency: false,
          metadata,
        });
      } else if (number) {
        created = newBankAccount({
          id: newId('ba', 24),
          account: account.id,
          accountNumber: number,
          routingNumber: TEST_ROUTING_NUMBER,
          country: 'US',
          currency: 'usd',
          holderName: null,
          holderType: null,
          defaultForCurrency: false,
          metadata,
        });
      } else throw invalidParam('external_account', `No such token: '${raw}'`, 'resource_missing');
    } else {
      const h = new Params(
        p.object('external_account')!,
        [
          'object',
          'country',
          'currency',
          'account_holder_name',
          'account_holder_type',
          'routing_number',
          'account_number',
        ],
        'external_account',
      );
      if (h.choice('object', ['bank_account'] as const, { required: true }) !== 'bank_account')
        throw invalidParam('external_account[object]', 'Only bank_account is accepted here.');
      const accountNumber = h.string('account_number', { required: true, maxLength: 17 })!;
      if (!/^\d{4,17}$/.test(accountNumber))
        throw invalidParam('external_account[account_number]', 'Invalid account number.');
      created = newBankAccount({
        id: newId('ba', 24),
        account: account.id,
        accountNumber,
        routingNumber: h.string('routing_number', { maxLength: 9 }) ?? TEST_ROUTING_NUMBER,
        country: (h.string('country', { required: true, maxLength: 2 }) ?? 'US').toUpperCase(),
        currency: h.string('currency', { required: true, maxLength: 3 })!.toLowerCase(),
        holderName: h.string('account_holder_name', { maxLength: 5000 }) ?? null,
        holderType: h.choice('account_holder_type', ['individual', 'company'] as const) ?? null,
        defaultForCurrency: false,
        metadata,
      });
    }
    // The first external account of a currency is its default; `default_for_currency` makes a later one so.
    const others = currencyOf(created.currency ?? 'usd');
    const makeDefault = others.length === 0 || p.bool('default_for_currency') === true;
    created = { ...created, default_for_currency: makeDefault } as ExternalAccount;
    const demoted = makeDefault
      ? others
          .filter((e) => e.default_for_currency)
          .map((e) => ({ ...e, default_for_currency: false }) as ExternalAccount)
      : [];
    const listAfter = [created, ...existing.map((e) => demoted.find((d) => d.id === e.id) ?? e)];
    await commit(
      c,
      account,
      'account.external_account.created',
      created,
      [record(account, caller.livemode, created), ...demoted.map((d) => record(account, caller.livemode, d))],
      listAfter,
      null,
      demoted,
    );
    return c.json(created);
  });

  app.get('/', async (c) => {
    const caller = c.get('caller');
    const account = await pathAccount(rt, c);
    const p = new Params(c.get('params'), [...PAGE_PARAMS, 'object']);
    const kind = p.choice('object', ['bank_account', 'card'] as const);
    const page = await rt.store.listObjects({
      ...pageQuery(p),
      kind: KIND,
      accountId: account.id,
      livemode: caller.livemode,
      ...(kind ? { lookupKey: kind } : {}),
    });
    return c.json(listObject(`/v1/accounts/${account.id}/external_accounts`, page, (o) => o.object));
  });

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    const account = await pathAccount(rt, c);
    return c.json(await one(account, c.get('caller').livemode, c.req.param('id')));
  });

  app.post('/:id', async (c) => {
    const caller = c.get('caller');
    const account = await pathAccount(rt, c);
    const p = new Params(c.get('params'), [
      'account_holder_name',
      'account_holder_type',
      'default_for_currency',
      'metadata',
    ]);
    const current = await one(account, caller.livemode, c.req.param('id'));
    let next = {
      ...current,
      metadata: applyMetadata((current.metadata ?? {}) as Record<string, string>, p.metadata()),
    } as ExternalAccount;
    if (next.object === 'bank_account') {
      const name = p.string('account_holder_name', { maxLength: 5000 });
      if (name !== undefined) next = { ...next, account_holder_name: name || null };
      const type = p.choice('account_holder_type', ['individual', 'company'] as const);
      if (type !== undefined) next = { ...next, account_holder_type: type };
    } else if (p.has('account_holder_name') || p.has('account_holder_type'))
      throw invalidParam(
        p.has('account_holder_name') ? 'account_holder_name' : 'account_holder_type',
        'A card has no account holder.',
      );
    const existing = await all(account, caller.livemode);
    let demoted: ExternalAccount[] = [];
    if (p.bool('default_for_currency') === true && !current.default_for_currency) {
      next = { ...next, default_for_currency: true } as ExternalAccount;
      demoted = existing
        .filter((e) => e.id !== current.id && e.currency === current.currency && e.default_for_currency)
        .map((e) => ({ ...e, default_for_currency: false }) as ExternalAccount);
    }
    const previous = previousAttributes(asJson(current), asJson(next));
    if (Object.keys(previous).length === 0) return c.json(current);
    const listAfter = existing.map((e) =>
      e.id === next.id ? next : (demoted.find((d) => d.id === e.id) ?? e),
    );
    await commit(
      c,
      account,
      'account.external_account.updated',
      next,
      [record(account, caller.livemode, next), ...demoted.map((d) => record(account, caller.livemode, d))],
      listAfter,
      previous,
      demoted,
    );
    return c.json(next);
  });

  app.delete('/:id', async (c) => {
    const caller = c.get('caller');
    new Params(c.get('params'), []);
    const account = await pathAccount(rt, c);
    const current = await one(account, caller.livemode, c.req.param('id'));
    const existing = await all(account, caller.livemode);
    if (
      current.default_for_currency &&
      existing.some((e) => e.id !== current.id && e.currency === current.currency)
    )
      throw new ApiError(
        400,
        'invalid_request_error',
        `You cannot delete the default external account for ${current.currency}: make another one the default (default_for_currency) first.`,
      );
    await commit(
      c,
      account,
      'account.external_account.deleted',
      current,
      [record(account, caller.livemode, current, true)],
      existing.filter((e) => e.id !== current.id),
    );
    return c.json({ id: current.id, object: current.object, deleted: true });
  });

  return app;
}
