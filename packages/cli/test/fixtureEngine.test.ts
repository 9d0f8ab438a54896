// biome-ignore-all lint/suspicious/noTemplateCurlyInString: fixture references are written ${step:path}.
/** The fixture engine: paths, references and edits (pure), then real runs against an in-process server. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchboard, type Switchboard } from '../../server/src/server.js';
import { makeTestStore, TEST_KEY, type TestStore } from '../../server/test/helpers/switchboard.js';
import { ApiClient } from '../src/client.js';
import {
  applyEdits,
  FixtureError,
  type FixtureFile,
  parseEdit,
  parseFixture,
  parseReference,
  type ReferenceContext,
  resolveReferences,
  runFixture,
  validateFixture,
} from '../src/fixtures/engine.js';
import {
  getPath,
  type JsonObject,
  parseAssignment,
  parseCliValue,
  parsePath,
  removePath,
  setPath,
} from '../src/fixtures/jsonPath.js';

describe('json paths', () => {
  it('parse dotted and bracketed paths alike', () => {
    expect(parsePath('data.object.failure_code')).toEqual(['data', 'object', 'failure_code']);
    expect(parsePath('available[0].amount')).toEqual(['available', '0', 'amount']);
    expect(parsePath('metadata[order_id]')).toEqual(['metadata', 'order_id']);
    expect(() => parsePath('a..b')).toThrow(/Invalid path/);
    expect(() => parsePath('')).toThrow(/Invalid path/);
  });

  it('get, set and remove through objects and arrays', () => {
    const doc: JsonObject = { data: { object: { available: [{ amount: 1 }, { amount: 2 }] } } };
    expect(getPath(doc, ['data', 'object', 'available', '1', 'amount'])).toBe(2);
    expect(getPath(doc, ['data', 'missing', 'x'])).toBeUndefined();
    expect(getPath(doc, ['data', 'object', 'available', '5'])).toBeUndefined();
    setPath(doc, ['data', 'object', 'metadata', 'order'], '6735');
    expect(getPath(doc, ['data', 'object', 'metadata'])).toEqual({ order: '6735' });
    setPath(doc, ['data', 'object', 'available', '2'], { amount: 3 });
    expect(getPath(doc, ['data', 'object', 'available', '2', 'amount'])).toBe(3);
    expect(() => setPath(doc, ['data', 'object', 'available', 'x'], 1)).toThrow(/not an index/);
    expect(removePath(doc, ['data', 'object', 'available', '0'])).toBe(true);
    expect(getPath(doc, ['data', 'object', 'available', '0', 'amount'])).toBe(2);
    expect(removePath(doc, ['data', 'nope'])).toBe(false);
  });

  it('parse command-line values as JSON when they parse, else as text', () => {
    expect(parseCliValue('42')).toBe(42);
    expect(parseCliValue('true')).toBe(true);
    expect(parseCliValue('null')).toBeNull();
    expect(parseCliValue('"42"')).toBe('42');
    expect(parseCliValue('[]')).toEqual([]);
    expect(parseCliValue('no_account')).toBe('no_account');
    expect(parseAssignment('requirements.currently_due=["x"]')).toEqual({
      path: ['requirements', 'currently_due'],
      value: ['x'],
    });
    expect(() => parseAssignment('novalue')).toThrow(/path=value/);
  });
});

describe('references', () => {
  const ctx = (over: Partial<ReferenceContext> = {}): ReferenceContext => ({
    responses: new Map([['pi', { id: 'evt_1', data: { object: { id: 'pi_1', amount: 2000, paid: true } } }]]),
    account: 'acct_1',
    livemode: false,
    env: { SHOP: 'rosen' },
    now: () => 1_764_324_000,
    newId: (p) => `${p}_new`,
    ...over,
  });

  it('parse step references and built-ins', () => {
    expect(parseReference('acct:id')).toEqual({ kind: 'step', step: 'acct', path: ['id'] });
    expect(parseReference('.env:HOME|/tmp')).toEqual({ kind: 'env', name: 'HOME', fallback: '/tmp' });
    expect(parseReference('.account')).toEqual({ kind: 'account' });
    expect(parseReference('.id:po')).toEqual({ kind: 'id', prefix: 'po' });
    expect(() => parseReference('.nope')).toThrow(/unknown reference/);
    expect(() => parseReference('acct')).toThrow(/invalid reference/);
  });

  it('keep the JSON type of a whole-string reference and substitute text inside strings', () => {
    const out = resolveReferences(
      {
        amount: '${pi:data.object.amount}',
        paid: '${pi:data.object.paid}',
        object: '${pi:data.object}',
        path: '/v1/payment_intents/${pi:data.object.id}/capture',
        note: 'amount ${pi:data.object.amount} for ${.env:SHOP}',
        account: '${.account}',
        livemode: '${.livemode}',
        created: '${.now}',
        id: '${.id:po}',
        list: ['${pi:id}'],
      },
      ctx(),
    );
    expect(out).toEqual({
      amount: 2000,
      paid: true,
      object: { id: 'pi_1', amount: 2000, paid: true },
      path: '/v1/payment_intents/pi_1/capture',
      note: 'amount 2000 for rosen',
      account: 'acct_1',
      livemode: false,
      created: 1_764_324_000,
      id: 'po_new',
      list: ['evt_1'],
    });
  });

  it('use a fallback when the value is missing, and otherwise say what is missing', () => {
    expect(resolveReferences('${.env:UNSET|dflt}', ctx())).toBe('dflt');
    expect(() => resolveReferences('${pi:data.object.nope}', ctx())).toThrow(
      "${pi:data.object.nope}: the response of step 'pi' has no data.object.nope",
    );
    expect(() => resolveReferences('${.env:UNSET}', ctx())).toThrow(/UNSET is not set/);
    expect(() => resolveReferences('${.account}', ctx({ account: undefined }))).toThrow(/--stripe-account/);
  });
});

const PAYOUT: FixtureFile = {
  _meta: { template_version: 0, requires_account: true },
  fixtures: [
    {
      name: 'payout',
      path: '/v1/events',
      method: 'post',
      stripe_account: '${.account}',
      params: {
        type: 'payout.failed',
        data: { object: { id: '${.id:po}', object: 'payout', failure_code: 'account_closed', amount: 100 } },
      },
    },
  ],
};

describe('edits', () => {
  it('override, add and remove parameters without touching the original', () => {
    const edited = applyEdits(PAYOUT, [
      parseEdit('override', 'payout:data.object.failure_code=no_account'),
      parseEdit('override', 'payout:data.object.amount=2500'),
      parseEdit('add', 'payout:data.object.metadata.order=6735'),
      parseEdit('add', 'payout:data.previous_attributes={"status":"in_transit"}'),
      parseEdit('remove', 'payout:data.object.id'),
    ]);
    expect(edited.fixtures[0]!.params).toEqual({
      type: 'payout.failed',
      data: {
        object: { object: 'payout', failure_code: 'no_account', amount: 2500, metadata: { order: 6735 } },
        previous_attributes: { status: 'in_transit' },
      },
    });
    expect((PAYOUT.fixtures[0]!.params as any).data.object.failure_code).toBe('account_closed');
  });

  it('read as the Stripe CLI reads them: --override adds what is missing, --add never replaces', () => {
    const edited = applyEdits(PAYOUT, [
      parseEdit('override', 'payout:data.object.description=Weekly'),
      parseEdit('add', 'payout:data.object.failure_code=ignored'),
    ]);
    expect((edited.fixtures[0]!.params as any).data.object).toMatchObject({
      description: 'Weekly',
      failure_code: 'account_closed',
    });
  });

  it('name the unknown step or path in one line', () => {
    expect(() => applyEdits(PAYOUT, [parseEdit('override', 'payot:data.object.amount=1')])).toThrow(
      "--override payot:data.object.amount=1: no fixture step named 'payot' (steps: payout)",
    );
    expect(() => applyEdits(PAYOUT, [parseEdit('remove', 'payout:data.nope')])).toThrow(
      "--remove payout:data.nope: step 'payout' has no parameter data.nope",
    );
    expect(() => parseEdit('override', 'payout')).toThrow(/expected step:path=value/);
    expect(() => parseEdit('add', 'payout:novalue')).toThrow(/expected step:path=value/);
    expect(() => parseEdit('override', 'x')).toThrow(FixtureError);
  });
});

describe('validation', () => {
  const base = (steps: unknown[]) => JSON.stringify({ _meta: { template_version: 0 }, fixtures: steps });
  const step = { name: 'a', path: '/v1/accounts', method: 'post' };

  it("accepts the Stripe CLI's format: its meta, env, and step keys", () => {
    const file = parseFixture(
      JSON.stringify({
        _meta: { template_version: 0, exclude_metadata: false, aliases: ['x'] },
        env: { CUSTOMER: '${customer:id}' },
        fixtures: [
          {
            name: 'customer',
            path: '/v1/customers',
            method: 'post',
            params: { email: 'jenny@example.com', description: '${time-now-RFC3339}' },
            idempotency_key: '${generate-uuid}',
            headers: { 'X-Test': 'yes' },
            context: 'ctx',
            api_base: 'https://api.stripe.com',
          },
          { name: 'declined', path: '/v1/charges', method: 'post', expected_error_type: 'card_error' },
        ],
      }),
      'stripe.json',
    );
    expect(file.fixtures[0]).toMatchObject({
      idempotency_key: '${generate-uuid}',
      headers: { 'X-Test': 'yes' },
    });
    expect(file.fixtures[1]!.expected_error_type).toBe('card_error');
    expect(() => parseFixture(base([{ ...step, headers: { a: 1 } }]), 'f')).toThrow(
      /"headers" must be an object of strings/,
    );
  });

  it("resolves the Stripe CLI's built-ins", () => {
    const ctx = {
      responses: new Map(),
      livemode: false,
      env: {},
      now: () => 1_764_324_000,
      newId: (p: string) => `${p}_1`,
    };
    expect(resolveReferences('${time-now-RFC3339}', ctx)).toBe('2025-11-28T10:00:00Z');
    expect(resolveReferences('${generate-uuid}', ctx)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('accepts a minimal fixture and lower-cases the method', () => {
    expect(parseFixture(base([{ ...step, method: 'POST' }]), 'f.json').fixtures[0]!.method).toBe('post');
  });

  it.each([
    ['not json', '{', /f\.json: not valid JSON/],
    ['no steps', base([]), /"fixtures" must be a non-empty array/],
    ['bad method', base([{ ...step, method: 'put' }]), /"method" must be get, post or delete/],
    ['unknown key', base([{ ...step, parms: {} }]), /step 'a': unknown key "parms"/],
    ['duplicate name', base([step, step]), /another step already has this name/],
    [
      'a reference to a later step',
      base([
        { ...step, params: { x: '${b:id}' } },
        { ...step, name: 'b' },
      ]),
      /step 'a' refers to \$\{b:id\}, but no earlier step is named 'b'/,
    ],
    [
      'a bad built-in',
      base([{ ...step, path: '/v1/accounts/${.acount}' }]),
      /unknown reference \$\{\.acount\}/,
    ],
    ['template_version', JSON.stringify({ _meta: {}, fixtures: [step] }), /template_version" must be 0/],
  ])('rejects %s in one line', (_name, text, message) => {
    expect(() => parseFixture(text, 'f.json')).toThrow(message);
    try {
      parseFixture(text, 'f.json');
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('validates already-parsed values too', () => {
    expect(() => validateFixture([], 'x')).toThrow(/JSON object/);
  });
});

describe('running against a server', () => {
  let ts: TestStore;
  let sb: Switchboard;
  let client: ApiClient;

  beforeAll(async () => {
    ts = await makeTestStore('sqlite');
    sb = await createSwitchboard({ store: ts.store, testKey: TEST_KEY, deliver: false });
    const { url } = await sb.listen(0);
    client = new ApiClient({ apiBase: url, apiKey: TEST_KEY });
  });
  afterAll(async () => {
    await sb?.close();
    await ts?.cleanup(false);
  });

  it('runs steps in order, each using earlier responses, and reports the events', async () => {
    const file = parseFixture(
      JSON.stringify({
        _meta: { template_version: 0 },
        fixtures: [
          {
            name: 'acct',
            path: '/v1/accounts',
            method: 'post',
            params: { type: 'express', email: 'a@example.com' },
          },
          {
            name: 'onboard',
            path: '/v1/accounts/${acct:id}',
            method: 'post',
            params: { charges_enabled: true, metadata: { from: '${acct:email}' } },
          },
          {
            name: 'po',
            path: '/v1/events',
            method: 'post',
            stripe_account: '${acct:id}',
            params: {
              type: 'payout.failed',
              data: {
                object: {
                  id: '${.id:po}',
                  object: 'payout',
                  amount: '${onboard:created}',
                  acct: '${acct:id}',
                },
              },
            },
          },
          { name: 'again', path: '/v1/events/${po:id}', method: 'get', stripe_account: '${acct:id}' },
        ],
      }),
      'custom.json',
    );
    const progress: string[] = [];
    const run = await runFixture(file, {
      client,
      onProgress: (p) => progress.push(`${p.kind}:${'step' in p ? p.step : ''}`),
    });
    const acct = (run.responses['acct'] as JsonObject)['id'] as string;
    expect(run.createdAccount).toBe(false);
    expect(progress).toEqual([
      'setup:acct',
      'run:acct',
      'setup:onboard',
      'run:onboard',
      'setup:po',
      'run:po',
      'setup:again',
      'run:again',
    ]);
    expect(run.events.map((e) => [e.type, e.account])).toEqual([
      ['account.updated', acct],
      ['payout.failed', acct],
    ]);
    // The GET read the event back; it created nothing.
    expect((run.responses['again'] as any).id).toBe(run.events[1]!.id);
    const po = run.responses['po'] as any;
    expect(po.data.object.amount).toBe((run.responses['onboard'] as any).created);
    expect(po.data.object.acct).toBe(acct);
    expect(po.data.object.id).toMatch(/^po_[A-Za-z0-9]{24}$/);
    expect((run.responses['onboard'] as any).metadata).toEqual({ from: 'a@example.com' });
  });

  it('creates an account for a requires_account fixture, or uses the one given', async () => {
    const made = await runFixture(PAYOUT, { client });
    expect(made.createdAccount).toBe(true);
    expect(made.account).toMatch(/^acct_/);
    expect(made.events).toEqual([
      { id: expect.stringMatching(/^evt_/), type: 'payout.failed', account: made.account },
    ]);

    const given = await runFixture(PAYOUT, { client, account: made.account! });
    expect(given.createdAccount).toBe(false);
    expect(given.events[0]!.account).toBe(made.account);
  });

  it('finds the deauthorization event of a DELETE', async () => {
    const run = await runFixture(
      validateFixture(
        {
          _meta: { template_version: 0 },
          fixtures: [
            { name: 'a', path: '/v1/accounts', method: 'post', params: { type: 'express' } },
            { name: 'd', path: '/v1/accounts/${a:id}', method: 'delete' },
          ],
        },
        'deauth',
      ),
      { client },
    );
    expect(run.events.map((e) => e.type)).toEqual(['account.application.deauthorized']);
  });

  it('runs as the platform by default, with idempotency keys, headers, --skip, --api-version and expected errors', async () => {
    const file = parseFixture(
      JSON.stringify({
        _meta: { template_version: 0 },
        fixtures: [
          {
            name: 'first',
            path: '/v1/events',
            method: 'post',
            idempotency_key: 'fixed-${.env:RUN}',
            params: { type: 'customer.created', data: { object: { id: 'cus_1', object: 'customer' } } },
          },
          {
            name: 'replayed',
            path: '/v1/events',
            method: 'post',
            idempotency_key: 'fixed-${.env:RUN}',
            params: { type: 'customer.created', data: { object: { id: 'cus_1', object: 'customer' } } },
          },
          { name: 'skipped', path: '/v1/nothing_here', method: 'get' },
          {
            name: 'refused',
            path: '/v1/webhook_endpoints',
            method: 'post',
            params: { url: 'https://example.com/h', enabled_events: ['account.udpated'] },
            expected_error_type: 'invalid_request_error',
          },
          {
            name: 'versioned',
            path: '/v1/events/${first:id}',
            method: 'get',
            headers: { 'Stripe-Version': 'garbage' },
            expected_error_type: 'invalid_request_error',
          },
        ],
      }),
      'f',
    );
    const run = await runFixture(file, {
      client,
      env: { RUN: '1' },
      skip: ['skipped'],
      apiVersion: '2024-06-20',
    });
    // On the platform's own account: no account made, the event has none.
    expect(run.account).toBeNull();
    expect(run.events[0]).toMatchObject({ type: 'customer.created', account: null });
    expect((run.responses['replayed'] as { id: string }).id).toBe(
      (run.responses['first'] as { id: string }).id,
    );
    expect(run.responses['skipped']).toBeUndefined();
    expect(run.responses['refused']).toMatchObject({ error: { param: 'enabled_events[0]' } });
    // The step's own header wins over --api-version.
    expect(run.responses['versioned']).toMatchObject({ error: { param: 'Stripe-Version' } });
    await expect(runFixture(file, { client, env: { RUN: '2' }, skip: ['nope'] })).rejects.toThrow(
      /^--skip nope: no fixture step named 'nope'/,
    );
    const unexpected = parseFixture(
      JSON.stringify({
        _meta: { template_version: 0 },
        fixtures: [{ name: 'ok', path: '/v1/events', method: 'get', expected_error_type: 'card_error' }],
      }),
      'f',
    );
    await expect(runFixture(unexpected, { client })).rejects.toThrow(
      /was expected to fail with card_error, and succeeded/,
    );
  });

  it("fails with the step and the API's message on one line", async () => {
    const bad = new ApiClient({ apiBase: client.apiBase, apiKey: 'sk_test_wrongwrongwrong1234' });
    await expect(runFixture(PAYOUT, { client: bad })).rejects.toThrow(
      /^looking for the connected account earlier triggers used failed: Invalid API Key provided: sk_test_\*+1234$/,
    );
    await expect(runFixture(PAYOUT, { client, account: 'acct_doesnotexist' })).rejects.toThrow(
      /^fixture step 'payout' \(POST \/v1\/events\) failed: The provided key .* does not have access to account 'acct_doesnotexist'/,
    );
    const noAccount: FixtureFile = { ...PAYOUT, _meta: { template_version: 0 } };
    await expect(runFixture(noAccount, { client })).rejects.toThrow(
      /^fixture step 'payout': \$\{\.account\}: no connected account: pass --stripe-account/,
    );
  });
});
