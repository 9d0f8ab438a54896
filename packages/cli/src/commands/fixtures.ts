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
Fixture file:
  {"_meta": {"template_version": 0, "requires_account": true},
   "fixtures": [{"name": "payout", "path": "/v1/events", "method": "post",
                 "stripe_account": "\${.account}", "params": {"type": "payout.failed", "data": {"object": {…}}}}]}
References in any string: \${step:json.path} (an earlier response, e.g. \${payout:data.object.id}),
\${.account} (--stripe-account, or an account made when requires_account is true), \${.env:NAME},
\${.livemode}, \${.now} (unix seconds), \${.id:prefix} (a fresh id such as po_…), \${ref|fallback}.
A string that is exactly one reference keeps the value's JSON type.`,
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
