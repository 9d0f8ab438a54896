/**
 * Every input is bounded: nesting of any body (form or JSON), so that no
 * hostile event can be stored and poison the lists that would serve it.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_PARAM_DEPTH, tooDeep } from '../src/api/formBody.js';
import { type Harness, startHarness, TEST_KEY } from './helpers/switchboard.js';

const nested = (levels: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};

describe('tooDeep', () => {
  it.each<[string, unknown, string | null]>([
    ['a scalar', 1, null],
    // As deep as a form body may be: the name, then 20 brackets.
    ['at the limit', nested(MAX_PARAM_DEPTH + 1), null],
    ['one level more', nested(MAX_PARAM_DEPTH + 2), `a${'[a]'.repeat(MAX_PARAM_DEPTH + 1)}`],
    [
      'arrays count as levels',
      { x: JSON.parse(`${'['.repeat(21)}1${']'.repeat(21)}`) },
      `x${'[0]'.repeat(MAX_PARAM_DEPTH + 1)}`,
    ],
    ['4,100 levels', nested(4100), `a${'[a]'.repeat(MAX_PARAM_DEPTH + 1)}`],
  ])('%s', (_name, value, expected) => {
    expect(tooDeep(value)).toBe(expected);
  });
});

describe('body bounds', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness('sqlite');
  });
  afterEach(async (ctx) => {
    await h.close(ctx.task.result?.state === 'fail');
  });

  it('an event nested thousands of levels is refused, naming the parameter, and nothing is stored', async () => {
    // Written out as text: JSON.stringify itself runs out of stack near 4,000 levels.
    const deep = `${'{"a":'.repeat(4100)}1${'}'.repeat(4100)}`;
    const json = await fetch(`${h.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: `{"type":"customer.created","data":{"object":${deep}}}`,
    });
    expect(json.status).toBe(400);
    const jsonError = ((await json.json()) as { error: { message: string; param: string } }).error;
    expect(jsonError.param).toMatch(/^data\[object\]\[a\]/);
    expect(jsonError.message).toMatch(/nested too deeply \(at most 20 levels\)/);
    const form = await fetch(`${h.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `type=customer.created&data[object]${'[a]'.repeat(4100)}=1`,
    });
    expect(form.status).toBe(400);
    const formError = ((await form.json()) as { error: { message: string; param: string } }).error;
    expect(formError.message).toMatch(/nested too deeply/);
    // Named to the limit only: a hostile name does not swell the answer.
    expect(formError.param).toBe(`data[object]${'[a]'.repeat(20)}`);
    // The lists that would serve such an event still work, and hold nothing.
    const list = await h.api('GET', '/v1/events');
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
  });

  it('an event at the limit is stored and served', async () => {
    const ok = await h.api('POST', '/v1/events', {
      type: 'customer.created',
      data: { object: nested(MAX_PARAM_DEPTH - 1) },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await h.api('GET', '/v1/events')).body.data).toHaveLength(1);
  });
});

describe('field bounds', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness('sqlite');
  });
  afterEach(async (ctx) => {
    await h.close(ctx.task.result?.state === 'fail');
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a 900 KB URL', { url: `https://example.com/${'a'.repeat(900_000)}` }, 'url', /at most 2048 characters/],
    [
      'a URL one past the limit',
      { url: `https://example.com/${'a'.repeat(2049 - 20)}` },
      'url',
      /at most 2048/,
    ],
    [
      'CR/LF in a URL',
      { url: 'https://example.com/a\r\nX-Injected: 1' },
      'url',
      /spaces or control characters/,
    ],
    ['NUL in a URL', { url: 'https://example.com/a\u0000b' }, 'url', /control characters/],
    ['a tab in a URL', { url: 'https://exa\tmple.com/' }, 'url', /control characters/],
    [
      '50,000 enabled_events',
      { enabled_events: Array.from({ length: 50_000 }, () => 'account.updated') },
      'enabled_events',
      /at most 300 event types/,
    ],
    ['a 5,001-character description', { description: 'x'.repeat(5001) }, 'description', /5000/],
  ])('%s: 400 naming the parameter', async (_name, over, param, message) => {
    const res = await h.api('POST', '/v1/webhook_endpoints', {
      url: 'https://example.com/h',
      enabled_events: ['*'],
      ...over,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe(param);
    expect(res.body.error.message).toMatch(message);
  });

  it('a URL of exactly 2048 characters is accepted', async () => {
    const url = `https://example.com/${'a'.repeat(2048 - 20)}`;
    expect(url).toHaveLength(2048);
    const res = await h.api('POST', '/v1/webhook_endpoints', { url, enabled_events: ['*'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('at most 5 secrets sign at once: a roll that would make a 6th is refused, one that ends the others is not', async () => {
    const ep = (
      await h.api('POST', '/v1/webhook_endpoints', { url: 'https://example.com/h', enabled_events: ['*'] })
    ).body;
    for (let i = 0; i < 4; i++) {
      expect((await h.api('POST', `/v1/webhook_endpoints/${ep.id}/roll_secret`, {})).status).toBe(200);
    }
    const sixth = await h.api('POST', `/v1/webhook_endpoints/${ep.id}/roll_secret`, {});
    expect(sixth.status).toBe(400);
    expect(sixth.body.error).toMatchObject({ param: 'expires_in' });
    expect(sixth.body.error.message).toMatch(/At most 5 secrets may sign at once/);
    expect(
      (await h.api('POST', `/v1/webhook_endpoints/${ep.id}/roll_secret`, { expires_in: 0 })).status,
    ).toBe(200);
  });
});

describe('connection bounds', () => {
  let h: Harness;
  afterEach(async (ctx) => {
    await h?.close(ctx.task.result?.state === 'fail');
  });

  /** A raw connection, and a promise that settles when the server closes it. */
  const connect = async (port: number) => {
    const { connect: dial } = await import('node:net');
    const socket = dial(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => {
      received += d.toString();
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, closed, received: () => received };
  };

  it('a request body that never finishes is cut at the request deadline, not held for minutes', async () => {
    h = await startHarness('sqlite', { requestTimeoutMs: 300 });
    const c = await connect(h.port);
    c.socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":`,
    );
    // The server gives up on it: the connection closes (with a 408) instead of waiting for the rest.
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('past maxConnections a new connection is dropped; the ones open keep working', async () => {
    h = await startHarness('sqlite', { maxConnections: 2 });
    const a = await connect(h.port);
    const b = await connect(h.port);
    const third = await connect(h.port);
    await third.closed;
    expect(third.received()).toBe('');
    a.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    await a.closed;
    expect(a.received()).toMatch(/^HTTP\/1\.1 200/);
    b.socket.destroy();
  });
});

