/**
 * The bare relay: the hops Switchboard makes, without storage. It accepts
 * `POST /v1/events` (checks the bearer key, parses the JSON body, builds the
 * event and answers with it), then signs the event and POSTs it with undici
 * to the one endpoint it was started with, at most `inFlight` at a time. No
 * database, no routing, no retries: the throughput baseline "the server is
 * compared with a relay doing the same work minus durability".
 *
 * Usage: node relayProcess.js <endpoint url> <key> <in flight>
 * Prints `listening on http://127.0.0.1:<port>` when ready.
 */

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSignatureHeader } from '@switchboard/webhooks';
import { Pool } from 'undici';
import { DELIVERY_HEADERS } from './payloads.js';

const [endpoint = '', key = '', inFlightArg = '32'] = process.argv.slice(2);
const target = new URL(endpoint);
const inFlight = Number(inFlightArg);
const pool = new Pool(target.origin, { connections: inFlight });
const secret = `whsec_${randomBytes(24).toString('base64')}`;
const auth = `Bearer ${key}`;

const queue: string[] = [];
let sending = 0;

function pump(): void {
  while (sending < inFlight && queue.length > 0) {
    const body = queue.shift()!;
    sending++;
    const signature = buildSignatureHeader({
      payload: body,
      secrets: [secret],
      timestamp: Math.floor(Date.now() / 1000),
      extraSchemes: { v0: randomBytes(32).toString('hex') },
    });
    pool
      .request({
        method: 'POST',
        path: target.pathname,
        headers: { ...DELIVERY_HEADERS, 'stripe-signature': signature },
        body,
      })
      .then((res) => res.body.text())
      .catch(() => {})
      .finally(() => {
        sending--;
        pump();
      });
  }
}

let n = 0;
const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/events' || req.headers.authorization !== auth) {
    res.writeHead(req.headers.authorization === auth ? 404 : 401).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let input: { type?: string; data?: unknown };
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof input;
    } catch {
      res.writeHead(400).end();
      return;
    }
    const event = JSON.stringify(
      {
        id: `evt_relay${(n++).toString(36)}${randomBytes(6).toString('hex')}`,
        object: 'event',
        api_version: '2025-01-27.acacia',
        created: Math.floor(Date.now() / 1000),
        data: input.data,
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type: input.type,
      },
      null,
      2,
    );
    res.writeHead(200, { 'content-type': 'application/json' }).end(event);
    queue.push(event);
    pump();
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void pool.close().then(() => process.exit(0));
});
