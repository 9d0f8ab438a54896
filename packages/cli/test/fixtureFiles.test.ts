// biome-ignore-all lint/suspicious/noTemplateCurlyInString: fixture references are written ${step:path}.
/**
 * The shipped fixtures: each `fixtures/<type>.json` is exactly what
 * `FIXTURE_FILES` (src/fixtures/objects.ts) serialises to, and every object a
 * fixture publishes is checked by the compiler against the `stripe`
 * package's type for that event type (`Stripe.PayoutFailedEvent` →
 * `data.object: Stripe.Payout`). `tsc -p tsconfig.test.json` fails when an
 * object drifts from Stripe's shape; this file fails when the JSON drifts
 * from the typed source.
 *
 * After editing objects.ts: `SWITCHBOARD_WRITE_FIXTURES=1 npx vitest run packages/cli/test/fixtureFiles.test.ts`.
 */

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, listFixtureEvents, loadFixture } from '../src/fixtures/catalog.js';
import { referencesIn, validateFixture } from '../src/fixtures/engine.js';
import { FIXTURE_FILES } from '../src/fixtures/objects.js';

const serialise = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

describe('shipped fixtures', () => {
  it('are the typed source, serialised (one file per event type, no strays)', () => {
    const expected = Object.keys(FIXTURE_FILES).sort();
    if (process.env['SWITCHBOARD_WRITE_FIXTURES'] === '1') {
      for (const f of readdirSync(FIXTURES_DIR))
        if (f.endsWith('.json')) {
          if (!expected.includes(f.slice(0, -5))) throw new Error(`stray fixture ${f}: remove it by hand`);
        }
      for (const type of expected)
        writeFileSync(join(FIXTURES_DIR, `${type}.json`), serialise(FIXTURE_FILES[type]));
    }
    expect(listFixtureEvents()).toEqual(expected);
    for (const type of expected) {
      expect(readFileSync(join(FIXTURES_DIR, `${type}.json`), 'utf8'), `${type}.json is stale`).toBe(
        serialise(FIXTURE_FILES[type]),
      );
    }
  });

  it('cover the seven recommended Connect events and more', () => {
    expect(listFixtureEvents()).toEqual(
      expect.arrayContaining([
        'account.application.deauthorized',
        'account.updated',
        'account.external_account.updated',
        'balance.available',
        'payment_intent.succeeded',
        'payout.failed',
        'person.updated',
        'customer.created',
        'charge.succeeded',
        'payout.paid',
        'payment_intent.payment_failed',
        'capability.updated',
      ]),
    );
  });

  it('each load and validate, and make real calls only: no step publishes an invented event', () => {
    for (const type of listFixtureEvents()) {
      const file = loadFixture(type);
      expect(validateFixture(JSON.parse(serialise(file)), type)).toEqual(file);
      for (const step of file.fixtures)
        expect(step.path, `${type}: step ${step.name}`).not.toBe('/v1/events');
    }
  });

  it('use only known references', () => {
    for (const type of listFixtureEvents()) {
      for (const ref of referencesIn(JSON.parse(serialise(loadFixture(type))))) {
        expect(ref).toMatch(
          /^(\.account|\.self|\.now|\.livemode|\.id:[a-z]+|generate-uuid|[a-z_]+:[a-z_.]+)$/,
        );
      }
    }
  });
});
