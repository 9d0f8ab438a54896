import { createServer, request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNodeWebhookHandler, DEFAULT_MAX_BODY_BYTES } from '../src/adapters/node.js';
import { describeAdapterContract, fetchSender, listen, type Mounted } from './adapterContract.js';
import { payoutFailed, signBody, signed } from './connectFixtures.js';
import { fixedNow, SECRET } from './support.js';

describeAdapterContract('node:http', async (options) => {
  const server = createServer(createNodeWebhookHandler(options));
  const { url, close } = await listen(server);
  return { send: fetchSender(url), close };
});

/** Sends a body in chunks without a Content-Length, as a streaming client would. */
function postChunked(url: string, chunks: string[], headers: Record<string, string>) {
  return new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }),
        );
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('node:http adapter', () => {
  let mounted: (Mounted & { url: string }) | undefined;
  afterEach(async () => {
    await mounted?.close();
    mounted = undefined;
  });
  const start = async (options: Parameters<typeof createNodeWebhookHandler>[0]) => {
    const server = createServer(createNodeWebhookHandler(options));
    const { url, close } = await listen(server);
    mounted = { url, close, send: fetchSender(url) };
    return mounted;
  };

  it('answers 413 for a body over the default 1 MiB limit, before reading it', async () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(1024 * 1024);
    const onEvent = vi.fn();
    const { send } = await start({ secret: SECRET, now: fixedNow, onEvent });
    const body = JSON.stringify({ ...payoutFailed, padding: 'x'.repeat(DEFAULT_MAX_BODY_BYTES) });
    const response = await send(body, { 'stripe-signature': signBody(body) });
    expect(response.status).toBe(413);
    expect(response.json.error.code).toBe('payload_too_large');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('answers 413 when a chunked body grows past maxBodyBytes', async () => {
    const onEvent = vi.fn();
    const { url } = await start({ secret: SECRET, now: fixedNow, onEvent, maxBodyBytes: 64 });
    const { body, header } = signed(payoutFailed);
    const response = await postChunked(url, [body.slice(0, 40), body.slice(40)], {
      'stripe-signature': header,
    });
    expect(response.status).toBe(413);
    expect(response.connection).toBe('close');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('reads a chunked body within the limit', async () => {
    const onEvent = vi.fn();
    const { url } = await start({ secret: SECRET, now: fixedNow, onEvent });
    const { body, header } = signed(payoutFailed);
    const response = await postChunked(url, [body.slice(0, 10), body.slice(10, 200), body.slice(200)], {
      'stripe-signature': header,
    });
    expect(response.status).toBe(200);
    expect(onEvent).toHaveBeenCalledOnce();
  });

  it('answers 405 to anything but POST', async () => {
    const { url } = await start({ secret: SECRET, onEvent: vi.fn() });
    const response = await fetch(url);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('diagnoses a body parsed before the handler ran', async () => {
    const handle = createNodeWebhookHandler({ secret: SECRET, now: fixedNow, onEvent: vi.fn() });
    // What a framework with a JSON body parser does before calling the handler.
    const server = createServer(async (req, res) => {
      let text = '';
      for await (const chunk of req) text += chunk;
      Object.assign(req, { body: JSON.parse(text) });
      await handle(req, res);
    });
    const { url, close } = await listen(server);
    mounted = { url, close, send: fetchSender(url) };
    const { body, header } = signed(payoutFailed);
    const response = await mounted.send(body, { 'stripe-signature': header });
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe('payload_not_raw');
    expect(response.json.error.message).toContain('bodyParser: false');
  });

  it('refuses bad options when created, not per request', () => {
    expect(() => createNodeWebhookHandler({ secret: '', onEvent: vi.fn() })).toThrow(
      expect.objectContaining({ code: 'invalid_secret' }),
    );
    // @ts-expect-error neither onEvent nor router
    expect(() => createNodeWebhookHandler({ secret: SECRET })).toThrow(/exactly one of onEvent/);
    expect(() => createNodeWebhookHandler({ secret: SECRET, tolerance: 0, onEvent: vi.fn() })).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
    expect(() => createNodeWebhookHandler({ secret: SECRET, maxBodyBytes: -1, onEvent: vi.fn() })).toThrow(
      /maxBodyBytes/,
    );
    // @ts-expect-error both secret and secrets
    expect(() => createNodeWebhookHandler({ secret: SECRET, secrets: [SECRET], onEvent: vi.fn() })).toThrow(
      /either secret or secrets/,
    );
  });
});
