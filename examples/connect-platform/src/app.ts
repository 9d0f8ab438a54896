/**
 * The platform's HTTP server: the Connect webhook endpoint, its state as
 * JSON, and orders (which `payment_intent.succeeded` fulfils).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PlatformDb } from './db.js';
import { platformState } from './state.js';

export interface PlatformServerOptions {
  db: PlatformDb;
  /** The webhook route's handler (the toolkit's node adapter). */
  webhook: (req: IncomingMessage, res: ServerResponse) => unknown;
  webhookPath?: string;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Build the server (not yet listening). */
export function createPlatformServer(options: PlatformServerOptions): Server {
  const { db } = options;
  const webhookPath = options.webhookPath ?? '/webhooks/connect';
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === webhookPath) {
      void options.webhook(req, res);
      return;
    }
    if (req.method === 'GET' && path === '/state') return json(res, 200, platformState(db));
    if (req.method === 'POST' && path === '/orders') {
      readJson(req).then(
        (body) => {
          const id = String(body['id'] ?? '');
          const amount = Number(body['amount']);
          if (!/^[\w-]{1,64}$/.test(id) || !Number.isSafeInteger(amount) || amount <= 0) {
            return json(res, 400, { error: 'an order needs an id and a positive integer amount' });
          }
          db.prepare(
            'INSERT INTO orders (id, account, amount, currency) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
          ).run(
            id,
            typeof body['account'] === 'string' ? body['account'] : null,
            amount,
            String(body['currency'] ?? 'usd'),
          );
          json(res, 200, db.prepare('SELECT * FROM orders WHERE id = ?').get(id));
        },
        () => json(res, 400, { error: 'invalid JSON' }),
      );
      return;
    }
    json(res, 404, { error: `no route ${req.method} ${path}` });
  });
}

/** Listen on 127.0.0.1; resolves with the base URL. */
export async function listen(server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
