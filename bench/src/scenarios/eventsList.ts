/**
 * Events API list filters with many events stored: GET /v1/events with each
 * filter Stripe has, timed per request against the same server's plain list
 * (no filter) in the same run. The events are written straight into the
 * database while the server is stopped (publishing a million through the API
 * would take minutes and measure nothing more): ten types in turn, fifty
 * events a second of `created`, one delivery each, delivered, except the ten
 * oldest, which failed (the rare, old match `delivery_success=false` has to
 * find).
 */

import Database from 'better-sqlite3';
import pg from 'pg';
import { ApiClient } from '../api.js';
import { now } from '../clock.js';
import type { Context } from '../context.js';
import { type Row, row } from '../results.js';
import { type Engine, freshDatabase, ServerProcess, TEST_KEY } from '../server.js';
import { fixed, int } from '../stats.js';

export const LIST_TARGET_MS = 10;

const TYPES = [
  'customer.created',
  'customer.updated',
  'payout.paid',
  'payout.failed',
  'account.updated',
  'charge.succeeded',
  'payment_intent.succeeded',
  'balance.available',
  'person.updated',
  'capability.updated',
];
/** Events per second of `created`. */
const PER_SECOND = 50;
const FIRST_CREATED = 1_750_000_000;
/** The oldest events whose delivery failed. */
const FAILED = 10;
const REQUESTS = 30;

function seedSqlite(path: string, accountId: string, events: number): void {
  const db = new Database(path);
  try {
    const typeCase = `CASE i % ${TYPES.length} ${TYPES.map((t, k) => `WHEN ${k} THEN '${t}'`).join(' ')} END`;
    db.exec('BEGIN');
    db.prepare(
      `INSERT INTO events (id, account_id, livemode, type, created_unix, body, request_id, idempotency_key)
       WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @events)
       SELECT 'evt_seed' || i, @account, 0, ${typeCase}, @first + i / ${PER_SECOND},
         '{"id":"evt_seed' || i || '","object":"event","pending_webhooks":0,"type":"' || ${typeCase} || '"}', NULL, NULL
       FROM n`,
    ).run({ events, account: accountId, first: FIRST_CREATED });
    db.prepare(
      `INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, created_at, delivered_at, listen)
       WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @events)
       SELECT 'wd_seed' || i, 'evt_seed' || i, 'we_seed', CASE WHEN i < ${FAILED} THEN 'failed' ELSE 'delivered' END,
         1, (@first + i / ${PER_SECOND}) * 1000, (@first + i / ${PER_SECOND}) * 1000, 0
       FROM n`,
    ).run({ events, first: FIRST_CREATED });
    db.exec('COMMIT');
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}

async function seedPostgres(databaseUrl: string, accountId: string, events: number): Promise<void> {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema')!;
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`SET search_path = ${pg.escapeIdentifier(schema)}`);
    const types = `(ARRAY[${TYPES.map((t) => `'${t}'`).join(',')}])[i % ${TYPES.length} + 1]`;
    await client.query(
      `INSERT INTO events (id, account_id, livemode, type, created_unix, body, request_id, idempotency_key)
       SELECT 'evt_seed' || i, $1, false, ${types}, $2 + i / ${PER_SECOND},
         '{"id":"evt_seed' || i || '","object":"event","pending_webhooks":0,"type":"' || ${types} || '"}', NULL, NULL
       FROM generate_series(0, $3 - 1) AS i`,
      [accountId, FIRST_CREATED, events],
    );
    await client.query(
      `INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, created_at, delivered_at, listen)
       SELECT 'wd_seed' || i, 'evt_seed' || i, 'we_seed', CASE WHEN i < ${FAILED} THEN 'failed' ELSE 'delivered' END,
         1, ($1::bigint + i / ${PER_SECOND}) * 1000, ($1::bigint + i / ${PER_SECOND}) * 1000, false
       FROM generate_series(0, $2 - 1) AS i`,
      [FIRST_CREATED, events],
    );
    await client.query('VACUUM ANALYZE events');
    await client.query('VACUUM ANALYZE deliveries');
  } finally {
    await client.end();
  }
}

