/** `switchboard fixtures <file>`: run a fixture file of your own. */

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseFixture } from '../fixtures/engine.js';
import type { GlobalFlags } from '../globals.js';
import { apiCommand } from './common.js';
import { type EditFlags, runAndReport, withEdits } from './fixtureRun.js';
import { withEditFlags } from './trigger.js';

export function fixturesCommand(): Command {
  return withEditFlags(
    apiCommand(
      'fixtures',
      'Run a fixture file: API calls made in order, each able to refer to the responses of earlier ones.',
      [
        'switchboard fixtures ./onboarding.json',
        'switchboard fixtures ./onboarding.json --stripe-account acct_1PqR2sT3uV4wX5yZ',
        'switchboard fixtures ./onboarding.json --override account:email=new@example.com --format json',
        'cp "$(npm root -g)/@switchboard/cli/fixtures/payout.failed.json" ./my-payout.json  # start from a shipped one',
      ],
    ),
  )
    .addHelpText(
      'after',
      `
Fixture file (the Stripe CLI's format; its files run as they are):
  {"_meta": {"template_version": 0},
   "fixtures": [{"name": "customer", "path": "/v1/customers", "method": "post", "params": {"email": "a@b.co"},
                 "idempotency_key": "\${generate-uuid}", "headers": {"X-Test": "1"}, "expected_error_type": …}]}
Every step acts as --stripe-account's account, else as the platform; "stripe_account": "acct_…" (or null,
the platform) on a step overrides that; "_meta": {"requires_account": true} makes the run use a connected
account (made once, then reused) when --stripe-account names none.
References in any string: \${step:json.path} (an earlier response, e.g. \${payout:data.object.id}),
\${.account} (the run's connected account), \${.self} (the account the run acts as), \${.env:NAME},
\${.livemode}, \${.now} (unix seconds), \${.id:prefix} (a fresh id such as po_…), \${generate-uuid},
\${time-now-RFC3339}, \${ref|fallback}. A string that is exactly one reference keeps the value's JSON type.`,
    )
    .argument('<file>', 'fixture JSON file ({"_meta": {"template_version": 0}, "fixtures": [...]})')
    .action(async (file: string, flags: GlobalFlags & EditFlags) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new Error(
          `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      await runAndReport(withEdits(parseFixture(text, file), flags), flags, 'Fixture');
    });
}
