import { createServer } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createExpressWebhookMiddleware } from '../src/adapters/express.js';
import { createWebhookRouter, type WebhookAdapterOptions } from '../src/index.js';
import { describeAdapterContract, fetchSender, listen, type Send } from './adapterContract.js';
import { payoutFailed, signed } from './connectFixtures.js';
import { fixedNow, SECRET } from './support.js';

async function serve(app: express.Express) {
  return listen(createServer(app));
}

describeAdapterContract('express (no body parser)', async (options) => {
  const app = express();
  app.post('/webhooks', createExpressWebhookMiddleware(options));
  const { url, close } = await serve(app);
  return { send: fetchSender(`${url}/webhooks`), close };
});

describeAdapterContract('express (express.raw)', async (options) => {
  const app = express();
  app.post('/webhooks', express.raw({ type: 'application/json' }), createExpressWebhookMiddleware(options));
  const { url, close } = await serve(app);
  return { send: fetchSender(`${url}/webhooks`), close };
});

describe('express adapter', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });
  const start = async (app: express.Express, path = '/webhooks'): Promise<{ send: Send; url: string }> => {
    const served = await serve(app);
    close = served.close;
    return { send: fetchSender(`${served.url}${path}`), url: served.url };
  };
  const options = (onEvent = vi.fn()): WebhookAdapterOptions => ({ secret: SECRET, now: fixedNow, onEvent });

  it('diagnoses a global express.json() before the webhook route with payload_not_raw', async () => {
    const onEvent = vi.fn();
    const app = express();
    app.use(express.json());
    app.post('/webhooks', createExpressWebhookMiddleware(options(onEvent)));
    const { send } = await start(app);
    const { body, header } = signed(payoutFailed);
    const response = await send(body, { 'stripe-signature': header });
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe('payload_not_raw');
    expect(response.json.error.message).toContain('express.json()');
    expect(response.json.error.message).toContain('Mount the webhook route before app.use(express.json())');
    expect(response.json.error.message).toContain("express.raw({ type: 'application/json' })");
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('works when mounted before express.json(), which still parses the other routes', async () => {
    const onEvent = vi.fn();
    const app = express();
    app.post('/webhooks', createExpressWebhookMiddleware(options(onEvent)));
    app.use(express.json());
    app.post('/orders', (req, res) => {
      res.json({ parsed: req.body });
    });
    const { send, url } = await start(app);
    const { body, header } = signed(payoutFailed);
    expect((await send(body, { 'stripe-signature': header })).status).toBe(200);
    expect(onEvent).toHaveBeenCalledOnce();
    const other = await fetchSender(`${url}/orders`)('{"a":1}');
    expect(other.json).toEqual({ parsed: { a: 1 } });
  });

  it('uses a string body left by express.text()', async () => {
    const onEvent = vi.fn();
    const app = express();
    app.post('/webhooks', express.text({ type: '*/*' }), createExpressWebhookMiddleware(options(onEvent)));
    const { send } = await start(app);
    const { body, header } = signed(payoutFailed);
    expect((await send(body, { 'stripe-signature': header })).status).toBe(200);
    expect(onEvent).toHaveBeenCalledWith(payoutFailed, expect.anything());
  });

  it('reads the stream itself when express.raw() skipped the request (another content type)', async () => {
    const onEvent = vi.fn();
    const app = express();
    app.post(
      '/webhooks',
      express.raw({ type: 'application/json' }),
      createExpressWebhookMiddleware(options(onEvent)),
    );
    const { send } = await start(app);
    const { body, header } = signed(payoutFailed);
    const response = await send(body, { 'stripe-signature': header, 'content-type': 'text/plain' });
    expect(response.status).toBe(200);
    expect(onEvent).toHaveBeenCalledOnce();
  });

  it('works with a router mounted through app.use, passing other methods on', async () => {
    const handler = vi.fn();
    const router = createWebhookRouter({ livemode: 'both' }).on('payout.failed', handler);
    const app = express();
    app.use('/webhooks', createExpressWebhookMiddleware({ secret: SECRET, now: fixedNow, router }));
    app.get('/webhooks', (_req, res) => {
      res.send('status page');
    });
    const { send, url } = await start(app);
    const { body, header } = signed(payoutFailed);
    expect((await send(body, { 'stripe-signature': header })).json).toEqual({
      received: true,
      handled: true,
    });
    expect(handler).toHaveBeenCalledOnce();
    expect(await (await fetch(`${url}/webhooks`)).text()).toBe('status page');
  });

  it('answers 413 over maxBodyBytes when it reads the stream', async () => {
    const onEvent = vi.fn();
    const app = express();
    app.post('/webhooks', createExpressWebhookMiddleware({ ...options(onEvent), maxBodyBytes: 100 }));
    const { send } = await start(app);
    const { body, header } = signed(payoutFailed);
    const response = await send(body, { 'stripe-signature': header });
    expect(response.status).toBe(413);
    expect(onEvent).not.toHaveBeenCalled();
  });
});