/** Median and p95 of REQUESTS sequential GETs, after a few unmeasured ones; checks each answers 200. */
async function timeList(api: ApiClient, query: string): Promise<{ p50: number; p95: number; count: number }> {
  const path = `/v1/events?limit=10${query ? `&${query}` : ''}`;
  let count = 0;
  for (let i = 0; i < 3; i++) await api.request('GET', path);
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = now();
    const res = await api.request('GET', path);
    times.push(now() - t0);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text.slice(0, 200)}`);
    count = (JSON.parse(res.text) as { data: unknown[] }).data.length;
  }
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), count };
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function eventsList(ctx: Context, engine: Engine): Promise<Row> {
  const events = ctx.knob('BENCH_LIST_EVENTS');
  ctx.log(`[${engine}] events list: ${int(events)} events stored`);
  const { databaseUrl, drop } = await freshDatabase({ engine, pgUrl: ctx.options.pgUrl });
  let server: ServerProcess | null = null;
  let api: ApiClient | null = null;
  try {
    // A first start migrates the database and makes the platform; the events go in while no server runs.
    server = await ServerProcess.start({ engine, pgUrl: ctx.options.pgUrl, databaseUrl });
    api = new ApiClient(server.url, TEST_KEY, 2);
    const accountId = (JSON.parse((await api.request('GET', '/v1/account')).text) as { id: string }).id;
    await api.close();
    api = null;
    await server.stop();
    server = null;
    const seededAt = now();
    if (engine === 'sqlite') seedSqlite(databaseUrl.slice('sqlite:'.length), accountId, events);
    else await seedPostgres(databaseUrl, accountId, events);
    ctx.log(`  seeded in ${fixed((now() - seededAt) / 1000)} s`);
    server = await ServerProcess.start({ engine, pgUrl: ctx.options.pgUrl, databaseUrl });
    api = new ApiClient(server.url, TEST_KEY, 2);
    const middle = FIRST_CREATED + Math.floor(events / PER_SECOND / 2);
    const oldest = FIRST_CREATED;
    const filters: [name: string, query: string][] = [
      ['type (common)', 'type=customer.created'],
      ['type matching nothing', 'type=charge.refunded'],
      ['type prefix', 'type=customer.*'],
      ['types (two)', 'types[]=payout.paid&types[]=payout.failed'],
      ['created < middle', `created[lt]=${middle}`],
      ['created, oldest second', `created[gte]=${oldest}&created[lte]=${oldest}`],
      ['delivery_success=false (10 oldest)', 'delivery_success=false'],
      ['delivery_success=true', 'delivery_success=true'],
      ['type + created < middle', `type=payout.paid&created[lt]=${middle}`],
    ];
    const plain = await timeList(api, '');
    const results: string[] = [];
    let worst = { name: '', p50: 0 };
    for (const [name, query] of filters) {
      const t = await timeList(api, query);
      results.push(`${name} ${fixed(t.p50, 2)}/${fixed(t.p95, 2)} ms (${t.count} rows)`);
      if (t.p50 > worst.p50) worst = { name, p50: t.p50 };
    }
    await api.close();
    api = null;
    await server.stop();
    const serverErrors = server.errorNote();
    server = null;
    return row({
      scenario: `events list, ${int(events)} stored`,
      engine,
      measure: 'GET /v1/events?limit=10, slowest filter, median ms',
      value: `${fixed(worst.p50, 2)} (${worst.name})`,
      baseline: `${fixed(plain.p50, 2)} (no filter, same server)`,
      ratio: fixed(worst.p50 / plain.p50, 1),
      target: `every filter ≤ ${LIST_TARGET_MS} ms`,
      met: worst.p50 <= LIST_TARGET_MS,
      notes: [`median/p95 per filter: ${results.join('; ')}`, ...(serverErrors ? [serverErrors] : [])].join(
        '; ',
      ),
    });
  } finally {
    await api?.close();
    await server?.stop();
    await drop();
  }
}
