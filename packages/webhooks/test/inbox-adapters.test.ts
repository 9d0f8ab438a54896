// The adapters with an inbox: 2xx only once the event is stored, the signed
// bytes stored as received, duplicates acknowledged, a store failure a 500.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createExpressWebhookMiddleware } from '../src/adapters/express.js';
import { fastifyWebhookPlugin } from '../src/adapters/fastify.js';
import { createNodeWebhookHandler } from '../src/adapters/node.js';
import {
  createInbox,
  createSqliteInbox,
  createWebhookRequestHandler,
  type Inbox,
  type InboxStore,
  type WebhookAdapterOptions,
} from '../src/index.js';
import { fetchSender, listen, readResponse, type Send } from './adapterContract.js';
import { accountUpdated, signBody } from './connectFixtures.js';
import { fixedNow, SECRET } from './support.js';

type Mount = (options: WebhookAdapterOptions) => Promise<{ send: Send; close: () => Promise<void> }>;

const ADAPTERS: Array<[string, Mount]> = [
  [
    'web',
    async (options) => {
      const handle = createWebhookRequestHandler(options);
      return {
        send: async (body, headers = {}) =>
          readResponse(
            await handle(new Request('http://localhost/webhooks', { method: 'POST', headers, body })),
          ),
        close: async () => {},
      };
    },
  ],
  [
    'node:http',
    async (options) => {
      const { url, close } = await listen(createServer(createNodeWebhookHandler(options)));
      return { send: fetchSender(url), close };
    },
  ],
  [
    'express (express.raw)',
    async (options) => {
      const app = express();
      app.post(
        '/webhooks',
        express.raw({ type: 'application/json' }),
        createExpressWebhookMiddleware(options),
      );
      const { url, close } = await listen(createServer(app));
      return { send: fetchSender(`${url}/webhooks`), close };
    },
  ],
  [
    'fastify (plugin)',
    async (options) => {
      const app = Fastify();
      await app.register(fastifyWebhookPlugin({ ...options, path: '/webhooks' }));
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return { send: fetchSender(`${url}/webhooks`), close: () => app.close() };
    },
  ],
];

describe.each(ADAPTERS)('%s adapter with an inbox', (_name, mount) => {
  let dir: string;
  let db: Database.Database;
  let store: InboxStore;
  let inbox: Inbox;
  let close: (() => Promise<void>) | undefined;
  const handler = vi.fn();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sbinbox-adapter-'));
    db = new Database(join(dir, 'inbox.db'));
    store = createSqliteInbox(db);
    await store.migrate();
    handler.mockClear();
    inbox = createInbox({ store, handler });
  });
  afterEach(async () => {
    await close?.();
    close = undefined;
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (options: Partial<WebhookAdapterOptions> = {}) => {
    const mounted = await mount({
      secret: SECRET,
      now: fixedNow,
      inbox,
      ...options,
    } as WebhookAdapterOptions);
    close = mounted.close;
    return mounted.send;
  };

  it('stores the event with its exact bytes and answers 200; the worker runs the handler later', async () => {
    const send = await start();
    // Pretty-printed with non-ASCII text: the stored body must be the signed bytes, not a re-serialisation.
    const body = JSON.stringify({ ...accountUpdated, metadata: { name: 'Zoë' } }, null, 2);
    const response = await send(body, {
      'stripe-signature': signBody(body),
      'content-type': 'application/json',
    });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ received: true, duplicate: false });
    expect(await store.get(accountUpdated.id)).toMatchObject({ status: 'pending', body });
    expect(handler).not.toHaveBeenCalled();

    await inbox.runOnce();
    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler.mock.calls[0]![0]).toMatchObject({ id: accountUpdated.id, metadata: { name: 'Zoë' } });
  });

  it('acknowledges a redelivery as a duplicate, and it is handled once', async () => {
    const send = await start();
    const body = JSON.stringify(accountUpdated);
    const headers = { 'stripe-signature': signBody(body), 'content-type': 'application/json' };
    expect((await send(body, headers)).json).toEqual({ received: true, duplicate: false });
    expect((await send(body, headers)).json).toEqual({ received: true, duplicate: true });
    await inbox.runOnce();
    await inbox.runOnce();
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('answers 500 when the event could not be stored, so the sender retries', async () => {
    const onError = vi.fn();
    const failing = { accept: () => Promise.reject(new Error('disk full')) };
    const send = await start({ inbox: failing, onError });
    const body = JSON.stringify(accountUpdated);
    const response = await send(body, {
      'stripe-signature': signBody(body),
      'content-type': 'application/json',
    });
    expect(response.status).toBe(500);
    expect(response.json.error.code).toBe('handler_failed');
    expect(onError).toHaveBeenCalledWith(expect.any(Error), expect.objectContaining({ status: 500 }));
  });

  it('stores nothing for a request that does not verify', async () => {
    const send = await start();
    const body = JSON.stringify(accountUpdated);
    const response = await send(body, {
      'stripe-signature': signBody('{}'),
      'content-type': 'application/json',
    });
    expect(response.status).toBe(400);
    expect((await store.stats()).total).toBe(0);
  });
});

describe('adapter options with an inbox', () => {
  it('take exactly one of onEvent, router and inbox', () => {
    const inbox = { accept: async () => ({ duplicate: false }) };
    expect(() =>
      createWebhookRequestHandler({
        secret: SECRET,
        inbox,
        onEvent: () => {},
      } as unknown as WebhookAdapterOptions),
    ).toThrow(/exactly one of onEvent \(a function\), router or inbox/);
    expect(() => createWebhookRequestHandler({ secret: SECRET, inbox: {} as never })).toThrow(/createInbox/);
    expect(() => createWebhookRequestHandler({ secret: SECRET, inbox })).not.toThrow();
  });
});