describe('stored rows that cannot be read', () => {
  let h: Harness;
  afterEach(async (ctx) => {
    await h?.close(ctx.task.result?.state === 'fail');
  });

  it('a row nested 50,000 levels (stored before the limit) is served as a stub; the lists that hold it keep working', async () => {
    h = await startHarness('sqlite');
    const deep = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
    const body = `{"id":"evt_deep","object":"event","api_version":"2026-10-28.endive","created":1,"data":{"object":${deep}},"livemode":false,"pending_webhooks":0,"request":{"id":null,"idempotency_key":null},"type":"customer.created"}`;
    await h.sb.store.appendEvent(
      {
        id: 'evt_deep',
        accountId: h.sb.platform.id,
        livemode: false,
        type: 'customer.created',
        createdUnix: 1,
        body,
        requestId: null,
        idempotencyKey: null,
      },
      [],
    );
    const ok = await h.api('POST', '/v1/events', {
      type: 'customer.created',
      data: { object: { id: 'cus_1' } },
    });
    const list = await h.api('GET', '/v1/events');
    expect(list.status).toBe(200);
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([ok.body.id, 'evt_deep']);
    expect(list.body.data[1]).toMatchObject({
      id: 'evt_deep',
      data: { object: null },
      switchboard_error: expect.any(String),
    });
    expect((await h.api('GET', '/v1/events/evt_deep')).status).toBe(200);
  });

  it('an event is served as the bytes it was stored as, with the live pending_webhooks', async () => {
    h = await startHarness('sqlite');
    const ep = (
      await h.api('POST', '/v1/webhook_endpoints', { url: 'https://example.com/h', enabled_events: ['*'] })
    ).body;
    const ev = (
      await h.api('POST', '/v1/events', { type: 'customer.created', data: { object: { id: 'cus_1' } } })
    ).body;
    expect(ev.pending_webhooks).toBe(1);
    // Deleting the endpoint cancels what it was owed: the live count drops, the stored bytes do not change.
    await h.api('DELETE', `/v1/webhook_endpoints/${ep.id}`);
    const res = await fetch(`${h.url}/v1/events/${ev.id}`, {
      headers: { authorization: `Bearer ${TEST_KEY}` },
    });
    const text = await res.text();
    const stored = (await h.sb.store.getEvent(ev.id))!.body;
    expect(stored).toContain('\n  "pending_webhooks": 1,\n');
    expect(text).toBe(stored.replace('\n  "pending_webhooks": 1,\n', '\n  "pending_webhooks": 0,\n'));
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });
});
