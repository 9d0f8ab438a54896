// biome-ignore-all lint/suspicious/noTemplateCurlyInString: fixture references are written ${step:path}.
/**
 * The built `switchboard` command against a real server: `trigger` for every
 * shipped fixture (each event arrives, signed, at a Connect endpoint on
 * 127.0.0.1 with the right type and account), edits, a custom fixture file,
 * one-line errors, and the resource commands. One server for the file.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchboard, type Switchboard } from '../../server/src/server.js';
import { type Receiver, startReceiver } from '../../server/test/helpers/receiver.js';
import { makeTestStore, TEST_KEY, type TestStore } from '../../server/test/helpers/switchboard.js';
import { listFixtureEvents } from '../src/fixtures/catalog.js';
import { spawnCli, until } from './helpers/spawn.js';

let ts: TestStore;
let sb: Switchboard;
let url: string;
let rx: Receiver;
let secret: string;
let ownSecret: string;
let dir: string;
const stripe = new Stripe('sk_test_unused', { telemetry: false });

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const p = spawnCli(args, { SWITCHBOARD_API_BASE: url, SWITCHBOARD_API_KEY: TEST_KEY, ...env });
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** `  evt_…  type  account acct_…` lines of a trigger's output. */
function createdEvents(stdout: string): { id: string; type: string; account: string | null }[] {
  return [...stdout.matchAll(/^ {2}(evt_\w+) {2}(\S+)(?: {2}account (acct_\w+))?$/gm)].map((m) => ({
    id: m[1]!,
    type: m[2]!,
    account: m[3] ?? null,
  }));
}

/** The delivered event with this id, once it has arrived (verified with the official SDK). */
async function delivered(id: string): Promise<Stripe.Event & { account?: string }> {
  const find = () => rx.requests.find((r) => (JSON.parse(r.body.toString()) as { id: string }).id === id);
  await until(() => find() !== undefined, 10_000);
  const req = find()!;
  // The platform's own events reach its account endpoint, a connected account's its Connect endpoint.
  const key = req.path === '/own' ? ownSecret : secret;
  return stripe.webhooks.constructEvent(req.body, String(req.headers['stripe-signature']), key);
}

