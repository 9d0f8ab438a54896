/**
 * The API's conventions through `app.request()` (no socket): auth, errors,
 * parameters, idempotency, lists. Real SQLite underneath.
 */

import { afterEach, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { manualClock } from '../src/clock.js';
import { createSwitchboard, type Switchboard } from '../src/server.js';
import { LIVE_KEY, makeTestStore, TEST_KEY, type TestStore } from './helpers/switchboard.js';

let sb: Switchboard;
let ts: TestStore;
let failed = false;
const clock = manualClock(Date.UTC(2026, 10, 28, 10, 0, 0));

beforeEach(async () => {
  failed = false;
  ts = await makeTestStore('sqlite');
  sb = await createSwitchboard({
    store: ts.store,
    testKey: TEST_KEY,
    liveKey: LIVE_KEY,
    deliver: false,
    clock,
    maxBodyBytes: 64 * 1024,
  });
});
afterEach(async (ctx) => {
  failed ||= ctx.task.result?.state === 'fail';
  await sb.close();
  await ts.cleanup(failed);
});

interface Call {
  method?: string;
  form?: string;
  json?: unknown;
  raw?: string;
  key?: string | null;
  headers?: Record<string, string>;
}

async function call(path: string, opts: Call = {}) {
  onTestFailed(() => {
    failed = true;
  });
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key !== null) headers['authorization'] = `Bearer ${opts.key ?? TEST_KEY}`;
  let body: string | undefined;
  if (opts.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = opts.form;
  } else if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.raw !== undefined) {
    body = opts.raw;
  }
  const res = await sb.app.request(path, {
    method: opts.method ?? (body !== undefined ? 'POST' : 'GET'),
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

describe('authentication', () => {
  it.each([
    ['no key', null, 401, /did not provide an API key/],
    ['unknown key', 'sk_test_abcdefghijklmnop9876', 401, /Invalid API Key provided: sk_test_\*\*\*\*9876/],
    ['garbage', 'nonsense', 401, /Invalid API Key provided/],
  ])('%s → %i', async (_name, key, status, message) => {
    const res = await call('/v1/webhook_endpoints', { key });
    expect(res.status).toBe(status);
    expect(res.body.error.type).toBe('invalid_request_error');
    expect(res.body.error.message).toMatch(message);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
  });

  it('accepts Basic auth with the key as user name', async () => {
    const res = await call('/v1/webhook_endpoints', {
      key: null,
      headers: { authorization: `Basic ${Buffer.from(`${TEST_KEY}:`).toString('base64')}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
  });

  it('refuses a Stripe-Account that is not connected to the platform', async () => {
    const res = await call('/v1/webhook_endpoints', { headers: { 'stripe-account': 'acct_someoneelse' } });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ type: 'permission_error', code: 'account_invalid' });
  });
});

describe('errors and parameters', () => {
  it.each<[string, Call & { path?: string }, number, Record<string, unknown>]>([
    [
      'unknown parameter',
      { form: 'url=https://a.example/x&enabled_events[0]=*&colour=red' },
      400,
      { code: 'parameter_unknown', param: 'colour' },
    ],
    ['missing url', { form: 'enabled_events[0]=*' }, 400, { code: 'parameter_missing', param: 'url' }],
    [
      'missing enabled_events',
      { form: 'url=https://a.example/x' },
      400,
      { code: 'parameter_missing', param: 'enabled_events' },
    ],
    [
      'bad event type',
      { form: 'url=https://a.example/x&enabled_events[0]=Nope' },
      400,
      { param: 'enabled_events[0]' },
    ],
    ['bad url', { form: 'url=not-a-url&enabled_events[0]=*' }, 400, { code: 'url_invalid', param: 'url' }],
    ['ftp url', { form: 'url=ftp://a.example/x&enabled_events[0]=*' }, 400, { code: 'url_invalid' }],
    [
      'bad boolean',
      { form: 'url=https://a.example/x&enabled_events[0]=*&connect=maybe' },
      400,
      { code: 'parameter_invalid_boolean', param: 'connect' },
    ],
    [
      'malformed percent-encoding',
      { form: 'url=%zz&enabled_events[0]=*' },
      400,
      { type: 'invalid_request_error' },
    ],
    ['malformed brackets', { form: 'enabled_events[0=*' }, 400, { type: 'invalid_request_error' }],
    [
      'malformed JSON',
      { raw: '{"url":', headers: { 'content-type': 'application/json' } },
      400,
      { type: 'invalid_request_error' },
    ],
    [
      'JSON array body',
      { raw: '[1]', headers: { 'content-type': 'application/json' } },
      400,
      { type: 'invalid_request_error' },
    ],
    [
      'metadata key too long',
      { form: `url=https://a.example/x&enabled_events[0]=*&metadata[${'k'.repeat(41)}]=v` },
      400,
      { param: `metadata[${'k'.repeat(41)}]` },
    ],
    [
      'limit out of range',
      { path: '/v1/webhook_endpoints?limit=101', method: 'GET' },
      400,
      { code: 'parameter_invalid_integer', param: 'limit' },
    ],
    [
      'both cursors',
      { path: '/v1/webhook_endpoints?starting_after=we_a&ending_before=we_b', method: 'GET' },
      400,
      { param: 'ending_before' },
    ],
    [
      'unknown cursor',
      { path: '/v1/webhook_endpoints?starting_after=we_nope', method: 'GET' },
      400,
      { code: 'resource_missing' },
    ],
    [
      'unknown endpoint',
      { path: '/v1/webhook_endpoints/we_nope', method: 'GET' },
      404,
      { code: 'resource_missing', message: "No such webhook endpoint: 'we_nope'" },
    ],
    ['unknown route', { path: '/v1/nothing', method: 'GET' }, 404, { type: 'invalid_request_error' }],
    [
      'event without type',
      { path: '/v1/events', json: { data: { object: {} } } },
      400,
      { code: 'parameter_missing', param: 'type' },
    ],
    [
      'event without data[object]',
      { path: '/v1/events', json: { type: 'a.b', data: {} } },
      400,
      { code: 'parameter_missing', param: 'data[object]' },
    ],
    [
      'event with unknown data key',
      { path: '/v1/events', json: { type: 'a.b', data: { object: {}, extra: 1 } } },
      400,
      { code: 'parameter_unknown', param: 'data[extra]' },
    ],
    [
      'event with bad type',
      { path: '/v1/events', json: { type: 'Bad Type', data: { object: {} } } },
      400,
      { param: 'type' },
    ],
    [
      'events with type and types',
      { path: '/v1/events?type=a.b&types[0]=a.c', method: 'GET' },
      400,
      { param: 'types' },
    ],
    [
      'bad created filter',
      { path: '/v1/events?created[gt]=soon', method: 'GET' },
      400,
      { param: 'created[gt]' },
    ],
    ['account with bad type', { path: '/v1/accounts', form: 'type=premium' }, 400, { param: 'type' }],
    [
      'connect endpoint as the platform',
      {
        path: '/v1/webhook_endpoints',
        form: 'url=https://a.example/x&enabled_events[0]=*&connect=true',
        headers: {},
      },
      200,
      {},
    ],
  ])('%s', async (_name, opts, status, error) => {
    const res = await call(opts.path ?? '/v1/webhook_endpoints', opts);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    if (status >= 400) expect(res.body.error).toMatchObject(error);
    if (status >= 400) expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it('refuses Connect endpoints created as a connected account', async () => {
    const acct = await call('/v1/accounts', { form: 'type=custom' });
    const res = await call('/v1/webhook_endpoints', {
      form: 'url=https://a.example/x&enabled_events[0]=*&connect=true',
      headers: { 'stripe-account': acct.body.id },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe('connect');
  });

  it('answers 413 to an oversized body and keeps serving', async () => {
    const res = await call('/v1/events', {
      json: { type: 'a.b', data: { object: { big: 'x'.repeat(70_000) } } },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('request_too_large');
    expect((await call('/v1/webhook_endpoints')).status).toBe(200);
  });

  it('over a socket: reads the body from the connection, refuses a chunked oversized one, keeps serving', async () => {
    const { url } = await sb.listen(0);
    const { request } = await import('node:http');
    const post = (chunks: string[], declared?: number) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const req = request(`${url}/v1/events`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${TEST_KEY}`,
            'content-type': 'application/x-www-form-urlencoded',
            ...(declared !== undefined ? { 'content-length': String(declared) } : {}),
          },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        for (const chunk of chunks) req.write(chunk);
        req.end();
      });
    // Chunked (no content-length) in several pieces: assembled before parsing.
    const ok = await post(['type=a.b&data[obj', 'ect][n]=1', '']);
    expect(ok.status).toBe(200);
    expect(ok.body.data.object).toEqual({ n: '1' });
    const big = await post(['type=a.b&data[object][big]=', 'x'.repeat(40_000), 'x'.repeat(40_000)]);
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('request_too_large');
    const declared = await post(['type=a.b'], 70_000);
    expect(declared.status).toBe(413);
    expect((await post(['type=a.b&data[object][n]=2'])).status).toBe(200);
  });

  it('accepts x[]= and encoded brackets as stripe-node and curl send them', async () => {
    const res = await call('/v1/webhook_endpoints', {
      form: 'url=https%3A%2F%2Fa.example%2Fx&enabled_events%5B%5D=payout.failed&enabled_events[]=payout.paid',
    });
    expect(res.status).toBe(200);
    expect(res.body.enabled_events).toEqual(['payout.failed', 'payout.paid']);
  });

  it('caps an account at 16 endpoints per mode', async () => {
    for (let i = 0; i < 16; i++) {
      expect(
        (await call('/v1/webhook_endpoints', { form: `url=https://a.example/${i}&enabled_events[0]=*` }))
          .status,
      ).toBe(200);
    }
    const res = await call('/v1/webhook_endpoints', { form: 'url=https://a.example/17&enabled_events[0]=*' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('webhook_endpoint_limit_reached');
    expect(
      (
        await call('/v1/webhook_endpoints', {
          key: LIVE_KEY,
          form: 'url=https://a.example/l&enabled_events[0]=*',
        })
      ).status,
    ).toBe(200);
  });
});

describe('idempotency', () => {
  it('replays the first response for the same key and parameters', async () => {
    const form = 'url=https://a.example/x&enabled_events[0]=*';
    const a = await call('/v1/webhook_endpoints', { form, headers: { 'idempotency-key': 'k1' } });
    const b = await call('/v1/webhook_endpoints', { form, headers: { 'idempotency-key': 'k1' } });
    expect(b.body).toEqual(a.body);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect((await call('/v1/webhook_endpoints')).body.data).toHaveLength(1);
  });

  it('refuses the same key with other parameters', async () => {
    await call('/v1/webhook_endpoints', {
      form: 'url=https://a.example/x&enabled_events[0]=*',
      headers: { 'idempotency-key': 'k2' },
    });
    const res = await call('/v1/webhook_endpoints', {
      form: 'url=https://a.example/y&enabled_events[0]=*',
      headers: { 'idempotency-key': 'k2' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('idempotency_error');
  });

  it('expires keys after 24 hours', async () => {
    const form = 'url=https://a.example/x&enabled_events[0]=*';
    await call('/v1/webhook_endpoints', { form, headers: { 'idempotency-key': 'k3' } });
    clock.advance(24 * 3600_000 + 1);
    const again = await call('/v1/webhook_endpoints', {
      form: 'url=https://a.example/z&enabled_events[0]=*',
      headers: { 'idempotency-key': 'k3' },
    });
    expect(again.status).toBe(200);
  });

  it('publishes an event once for a retried request', async () => {
    const json = { type: 'customer.created', data: { object: { id: 'cus_1' } } };
    const a = await call('/v1/events', { json, headers: { 'idempotency-key': 'pub-1' } });
    const b = await call('/v1/events', { json, headers: { 'idempotency-key': 'pub-1' } });
    expect(b.body.id).toBe(a.body.id);
    expect(a.body.request).toEqual({ id: expect.stringMatching(/^req_/), idempotency_key: 'pub-1' });
    expect((await call('/v1/events')).body.data).toHaveLength(1);
  });
});

describe('events', () => {
  it('publishes form-encoded and JSON events and lists them with Stripe filters', async () => {
    const form = await call('/v1/events', {
      form: 'type=customer.created&data[object][id]=cus_1&data[object][object]=customer',
    });
    expect(form.status).toBe(200);
    expect(form.body).toMatchObject({
      object: 'event',
      type: 'customer.created',
      livemode: false,
      data: { object: { id: 'cus_1', object: 'customer' } },
      pending_webhooks: 0,
      api_version: '2026-10-28.endive',
    });
    expect(form.body.account).toBeUndefined();
    clock.advance(10_000);
    const created2 = Math.floor(clock() / 1000);
    await call('/v1/events', {
      json: {
        type: 'account.updated',
        data: { object: { id: 'acct_1' }, previous_attributes: { email: null } },
      },
    });
    clock.advance(10_000);
    await call('/v1/events', { json: { type: 'account.external_account.updated', data: { object: {} } } });
    await call('/v1/events', {
      json: { type: 'payout.failed', data: { object: {} } },
      headers: { 'stripe-version': '2025-01-27.acacia' },
    });

    const types = async (q: string) =>
      (await call(`/v1/events${q}`)).body.data.map((e: { type: string }) => e.type);
    expect(await types('')).toEqual([
      'payout.failed',
      'account.external_account.updated',
      'account.updated',
      'customer.created',
    ]);
    expect(await types('?type=account.*')).toEqual(['account.external_account.updated', 'account.updated']);
    expect(await types('?types[0]=payout.failed&types[1]=customer.created')).toEqual([
      'payout.failed',
      'customer.created',
    ]);
    expect(await types(`?created[lte]=${created2}`)).toEqual(['account.updated', 'customer.created']);
    expect(await types(`?created=${created2}`)).toEqual(['account.updated']);
    expect(await types('?limit=2')).toEqual(['payout.failed', 'account.external_account.updated']);
    const page1 = (await call('/v1/events?limit=2')).body;
    expect(page1.has_more).toBe(true);
    expect(page1.url).toBe('/v1/events');
    const page2 = (await call(`/v1/events?limit=2&starting_after=${page1.data[1].id}`)).body;
    expect(page2.data.map((e: { type: string }) => e.type)).toEqual(['account.updated', 'customer.created']);
    expect(page2.has_more).toBe(false);
    const back = (await call(`/v1/events?limit=1&ending_before=${page2.data[0].id}`)).body;
    expect(back.data.map((e: { type: string }) => e.type)).toEqual(['account.external_account.updated']);
    const pv = (await call('/v1/events?type=payout.failed')).body.data[0];
    // Events carry the account's default version, whatever version the request that caused them named.
    expect(pv.api_version).toBe('2026-10-28.endive');
    const au = (await call('/v1/events?type=account.updated')).body.data[0];
    expect(au.data.previous_attributes).toEqual({ email: null });
    // Test events are invisible to the live key.
    expect((await call('/v1/events', { key: LIVE_KEY })).body.data).toHaveLength(0);
  });

  it('removes events past retention (30 days by default)', async () => {
    const old = await call('/v1/events', { json: { type: 'customer.created', data: { object: {} } } });
    clock.advance(29 * 24 * 3600_000);
    const recent = await call('/v1/events', { json: { type: 'customer.created', data: { object: {} } } });
    clock.advance(2 * 24 * 3600_000);
    expect((await sb.prune()).events).toBe(1);
    expect((await call(`/v1/events/${old.body.id}`)).status).toBe(404);
    expect((await call(`/v1/events/${recent.body.id}`)).status).toBe(200);
  });

  it('GET /healthz reports the database', async () => {
    const res = await sb.app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', engine: 'sqlite' });
  });
});
