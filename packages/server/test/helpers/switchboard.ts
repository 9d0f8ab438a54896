/** Start a real Switchboard for a test: a real store (SQLite file or a fresh PostgreSQL schema), a real socket. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterEach, beforeEach } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { randomToken } from '../../src/ids.js';
import { createSwitchboard, type Switchboard, type SwitchboardConfig } from '../../src/server.js';
import { createPostgresStore } from '../../src/store/postgres/index.js';
import { createSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { type Receiver, startReceiver } from './receiver.js';

export const PG_URL =
  process.env['SWITCHBOARD_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_KEY = 'sk_test_switchboardTestKey0001';
export const LIVE_KEY = 'sk_live_switchboardLiveKey0001';

export type Engine = 'sqlite' | 'postgres';
export const ENGINES: Engine[] = ['sqlite', 'postgres'];

/** Remove a test's PostgreSQL schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export interface TestStore {
  store: Store;
  /** Drop what the test made; keep it when the test failed, for a look. */
  cleanup(failed: boolean): Promise<void>;
  describe: string;
}

export async function makeTestStore(engine: Engine): Promise<TestStore> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
    const path = join(dir, 'switchboard.db');
    const store = createSqliteStore({ path });
    return {
      store,
      describe: path,
      async cleanup(failed) {
        await store.close();
        if (!failed) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `sb_test_${randomToken(10).toLowerCase()}`;
  const store = createPostgresStore({ connectionString: PG_URL, schema });
  return {
    store,
    describe: `${PG_URL} schema ${schema}`,
    async cleanup(failed) {
      if (!failed) await dropSchema(schema);
      await store.close();
    },
  };
}

export interface Harness {
  sb: Switchboard;
  url: string;
  port: number;
  clock: ReturnType<typeof manualClock>;
  /** The official SDK pointed at this server. */
  stripe(key?: string): Stripe;
  /** A raw API call (for what the SDK cannot send, like publishing events). */
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  close(failed: boolean): Promise<void>;
  storeInfo: string;
}

/**
 * A server whose delivery engine does not run by itself: tests step it with
 * `sb.engine.runOnce()` and move `clock`.
 */
export async function startHarness(engine: Engine, config: SwitchboardConfig = {}): Promise<Harness> {
  const ts = await makeTestStore(engine);
  const clock = manualClock(Date.UTC(2026, 10, 28, 10, 0, 0));
  const sb = await createSwitchboard({
    store: ts.store,
    testKey: TEST_KEY,
    liveKey: LIVE_KEY,
    allowPrivateTargets: true,
    deliver: false,
    clock,
    random: () => 0.5,
    deliveryTimeoutMs: 2000,
    ...config,
  });
  const { url, port } = await sb.listen(0);
  return {
    sb,
    url,
    port,
    clock,
    storeInfo: ts.describe,
    stripe: (key = TEST_KEY) =>
      new Stripe(key, { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0, telemetry: false }),
    async api(method, path, body, headers = {}) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TEST_KEY}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
    },
    async close(failed) {
      await sb.close();
      await ts.cleanup(failed);
    },
  };
}

/**
 * A fresh harness and receiver for each test of the `describe` that calls
 * this; a failed test keeps its data to look at.
 */
export function harnessPerTest(engine: Engine, config: SwitchboardConfig = {}): { h: Harness; rx: Receiver } {
  const t = {} as { h: Harness; rx: Receiver };
  beforeEach(async () => {
    t.h = await startHarness(engine, config);
    t.rx = await startReceiver();
  });
  afterEach(async (ctx) => {
    await t.rx?.close();
    await t.h?.close(ctx.task.result?.state === 'fail');
  });
  return t;
}

/** The events a receiver got, each verified by the official SDK with `secret` on the harness's clock. */
export function verifiedEvents(h: Harness, rx: Receiver, secret: string, path?: string): Stripe.Event[] {
  return rx.requests
    .filter((r) => path === undefined || r.path === path)
    .map((r) =>
      stripeVerifier.webhooks.constructEvent(
        r.body,
        String(r.headers['stripe-signature']),
        secret,
        300,
        undefined,
        Math.floor(h.clock() / 1000),
      ),
    );
}

const stripeVerifier = new Stripe('sk_test_unused');
