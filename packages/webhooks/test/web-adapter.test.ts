import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import {
  createWebhookRequestHandler,
  createWebhookRouter,
  handleWebhookRequest,
  type WebhookAdapterOptions,
} from '../src/web.js';
import { describeAdapterContract, fetchSender, listen, readResponse, type Send } from './adapterContract.js';
import { payoutFailed, signBody, signed } from './connectFixtures.js';
import { fixedNow, SECRET } from './support.js';

const URL_ = 'http://localhost/webhooks';

function requestSender(handle: (request: Request) => Promise<Response>): Send {
  return async (body, headers = {}) =>
    readResponse(
      await handle(
        new Request(URL_, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
          body,
        }),
      ),
    );
}

function honoApp(options: WebhookAdapterOptions): Hono {
  const app = new Hono();
  const webhook = createWebhookRequestHandler(options);
  app.post('/webhooks', (c) => webhook(c.req.raw));
  return app;
}

describeAdapterContract('web (Request → Response)', async (options) => ({
  send: requestSender(createWebhookRequestHandler(options)),
  close: async () => {},
}));

describeAdapterContract('web (handleWebhookRequest)', async (options) => ({
  send: requestSender((request) => handleWebhookRequest(request, options)),
  close: async () => {},
}));

describeAdapterContract('hono (app.request)', async (options) => {
  const app = honoApp(options);
  return {
    send: async (body, headers = {}) =>
      readResponse(
        await app.request('/webhooks', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
        }),
      ),
    close: async () => {},
  };
});

describeAdapterContract('hono (node server on 127.0.0.1)', async (options) => {
  const server = createAdaptorServer({ fetch: honoApp(options).fetch }) as Server;
  const { url, close } = await listen(server);
  return { send: fetchSender(`${url}/webhooks`), close };
});

describe('web adapter', () => {
  const options = (onEvent = vi.fn()): WebhookAdapterOptions => ({ secret: SECRET, now: fixedNow, onEvent });

  it('diagnoses a body already read by c.req.json() with payload_not_raw', async () => {
    const onEvent = vi.fn();
    const webhook = createWebhookRequestHandler(options(onEvent));
    const app = new Hono();
    app.post('/webhooks', async (c) => {
      await c.req.json();
      return webhook(c.req.raw);
    });
    const { body, header } = signed(payoutFailed);
    const response = await readResponse(
      await app.request('/webhooks', { method: 'POST', headers: { 'stripe-signature': header }, body }),
    );
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe('payload_not_raw');
    expect(response.json.error.message).toContain('c.req.json()');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('answers 413 from the declared length, before reading', async () => {
    const onEvent = vi.fn();
    const handle = createWebhookRequestHandler({ ...options(onEvent), maxBodyBytes: 100 });
    const { body, header } = signed(payoutFailed);
    const request = new Request(URL_, {
      method: 'POST',
      headers: { 'stripe-signature': header, 'content-length': String(body.length) },
      body,
    });
    const response = await handle(request);
    expect(response.status).toBe(413);
    expect((await readResponse(response)).json.error.code).toBe('payload_too_large');
    expect(request.bodyUsed).toBe(false);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('answers 413 when a streamed body without a length grows past the limit', async () => {
    const onEvent = vi.fn();
    const handle = createWebhookRequestHandler({ ...options(onEvent), maxBodyBytes: 100 });
    const { body, header } = signed(payoutFailed);
    const bytes = new TextEncoder().encode(body);
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // 50-byte chunks: the limit is passed on the third.
        if (pulled >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(pulled, pulled + 50));
        pulled += 50;
      },
    });
    const request = new Request(URL_, {
      method: 'POST',
      headers: { 'stripe-signature': header },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const response = await handle(request);
    expect(response.status).toBe(413);
    expect(pulled).toBeLessThan(bytes.length);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('reads a streamed body within the limit', async () => {
    const onEvent = vi.fn();
    const handle = createWebhookRequestHandler(options(onEvent));
    const { body, header } = signed(payoutFailed);
    const bytes = new TextEncoder().encode(body);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
        controller.close();
      },
    });
    const request = new Request(URL_, {
      method: 'POST',
      headers: { 'stripe-signature': header },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect((await handle(request)).status).toBe(200);
    expect(onEvent).toHaveBeenCalledWith(payoutFailed, expect.anything());
  });

  it('answers 405 to anything but POST', async () => {
    const response = await createWebhookRequestHandler(options())(new Request(URL_));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('fits a Next.js route handler: export const POST = …', async () => {
    const handler = vi.fn();
    const router = createWebhookRouter({ livemode: 'live-only' }).on('payout.failed', handler);
    const POST: (request: Request) => Promise<Response> = createWebhookRequestHandler({
      secret: SECRET,
      now: fixedNow,
      router,
    });
    const live = JSON.stringify({ ...payoutFailed, livemode: true });
    const response = await POST(
      new Request(URL_, { method: 'POST', headers: { 'stripe-signature': signBody(live) }, body: live }),
    );
    expect(await response.json()).toEqual({ received: true, handled: true });
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(handler).toHaveBeenCalledOnce();
  });
});
