// The behaviour every framework adapter shares, run against each framework
// for real. An adapter test supplies `mount`, which serves the webhook with
// the given options and returns a way to send it requests.
import type { Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ConnectEvent,
  createWebhookRouter,
  type Payout,
  type WebhookAdapterOptions,
  type WebhookContext,
} from '../src/index.js';
import { ACCOUNT, payoutFailed, signBody, signed } from './connectFixtures.js';
import { fixedNow, NOW_S, OTHER_SECRET, SECRET } from './support.js';

export interface SentResponse {
  status: number;
  headers: Headers;
  json: any;
  text: string;
}

export type Send = (body: string | Uint8Array, headers?: Record<string, string>) => Promise<SentResponse>;

export interface Mounted {
  send: Send;
  close: () => Promise<void>;
}

export type Mount = (options: WebhookAdapterOptions) => Promise<Mounted>;

/** Reads a fetch response into a {@link SentResponse}. */
export async function readResponse(response: Response): Promise<SentResponse> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** Listens on 127.0.0.1 at a random port; returns the base URL and a closer. */
export async function listen(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A `Send` that POSTs to a URL with fetch. */
export function fetchSender(url: string): Send {
  return async (body, headers = {}) =>
    readResponse(
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
        body,
      }),
    );
}

/** The shared suite: signatures, handler outcomes, livemode, rotation. */
export function describeAdapterContract(name: string, mount: Mount): void {
  describe(`${name}: adapter contract`, () => {
    let mounted: Mounted | undefined;
    const start = async (options: WebhookAdapterOptions) => {
      mounted = await mount(options);
      return mounted.send;
    };
    afterEach(async () => {
      await mounted?.close();
      mounted = undefined;
    });

    it('hands a valid signed event to onEvent and answers 200', async () => {
      const onEvent = vi.fn<(event: ConnectEvent, ctx: WebhookContext) => void>();
      const send = await start({ secret: SECRET, now: fixedNow, onEvent });
      const { body, header } = signed(payoutFailed);
      const response = await send(body, { 'stripe-signature': header });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ received: true });
      expect(onEvent).toHaveBeenCalledOnce();
      expect(onEvent).toHaveBeenCalledWith(payoutFailed, {
        account: ACCOUNT,
        livemode: false,
        isConnect: true,
      });
    });

    it('hands it to a typed router handler', async () => {
      const codes: (string | null)[] = [];
      const router = createWebhookRouter({ livemode: 'both' }).on('payout.failed', async (event) => {
        const payout: Payout = event.data.object;
        codes.push(payout.failure_code);
      });
      const send = await start({ secret: SECRET, now: fixedNow, router });
      const { body, header } = signed(payoutFailed);
      const response = await send(body, { 'stripe-signature': header });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ received: true, handled: true });
      expect(codes).toEqual(['account_closed']);
    });

    it('answers 400 with the code for a bad signature, without calling the handler', async () => {
      const onEvent = vi.fn();
      const onError = vi.fn();
      const send = await start({ secret: SECRET, now: fixedNow, onEvent, onError });
      const { body, header } = signed(payoutFailed, { secret: OTHER_SECRET });
      const response = await send(body, { 'stripe-signature': header });
      expect(response.status).toBe(400);
      expect(response.json).toEqual({
        error: { code: 'signature_mismatch', message: 'No signature matches the payload.' },
      });
      expect(onEvent).not.toHaveBeenCalled();
      expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: 'signature_mismatch' }), {
        status: 400,
        code: 'signature_mismatch',
      });
    });

    it('answers 400 for a stale timestamp and for a missing header', async () => {
      const onEvent = vi.fn();
      const send = await start({ secret: SECRET, now: fixedNow, onEvent });
      const stale = signed(payoutFailed, { timestamp: NOW_S - 301 });
      const tooOld = await send(stale.body, { 'stripe-signature': stale.header });
      expect(tooOld.status).toBe(400);
      expect(tooOld.json.error.code).toBe('timestamp_too_old');
      const missing = await send(stale.body);
      expect(missing.status).toBe(400);
      expect(missing.json.error.code).toBe('missing_header');
      expect(onEvent).not.toHaveBeenCalled();
    });

    it('honours the tolerance option', async () => {
      const send = await start({ secret: SECRET, now: fixedNow, tolerance: 600, onEvent: vi.fn() });
      const { body, header } = signed(payoutFailed, { timestamp: NOW_S - 301 });
      expect((await send(body, { 'stripe-signature': header })).status).toBe(200);
    });

    it('answers 400 invalid_payload for a correctly signed body that is not JSON', async () => {
      const onEvent = vi.fn();
      const send = await start({ secret: SECRET, now: fixedNow, onEvent });
      const body = '{"id": "evt_1", truncated';
      const response = await send(body, { 'stripe-signature': signBody(body) });
      expect(response.status).toBe(400);
      expect(response.json.error.code).toBe('invalid_payload');
      expect(onEvent).not.toHaveBeenCalled();
    });

    it('answers 500 when the handler throws, without leaking its message', async () => {
      const failure = new Error('database down: password=hunter2');
      const onError = vi.fn();
      const send = await start({
        secret: SECRET,
        now: fixedNow,
        onEvent: () => Promise.reject(failure),
        onError,
      });
      const { body, header } = signed(payoutFailed);
      const response = await send(body, { 'stripe-signature': header });
      expect(response.status).toBe(500);
      expect(response.json.error.code).toBe('handler_failed');
      expect(response.text).not.toContain('hunter2');
      expect(onError).toHaveBeenCalledWith(failure, {
        status: 500,
        code: 'handler_failed',
        event: payoutFailed,
      });
    });

    it('logs handler failures to console.error when there is no onError', async () => {
      const log = vi.spyOn(console, 'error').mockImplementation(() => {});
      try {
        const send = await start({
          secret: SECRET,
          now: fixedNow,
          onEvent: () => {
            throw new Error('boom');
          },
        });
        const { body, header } = signed(payoutFailed);
        expect((await send(body, { 'stripe-signature': header })).status).toBe(500);
        const bad = signed(payoutFailed, { secret: OTHER_SECRET });
        expect((await send(bad.body, { 'stripe-signature': bad.header })).status).toBe(400);
        // Only the 500 is logged: unauthenticated requests must not flood the log.
        expect(log).toHaveBeenCalledOnce();
      } finally {
        log.mockRestore();
      }
    });

    it('acknowledges a test event on a live-only router without calling the handler', async () => {
      const handler = vi.fn();
      const router = createWebhookRouter({ livemode: 'live-only' }).on('payout.failed', handler);
      const send = await start({ secret: SECRET, now: fixedNow, router });
      const { body, header } = signed(payoutFailed);
      const response = await send(body, { 'stripe-signature': header });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ received: true, handled: false, skipped: 'livemode' });
      expect(handler).not.toHaveBeenCalled();
      const liveEvent = signed({ ...payoutFailed, livemode: true });
      const again = await send(liveEvent.body, { 'stripe-signature': liveEvent.header });
      expect(again.json).toEqual({ received: true, handled: true });
      expect(handler).toHaveBeenCalledOnce();
    });

    it('accepts any of several secrets while one is rotated', async () => {
      const onEvent = vi.fn();
      const send = await start({ secrets: [OTHER_SECRET, SECRET], now: fixedNow, onEvent });
      const { body, header } = signed(payoutFailed);
      expect((await send(body, { 'stripe-signature': header })).status).toBe(200);
      expect(onEvent).toHaveBeenCalledOnce();
    });

    it('verifies the exact bytes, whitespace and non-ASCII included', async () => {
      const onEvent = vi.fn();
      const send = await start({ secret: SECRET, now: fixedNow, onEvent });
      const event = {
        ...payoutFailed,
        data: { object: { ...payoutFailed.data.object, description: 'Zoë 🚀 東京' } },
      };
      const body = JSON.stringify(event, null, 2);
      expect((await send(body, { 'stripe-signature': signBody(body) })).status).toBe(200);
      expect(onEvent.mock.calls[0]?.[0]).toEqual(event);
    });
  });
}
