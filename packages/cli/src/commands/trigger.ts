/** `switchboard trigger <event>`: run the shipped fixture for an event type, or publish `--raw` JSON. */

import type { Command } from 'commander';
import { listFixtureEvents, loadFixture } from '../fixtures/catalog.js';
import { parseFixture, publishRaw } from '../fixtures/engine.js';
import { clientFrom, type GlobalFlags } from '../globals.js';
import { out, outJson, stdoutPalette, wantsJsonOutput } from '../output.js';
import { apiCommand, collect } from './common.js';
import { type EditFlags, reportEvents, runAndReport, withEdits } from './fixtureRun.js';

interface TriggerFlags extends GlobalFlags, EditFlags {
  list?: boolean;
  raw?: string;
}

/** The Stripe CLI's fixture flags: `--override/--add/--remove`, `--skip`, `--api-version`. */
export function withEditFlags(cmd: Command): Command {
  return cmd
    .option(
      '--override <step:path=value>',
      "set a step's parameter, adding it if missing (repeatable)",
      collect,
    )
    .option('--add <step:path=value>', 'add a parameter a step does not have yet (repeatable)', collect)
    .option('--remove <step:path>', "remove a step's parameter (repeatable)", collect)
    .option('--skip <step>', 'do not run this step (repeatable)', collect)
    .option('--api-version <version>', 'send this Stripe-Version with every call');
}

export function triggerCommand(): Command {
  return withEditFlags(
    apiCommand(
      'trigger',
      "Trigger an event: run its fixture (real API calls that end in the event) on the platform's own account, on --stripe-account's, or for account, person, external account and capability events on a connected account made once and reused; or run --raw (a whole fixture, or an event to publish).",
      [
        'switchboard trigger --list',
        'switchboard trigger payout.failed',
        'switchboard trigger account.updated --stripe-account acct_1PqR2sT3uV4wX5yZ',
        'switchboard trigger payout.failed --override payout:data.object.failure_code=no_account',
        'switchboard trigger payment_intent.succeeded --add payment_intent:data.object.metadata.order_id=6735',
        'switchboard trigger person.updated --remove person:data.previous_attributes',
        `switchboard trigger --stripe-account acct_… --raw '{"type":"payout.failed","data":{"object":{"id":"po_1","object":"payout","status":"failed"}}}'`,
      ],
    ),
  )
    .argument('[event]', 'event type with a fixture, e.g. payout.failed (see --list)')
    .option('--list', 'list the events that have a fixture, one per line')
    .option(
      '--raw <json>',
      'a whole fixture ({"_meta": …, "fixtures": […]}) to run, or an event ({type, data: {object}}) to publish',
    )
    .action(async (event: string | undefined, flags: TriggerFlags) => {
      const json = wantsJsonOutput(flags);
      if (flags.list) {
        const events = listFixtureEvents();
        if (json) outJson(events);
        else out(events.join('\n'));
        return;
      }
      if (flags.raw !== undefined) {
        if (event) throw new Error('Pass either an event type or --raw, not both.');
        // A whole fixture, as the Stripe CLI's --raw takes it.
        if (/^\s*\{[\s\S]*"fixtures"\s*:/.test(flags.raw)) {
          await runAndReport(withEdits(parseFixture(flags.raw, '--raw'), flags), flags, 'Trigger');
          return;
        }
        if (flags.override || flags.add || flags.remove || flags.skip) {
          throw new Error(
            '--override, --add, --remove and --skip edit fixtures; --raw publishes an event as given.',
          );
        }
        const client = clientFrom({ ...flags, stripeAccount: undefined });
        const created = await publishRaw(client, flags.raw, flags.stripeAccount);
        if (json) outJson(created);
        else {
          out(
            stdoutPalette().green(
              'Trigger succeeded! Check the listen output or the delivery log for the event.',
            ),
          );
          reportEvents([created]);
        }
        return;
      }
      if (!event) {
        throw new Error(
          'Name an event to trigger (`switchboard trigger --list` shows them) or pass --raw <json>.',
        );
      }
      await runAndReport(withEdits(loadFixture(event), flags), flags, 'Trigger');
    });
}