/** A direct API call, for checking state without another process. */
async function api(method: string, path: string, account?: string): Promise<any> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TEST_KEY}`, ...(account ? { 'stripe-account': account } : {}) },
  });
  return res.json();
}

function expectOneErrorLine(r: Result, message: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
}

beforeAll(async () => {
  ts = await makeTestStore('sqlite');
  sb = await createSwitchboard({
    store: ts.store,
    testKey: TEST_KEY,
    allowPrivateTargets: true,
    deliveryTimeoutMs: 2000,
  });
  url = (await sb.listen(0)).url;
  rx = await startReceiver();
  const res = await fetch(`${url}/v1/webhook_endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${rx.url}/connect`, enabled_events: ['*'], connect: true }),
  });
  secret = ((await res.json()) as { secret: string }).secret;
  const own = await fetch(`${url}/v1/webhook_endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${rx.url}/own`, enabled_events: ['*'] }),
  });
  ownSecret = ((await own.json()) as { secret: string }).secret;
  dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
});

afterAll(async () => {
  await rx?.close();
  await sb?.close();
  await ts?.cleanup(false);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Every test makes its own accounts and endpoints, so they run side by side: the CLI's start-up dominates.
describe.concurrent('switchboard trigger', () => {
  it('--list prints the events with a fixture, one per line', async () => {
    const r = await cli(['trigger', '--list']);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual(listFixtureEvents());
    expect(r.stdout).toContain('payout.failed\n');
  });

  /** Events only a connected account has: the trigger makes (or reuses) one. */
  const CONNECTED_ONLY = [
    'account.application.deauthorized',
    'account.external_account.updated',
    'account.updated',
    'capability.updated',
    'payout.failed',
    'payout.paid',
    'person.updated',
  ];

  it.each(listFixtureEvents())('%s happens where the Stripe CLI makes it happen', async (type) => {
    const r = await cli(['trigger', type]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Setting up fixture for: ');
    expect(r.stdout).toContain('Running fixture for: ');
    expect(r.stdout).toContain(
      'Trigger succeeded! Check the listen output or the delivery log for the event.',
    );
    const events = createdEvents(r.stdout);
    expect(events.map((e) => e.type)).toContain(type);
    const account = events[0]!.account;
    if (CONNECTED_ONLY.includes(type)) expect(account).toMatch(/^acct_/);
    else {
      // On the platform's own account: no account made, the events reach its account endpoint.
      expect(account).toBeNull();
      expect(r.stdout).not.toMatch(/connected account/);
    }
    for (const e of events) {
      const event = await delivered(e.id);
      expect(event.type).toBe(e.type);
      expect(event.account).toBe(account ?? undefined);
      expect(event.livemode).toBe(false);
      // Every reference was resolved before publishing.
      expect(JSON.stringify(event)).not.toContain('${');
    }
  });

  it.each(listFixtureEvents().filter((t) => !CONNECTED_ONLY.includes(t)))(
    '%s with --stripe-account happens on that account and reaches the Connect endpoint',
    async (type) => {
      const acct = await cli(['accounts', 'create', '--format', 'json']);
      const account = (JSON.parse(acct.stdout) as { id: string }).id;
      const r = await cli(['trigger', type, '--stripe-account', account]);
      expect(r.code, r.stderr).toBe(0);
      for (const e of createdEvents(r.stdout)) {
        expect(e.account).toBe(account);
        expect((await delivered(e.id)).account).toBe(account);
      }
    },
  );

  it('applies --override, --add and --remove, as the given --stripe-account', async () => {
    const acct = await cli(['accounts', 'create', '--email', 'seller@example.com', '--format', 'json']);
    expect(acct.code, acct.stderr).toBe(0);
    const account = (JSON.parse(acct.stdout) as { id: string }).id;
    const r = await cli([
      'trigger',
      'payment_intent.succeeded',
      '--stripe-account',
      account,
      '--override',
      'payment_intent:amount=777',
      '--add',
      'payment_intent:metadata.order_id=ord_6735',
      '--remove',
      'payment_intent:description',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('Created connected account');
    const succeeded = createdEvents(r.stdout).find((e) => e.type === 'payment_intent.succeeded')!;
    const event = await delivered(succeeded.id);
    expect(event.account).toBe(account);
    const object = event.data.object as Stripe.PaymentIntent;
    expect(object.amount).toBe(777);
    expect(object.metadata).toEqual({ order_id: 'ord_6735' });
    expect(object.description).toBeNull();
    expect(object.status).toBe('succeeded');
  });

  it('publishes --raw JSON as given', async () => {
    const r = await cli([
      'trigger',
      '--raw',
      JSON.stringify({ type: 'invoice.paid', data: { object: { id: 'in_1', object: 'invoice' } } }),
      '--format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const created = JSON.parse(r.stdout) as { id: string; type: string; account: string | null };
    expect(created).toMatchObject({ type: 'invoice.paid', account: null });
  });

  it('an unknown event, an unknown fixture path and a bad API key each give one line and a non-zero exit', async () => {
    const [unknown, badPath, badStep, badKey] = await Promise.all([
      cli(['trigger', 'payout.exploded']),
      cli(['trigger', 'payout.failed', '--remove', 'payout:data.object.nope']),
      cli(['trigger', 'payout.failed', '--remove', 'payot:data']),
      cli(['trigger', 'payout.failed', '--api-key', 'sk_test_notTheRightKey9999']),
    ]);
    expectOneErrorLine(
      unknown,
      /^switchboard: No fixture for event 'payout\.exploded': `switchboard trigger --list`/,
    );
    expectOneErrorLine(
      badPath,
      /^switchboard: --remove payout:data\.object\.nope: step 'payout' has no parameter data\.object\.nope/,
    );
    expectOneErrorLine(badStep, /^switchboard: --remove payot:data: no fixture step named 'payot'/);
    expectOneErrorLine(badKey, /Invalid API Key provided: sk_test_\*+9999$/);
  });
});

describe.concurrent('switchboard fixtures <file>', () => {
  it("runs a fixture file written in the Stripe CLI's format", async () => {
    const file = join(dir, 'stripe-format.json');
    writeFileSync(
      file,
      JSON.stringify({
        _meta: { template_version: 0, exclude_metadata: false },
        fixtures: [
          {
            name: 'seller',
            path: '/v1/accounts',
            method: 'post',
            idempotency_key: '${generate-uuid}',
            params: {
              controller: {
                stripe_dashboard: { type: 'express' },
                fees: { payer: 'application' },
                losses: { payments: 'application' },
              },
              email: 'seller@example.com',
            },
          },
          {
            name: 'onboarded',
            path: '/v1/accounts/${seller:id}',
            method: 'post',
            headers: { 'X-Fixture': 'yes' },
            params: {
              business_profile: { url: 'https://seller.example.com' },
              metadata: { at: '${time-now-RFC3339}' },
            },
          },
          {
            name: 'typo',
            path: '/v1/webhook_endpoints',
            method: 'post',
            params: { url: 'https://example.com/h', enabled_events: ['account.udpated'] },
            expected_error_type: 'invalid_request_error',
          },
        ],
        env: { SELLER: '${seller:id}' },
      }),
    );
    const r = await cli(['fixtures', file]);
    expect(r.code, r.stderr).toBe(0);
    const [updated] = createdEvents(r.stdout);
    expect(updated!.type).toBe('account.updated');
    const event = await delivered(updated!.id);
    expect(event.account).toBe(updated!.account);
    expect((event.data.object as Stripe.Account).type).toBe('express');
    expect((event.data.object as Stripe.Account).metadata!['at']).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
  });

  it('runs a custom fixture with references to earlier steps and the environment', async () => {
    const file = join(dir, 'onboarding.json');
    writeFileSync(
      file,
      JSON.stringify({
        _meta: { template_version: 0, description: 'onboard then a first customer' },
        fixtures: [
          { name: 'acct', path: '/v1/accounts', method: 'post', params: { type: 'custom', country: 'DE' } },
          {
            name: 'onboard',
            path: '/v1/accounts/${acct:id}',
            method: 'post',
            params: { charges_enabled: true, details_submitted: true },
          },
          {
            name: 'customer',
            path: '/v1/events',
            method: 'post',
            stripe_account: '${acct:id}',
            params: {
              type: 'customer.created',
              data: {
                object: {
                  id: '${.id:cus}',
                  object: 'customer',
                  description: 'First customer of ${.env:SHOP_NAME}',
                  created: '${onboard:created}',
                },
              },
            },
          },
        ],
      }),
    );
    const r = await cli(['fixtures', file], { SHOP_NAME: 'Rosen Ceramics' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Fixture succeeded!');
    const events = createdEvents(r.stdout);
    expect(events.map((e) => e.type)).toEqual(['account.updated', 'customer.created']);
    const updated = await delivered(events[0]!.id);
    expect(updated.data.previous_attributes).toMatchObject({
      charges_enabled: false,
      details_submitted: false,
    });
    const customer = await delivered(events[1]!.id);
    expect(customer.account).toBe(events[0]!.account);
    expect(customer.data.object).toMatchObject({
      description: 'First customer of Rosen Ceramics',
      created: (updated.data.object as Stripe.Account).created,
    });
  });

  it('reports a broken file in one line', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(
      file,
      JSON.stringify({ _meta: { template_version: 0 }, fixtures: [{ name: 'a', path: 'v1' }] }),
    );
    const [broken, missing] = await Promise.all([
      cli(['fixtures', file]),
      cli(['fixtures', join(dir, 'missing.json')]),
    ]);
    expectOneErrorLine(broken, /broken\.json: step 'a': "path" must start with \//);
    expectOneErrorLine(missing, /Cannot read .*missing\.json: ENOENT/);
  });
});

describe.concurrent('resource commands', () => {
  it('events list --format json, deliveries evt_… and events resend', async () => {
    const made = await cli(['accounts', 'create', '--format', 'json']);
    const account = (JSON.parse(made.stdout) as { id: string }).id;
    const t = await cli(['trigger', 'balance.available', '--stripe-account', account]);
    expect(t.code, t.stderr).toBe(0);
    // The payment's events, then balance.available: the one this test follows.
    const created = createdEvents(t.stdout).find((e) => e.type === 'balance.available');
    expect(created!.account).toBe(account);
    await delivered(created!.id);

    // The attempt is recorded right after the receiver answers; wait for that state, then ask the CLI.
    await until(
      async () => (await api('GET', `/v1/events/${created!.id}/delivery_attempts`, account)).data.length > 0,
    );
    const [list, table, deliveries] = await Promise.all([
      cli(['events', 'list', '--stripe-account', account, '--format', 'json']),
      cli(['events', 'list', '--stripe-account', account, '--type', 'balance.*']),
      cli(['deliveries', created!.id, '--stripe-account', account]),
    ]);
    expect(list.code, list.stderr).toBe(0);
    const body = JSON.parse(list.stdout) as {
      object: string;
      data: { id: string; type: string; account: string }[];
    };
    expect(body.object).toBe('list');
    expect(body.data.map((e) => e.id)).toContain(created!.id);
    expect(body.data.every((e) => e.account === account)).toBe(true);

    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+TYPE\s+CREATED\s+PENDING$/);
    expect(table.stdout).toContain(created!.id);

    const [header, row] = deliveries.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^TIME\s+ENDPOINT\s+STATUS\s+DURATION\s+KIND\s+ERROR$/);
    expect(row).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+we_\w+\s+200\s+\d+ ms\s+auto\s+-$/);

    const before = rx.requests.length;
    const resend = await cli(['events', 'resend', created!.id, '--stripe-account', account]);
    expect(resend.code, resend.stderr).toBe(0);
    expect(resend.stdout).toContain(`Resent ${created!.id} (balance.available)`);
    await until(() =>
      rx.requests.slice(before).some((r) => JSON.parse(r.body.toString()).id === created!.id),
    );
  });

  it('webhook-endpoints create, list, update, roll-secret and delete', async () => {
    const create = await cli([
      'webhook-endpoints',
      'create',
      '--url',
      `${rx.url}/own`,
      '--events',
      'customer.created, payout.paid',
      '--description',
      'shop',
      '--format',
      'json',
    ]);
    expect(create.code, create.stderr).toBe(0);
    const ep = JSON.parse(create.stdout) as {
      id: string;
      secret: string;
      enabled_events: string[];
      application: null;
    };
    expect(ep.secret).toMatch(/^whsec_/);
    expect(ep.enabled_events).toEqual(['customer.created', 'payout.paid']);
    expect(ep.application).toBeNull();

    const list = await cli(['webhook-endpoints', 'list', '--limit', '100']);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+URL\s+SCOPE\s+STATUS\s+EVENTS$/);
    expect(list.stdout).toMatch(
      new RegExp(`${ep.id}\\s+${rx.url}/own\\s+account\\s+enabled\\s+customer.created,payout.paid`),
    );
    expect(list.stdout).toMatch(/we_\w+\s+\S+\/connect\s+connect\s+enabled\s+\*/);

    const update = await cli(['webhook-endpoints', 'update', ep.id, '--disabled', 'true']);
    expect(update.stdout).toMatch(/Status:\s+disabled \(manual\)/);

    const roll = await cli(['webhook-endpoints', 'roll-secret', ep.id, '--expires-in', '0']);
    expect(roll.stdout).toMatch(/New signing secret for we_\w+: whsec_\w+/);
    expect(roll.stdout).not.toContain(ep.secret);

    const del = await cli(['webhook-endpoints', 'delete', ep.id]);
    expect(del.stdout.trim()).toBe(`Deleted ${ep.id}.`);
    expect((await api('GET', `/v1/webhook_endpoints/${ep.id}`)).error.message).toMatch(
      /No such webhook endpoint/,
    );
  });

  it('accounts update --set and deauthorize', async () => {
    const created = JSON.parse((await cli(['accounts', 'create', '--format', 'json'])).stdout) as {
      id: string;
    };
    const upd = await cli([
      'accounts',
      'update',
      created.id,
      '--set',
      'charges_enabled=true',
      '--set',
      'requirements.currently_due=[]',
      '--set',
      'metadata.seller=42',
    ]);
    expect(upd.code, upd.stderr).toBe(0);
    expect(upd.stdout).toMatch(/Charges enabled:\s+yes/);
    expect(upd.stdout).toMatch(/Currently due:\s+-/);
    // Listed while connected; a deauthorized account is connected no more and leaves the list.
    const list = await cli(['accounts', 'list', '--limit', '100']);
    const deauth = await cli(['accounts', 'deauthorize', created.id]);
    expect((await cli(['accounts', 'list', '--limit', '100'])).stdout).not.toContain(created.id);
    expect(deauth.stdout).toContain(`Deauthorized ${created.id}`);
    const events = await api('GET', '/v1/events', created.id);
    expect(events.data.map((e: { type: string }) => e.type)).toEqual([
      'account.application.deauthorized',
      'account.updated',
    ]);
    expect(list.stdout.split('\n')[0]).toMatch(
      /^ID\s+TYPE\s+EMAIL\s+COUNTRY\s+CHARGES\s+PAYOUTS\s+DETAILS\s+CREATED$/,
    );
    expect(list.stdout).toContain(created.id);
  });
});

describe('switchboard trigger: the connected account it makes', () => {
  it('is made once and reused by later triggers; a deauthorization always uses a new one', async () => {
    const first = createdEvents((await cli(['trigger', 'account.updated'])).stdout)[0]!.account;
    const second = await cli(['trigger', 'person.updated']);
    expect(second.stdout).toMatch(new RegExp(`Using connected account ${first}, made by an earlier trigger`));
    expect(createdEvents(second.stdout)[0]!.account).toBe(first);
    const gone = createdEvents((await cli(['trigger', 'account.application.deauthorized'])).stdout)[0]!
      .account;
    expect(gone).not.toBe(first);
    // The shared account is still there for the next trigger.
    expect(createdEvents((await cli(['trigger', 'capability.updated'])).stdout)[0]!.account).toBe(first);
  });
});

describe('switchboard keys', () => {
  it('creates a key shown once, lists it by its last four characters, and revokes it', async () => {
    const created = await cli(['keys', 'create', '--format', 'json']);
    expect(created.code, created.stderr).toBe(0);
    const { id, secret } = JSON.parse(created.stdout) as { id: string; secret: string };
    expect(secret).toMatch(/^sk_test_/);
    const list = await cli(['keys', 'list']);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain(`sk_test_…${secret.slice(-4)}`);
    expect(list.stdout).not.toContain(secret);
    expect((await cli(['events', 'list'], { SWITCHBOARD_API_KEY: secret })).code).toBe(0);
    const revoked = await cli(['keys', 'revoke', id]);
    expect(revoked.stdout).toContain(`Revoked ${id}`);
    expectOneErrorLine(
      await cli(['events', 'list'], { SWITCHBOARD_API_KEY: secret }),
      /Invalid API Key provided/,
    );
  });
});
