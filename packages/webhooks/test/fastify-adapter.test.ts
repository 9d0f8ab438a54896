import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFastifyWebhookHandler, fastifyWebhookPlugin } from '../src/adapters/fastify.js';
import type { WebhookAdapterOptions } from '../src/index.js';
import { describeAdapterContract, fetchSender, type Send } from './adapterContract.js';
import { payoutFailed, signed } from './connectFixtures.js';
import { fixedNow, SECRET } from './support.js';

async function serve(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' });
}

describeAdapterContract('fastify (plugin)', async (options) => {
  const app = Fastify();
  await app.register(fastifyWebhookPlugin({ ...options, path: '/webhooks' }));
  const url = await serve(app);
  return { send: fetchSender(`${url}/webhooks`), close: () => app.close() };
});

describeAdapterContract('fastify (handler with request.rawBody)', async (options) => {
  const app = Fastify();
  // What raw-body plugins do: keep the bytes on request.rawBody and parse as usual.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      Object.assign(request, { rawBody: body });
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(null, {});
      }
    });
    scope.post('/webhooks', createFastifyWebhookHandler(options));
  });
  const url = await serve(app);
  return { send: fetchSender(`${url}/webhooks`), close: () => app.close() };
});

describe('fastify adapter', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const options = (onEvent = vi.fn()): WebhookAdapterOptions => ({ secret: SECRET, now: fixedNow, onEvent });
  const start = async (
    setup: (app: FastifyInstance) => Promise<void> | void,
  ): Promise<{ url: string; send: Send }> => {
    app = Fastify();
    await setup(app);
    const url = await serve(app);
    return { url, send: fetchSender(`${url}/webhooks`) };
  };

  it('keeps the raw body for the webhook route only: other routes still parse JSON', async () => {
    const onEvent = vi.fn();
    const { url, send } = await start(async (a) => {
      a.post('/orders', async (request) => ({ parsed: request.body }));
      await a.register(fastifyWebhookPlugin({ ...options(onEvent), path: '/webhooks' }));
    });
    const { body, header } = signed(payoutFailed);
    expect((await send(body, { 'stripe-signature': header })).status).toBe(200);
    expect(onEvent).toHaveBeenCalledWith(payoutFailed, expect.anything());
    const other = await fetchSender(`${url}/orders`)('{"a":1}');
    expect(other.json).toEqual({ parsed: { a: 1 } });
  });

  it('works under a prefix', async () => {
    const onEvent = vi.fn();
    const { url } = await start(async (a) => {
      await a.register(fastifyWebhookPlugin({ ...options(onEvent), path: '/connect' }), {
        prefix: '/stripe',
      });
    });
    const { body, header } = signed(payoutFailed);
    expect((await fetchSender(`${url}/stripe/connect`)(body, { 'stripe-signature': header })).status).toBe(
      200,
    );
  });

  it("diagnoses the handler on a route with Fastify's default JSON parser", async () => {
    const onEvent = vi.fn();
    const { send } = await start((a) => {
      a.post('/webhooks', createFastifyWebhookHandler(options(onEvent)));
    });
    const { body, header } = signed(payoutFailed);
    const response = await send(body, { 'stripe-signature': header });
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe('payload_not_raw');
    expect(response.json.error.message).toContain('fastifyWebhookPlugin()');
    expect(response.json.error.message).toContain("parseAs: 'buffer'");
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('answers 413 over maxBodyBytes', async () => {
    const onEvent = vi.fn();
    const { send } = await start(async (a) => {
      await a.register(fastifyWebhookPlugin({ ...options(onEvent), path: '/webhooks', maxBodyBytes: 100 }));
    });
    const { body, header } = signed(payoutFailed);
    const response = await send(body, { 'stripe-signature': header });
    expect(response.status).toBe(413);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('takes a body of any content type as raw bytes', async () => {
    const onEvent = vi.fn();
    const { send } = await start(async (a) => {
      await a.register(fastifyWebhookPlugin({ ...options(onEvent), path: '/webhooks' }));
    });
    const { body, header } = signed(payoutFailed);
    const response = await send(body, { 'stripe-signature': header, 'content-type': 'text/plain' });
    expect(response.status).toBe(200);
    expect(onEvent).toHaveBeenCalledOnce();
  });

  it('needs a path', () => {
    // @ts-expect-error path is required
    expect(() => fastifyWebhookPlugin(options())).toThrow(/needs a path/);
  });
});
