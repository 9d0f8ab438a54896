/**
 * The listen session protocol as the Stripe CLI speaks it (stripe-cli's
 * pkg/stripeauth and pkg/websocket): the session request with every
 * parameter it sends, the fields it reads, and the websocket dialled with
 * `Websocket-Id` only.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ListenSession, websocketDialUrl } from '../src/sessions/protocol.js';
import { type Harness, startHarness, TEST_KEY } from './helpers/switchboard.js';

describe('listen session protocol', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness('sqlite');
  });
  afterEach(async (ctx) => {
    await h.close(ctx.task.result?.state === 'fail');
  });

  /** The session request exactly as the Stripe CLI encodes it (url.Values.Encode: sorted, brackets escaped). */
  const stripeCliSession = async (extra = '') => {
    const res = await fetch(`${h.url}/v1/stripecli/sessions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_KEY}`,
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'Stripe/v1 stripe-cli/1.52.0',
      },
      body: `device_name=mybox&forward_connect_to_url=localhost%3A4242%2Fc&forward_to_url=localhost%3A4242%2Fw&websocket_features%5B%5D=webhooks&websocket_features%5B%5D=v2_events${extra}`,
    });
    return { status: res.status, body: (await res.json()) as ListenSession & { error?: { param: string } } };
  };

  const dial = (url: string, headers: Record<string, string>) =>
    new Promise<{ opened: boolean; status?: number; body?: string }>((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.on('open', () => {
        ws.close();
        resolve({ opened: true });
      });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ opened: false, status: res.statusCode!, body }));
      });
      ws.on('error', () => {});
    });

  it('accepts every parameter the Stripe CLI sends and answers every field it reads', async () => {
    const { status, body } = await stripeCliSession(
      '&forward_thin_to_url=localhost%3A4242%2Ft&forward_thin_connect_to_url=localhost%3A4242%2Ftc',
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      secret: expect.stringMatching(/^whsec_/),
      websocket_id: expect.stringMatching(/^lws_[0-9a-f]{64}$/),
      websocket_authorized_feature: 'webhooks',
      default_version: '2026-10-28.endive',
      latest_version: '2026-10-28.endive',
      display_connect_filter_warning: false,
      livemode: false,
    });
    expect(body.reconnect_delay).toBeGreaterThanOrEqual(60);
    expect(body.websocket_url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v1\/stripecli\/websocket$/);
    // The older CLIs' singular form too.
    const old = await fetch(`${h.url}/v1/stripecli/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'device_name=mybox&websocket_feature=webhooks',
    });
    expect(old.status).toBe(200);
  });

  it('still refuses what it does not know, naming it', async () => {
    const { status, body } = await stripeCliSession('&forward_to=oops');
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ param: 'forward_to' });
  });

  it('the websocket takes the session id as its only credential', async () => {
    const { body: session } = await stripeCliSession();
    const url = websocketDialUrl(session);
    expect(url).toMatch(/\?websocket_feature=webhooks$/);
    expect(await dial(url, { 'websocket-id': session.websocket_id })).toEqual({ opened: true });
    // The answer the Stripe CLI reads as "open a new session".
    const unknown = { opened: false, status: 401, body: '{"error":{"message":"Unknown WebSocket ID."}}' };
    expect(await dial(url, { 'websocket-id': `lws_${'0'.repeat(64)}` })).toEqual(unknown);
    expect(await dial(url, { 'websocket-id': 'garbage' })).toEqual(unknown);
    // The API key is no way in: it never has to travel on the websocket.
    expect(await dial(url, { authorization: `Bearer ${TEST_KEY}` })).toEqual(unknown);
  });

  it('a malformed frame ends that socket only: the server stays up', async () => {
    const { body: session } = await stripeCliSession();
    const { connect } = await import('node:net');
    for (const frame of [
      Buffer.from([0xc1, 0x80, 1, 2, 3, 4]), // RSV1 set
      Buffer.from([0x81, 0x02, 0x68, 0x69]), // not masked
      Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0, 0x90, 0, 0, 1, 2, 3, 4]), // 9 MiB announced, over the limit
    ]) {
      const socket = connect(h.port, '127.0.0.1');
      let answer = '';
      socket.on('data', (d) => {
        answer += d.toString('latin1');
        if (answer.includes('\r\n\r\n') && answer.startsWith('HTTP/1.1 101')) socket.write(frame);
      });
      socket.on('error', () => {});
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write(
        `GET /v1/stripecli/websocket?websocket_feature=webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nWebsocket-Id: ${session.websocket_id}\r\n\r\n`,
      );
      await closed;
      expect(answer.startsWith('HTTP/1.1 101')).toBe(true);
      expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    }
  });

  it('a session ended with DELETE is unknown to the websocket', async () => {
    const { body: session } = await stripeCliSession();
    const del = await h.api('DELETE', `/v1/stripecli/sessions/${session.id}`);
    expect(del.status).toBe(200);
    expect((await dial(websocketDialUrl(session), { 'websocket-id': session.websocket_id })).status).toBe(
      401,
    );
  });
});
