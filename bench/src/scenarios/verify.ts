/**
 * Scenario 6, signature verification on the receiver side: verify and parse
 * one signed event of 1 KB, 16 KB and 128 KB with
 * - @switchboard/webhooks `constructEvent` (node:crypto) and
 *   `constructEventAsync` (Web Crypto),
 * - the official `stripe` package's `webhooks.constructEvent` (the baseline)
 *   and `constructEventAsync`,
 * - `standardwebhooks` and `svix` (the Standard Webhooks scheme), when they
 *   are installed; otherwise their rows say so.
 *
 * Each cell is a calibrated loop: a warm-up, then batches sized to take
 * ≥ 10 ms each until the cell's time is spent; the median batch gives µs/op.
 * Payloads are Buffers, as a receiver reading the raw body has them.
 */

import { randomBytes } from 'node:crypto';
import { buildSignatureHeader, constructEvent, constructEventAsync } from '@switchboard/webhooks';
import Stripe from 'stripe';
import { now } from '../clock.js';
import type { Context } from '../context.js';
import { eventEnvelope, sizedObject } from '../payloads.js';
import { type Row, row } from '../results.js';
import { fixed, int, median } from '../stats.js';

const SIZES = [
  { label: '1 KB', bytes: 1024 },
  { label: '16 KB', bytes: 16 * 1024 },
  { label: '128 KB', bytes: 128 * 1024 },
];

// Written to after every call so the optimiser cannot drop a call whose result is unused.
let sink: unknown;

interface Cell {
  usPerOp: number;
  opsPerSec: number;
}

async function timeBatch(fn: () => unknown, isAsync: boolean, n: number): Promise<number> {
  const t0 = now();
  if (isAsync) for (let i = 0; i < n; i++) sink = await fn();
  else for (let i = 0; i < n; i++) sink = fn();
  return now() - t0;
}

export async function measureOps(fn: () => unknown, isAsync: boolean, seconds: number): Promise<Cell> {
  const warmEnd = now() + Math.max(50, seconds * 250);
  while (now() < warmEnd) await timeBatch(fn, isAsync, 16);
  let n = 1;
  while ((await timeBatch(fn, isAsync, n)) < 10 && n < 1 << 24) n *= 2;
  const perOp: number[] = [];
  const end = now() + seconds * 1000;
  while (now() < end || perOp.length < 5) perOp.push(((await timeBatch(fn, isAsync, n)) * 1000) / n);
  const usPerOp = median(perOp);
  return { usPerOp, opsPerSec: 1e6 / usPerOp };
}

interface StandardWebhook {
  sign(msgId: string, timestamp: Date, payload: string | Buffer): string;
  verify(payload: string | Buffer, headers: Record<string, string>): unknown;
}
type StandardWebhookClass = new (secret: string) => StandardWebhook;

/** An optional package's `Webhook` class, or why it is unavailable (not a dependency: loaded by name). */
async function webhookClass(name: string): Promise<StandardWebhookClass | string> {
  try {
    const mod = (await import(name)) as { Webhook?: unknown; default?: { Webhook?: unknown } };
    const cls = mod.Webhook ?? mod.default?.Webhook;
    return typeof cls === 'function' ? (cls as StandardWebhookClass) : `${name} has no Webhook export`;
  } catch {
    return `${name} is not installed (npm install -D ${name})`;
  }
}

interface Implementation {
  name: string;
  isAsync: boolean;
  /** Verify-and-parse of `payload`; prepared per size (signatures are made for that payload). */
  prepare(payload: Buffer, id: string): (() => unknown) | string;
}

export async function verification(ctx: Context): Promise<Row[]> {
  const seconds = ctx.knob('BENCH_VERIFY_SECONDS');
  // A secret both schemes accept: Standard Webhooks wants base64 after the prefix.
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const stripe = new Stripe('sk_test_bench_not_used_for_requests');
  const stdWebhooks = await webhookClass('standardwebhooks');
  const svix = await webhookClass('svix');

  const stripeHeader = (payload: Buffer) =>
    buildSignatureHeader({ payload, secrets: [secret], timestamp: Math.floor(Date.now() / 1000) });
  const standardScheme =
    (cls: StandardWebhookClass | string) =>
    (payload: Buffer, id: string): (() => unknown) | string => {
      if (typeof cls === 'string') return cls;
      const wh = new cls(secret);
      const ts = new Date();
      const signature = wh.sign(id, ts, payload);
      const seconds = String(Math.floor(ts.getTime() / 1000));
      // Both header spellings: svix reads svix-*, standardwebhooks webhook-*.
      const headers = {
        'webhook-id': id,
        'webhook-timestamp': seconds,
        'webhook-signature': signature,
        'svix-id': id,
        'svix-timestamp': seconds,
        'svix-signature': signature,
      };
      return () => wh.verify(payload, headers);
    };

  const implementations: Implementation[] = [
    {
      name: 'stripe webhooks.constructEvent',
      isAsync: false,
      prepare: (payload) => {
        const header = stripeHeader(payload);
        return () => stripe.webhooks.constructEvent(payload, header, secret);
      },
    },
    {
      name: '@switchboard/webhooks constructEvent',
      isAsync: false,
      prepare: (payload) => {
        const header = stripeHeader(payload);
        return () => constructEvent(payload, header, secret);
      },
    },
    {
      name: '@switchboard/webhooks constructEventAsync',
      isAsync: true,
      prepare: (payload) => {
        const header = stripeHeader(payload);
        return () => constructEventAsync(payload, header, secret);
      },
    },
    {
      name: 'stripe webhooks.constructEventAsync',
      isAsync: true,
      prepare: (payload) => {
        const header = stripeHeader(payload);
        return () => stripe.webhooks.constructEventAsync(payload, header, secret);
      },
    },
    { name: 'standardwebhooks Webhook.verify', isAsync: false, prepare: standardScheme(stdWebhooks) },
    { name: 'svix Webhook.verify', isAsync: false, prepare: standardScheme(svix) },
  ];

  const rows: Row[] = [];
  for (const size of SIZES) {
    ctx.log(`verification, ${size.label}`);
    const id = `evt_${randomBytes(12).toString('hex')}`;
    const payload = Buffer.from(eventEnvelope('payout.paid', sizedObject(size.bytes), id));
    let baseline: Cell | null = null;
    for (const impl of implementations) {
      const fn = impl.prepare(payload, id);
      const scenario = `verify ${size.label}`;
      if (typeof fn === 'string') {
        rows.push(row({ scenario, measure: impl.name, value: 'skipped', notes: fn }));
        continue;
      }
      // A verifier that does not return this event is measuring something else.
      const event = (impl.isAsync ? await fn() : fn()) as { id?: unknown } | null;
      if (event?.id !== id) throw new Error(`${impl.name} did not return the event`);
      const cell = await measureOps(fn, impl.isAsync, seconds);
      baseline ??= cell;
      rows.push(
        row({
          scenario,
          measure: `${impl.name}, µs/op`,
          value: `${fixed(cell.usPerOp, 1)} µs (${int(cell.opsPerSec)}/s)`,
          baseline: `${fixed(baseline.usPerOp, 1)} µs (stripe constructEvent)`,
          ratio: `${fixed(baseline.usPerOp / cell.usPerOp, 2)}× stripe's speed`,
          notes: `${int(payload.length)} B payload`,
        }),
      );
    }
  }
  void sink;
  return rows;
}
