/** Running a fixture from a command and reporting it: shared by `trigger` and `fixtures`. */

import {
  applyEdits,
  type CreatedEvent,
  type FixtureFile,
  type FixtureRun,
  parseEdit,
  runFixture,
} from '../fixtures/engine.js';
import { clientFrom, type GlobalFlags } from '../globals.js';
import { out, outJson, stdoutPalette, wantsJsonOutput } from '../output.js';

export interface EditFlags {
  override?: string[];
  add?: string[];
  remove?: string[];
  /** `--skip`: step names not run. */
  skip?: string[];
  /** `--api-version`: the `Stripe-Version` of every call. */
  apiVersion?: string;
}

/** The `--override/--add/--remove` flags, parsed and applied in that order. */
export function withEdits(file: FixtureFile, flags: EditFlags): FixtureFile {
  const edits = [
    ...(flags.override ?? []).map((e) => parseEdit('override', e)),
    ...(flags.add ?? []).map((e) => parseEdit('add', e)),
    ...(flags.remove ?? []).map((e) => parseEdit('remove', e)),
  ];
  return edits.length ? applyEdits(file, edits) : file;
}

/** Run a fixture with the command's flags, printing progress as the Stripe CLI does (text) or the result (json). */
export async function runAndReport(
  file: FixtureFile,
  flags: GlobalFlags & EditFlags,
  verb: 'Trigger' | 'Fixture',
): Promise<FixtureRun> {
  const json = wantsJsonOutput(flags);
  // Each step names its own Stripe-Account; --stripe-account is `${.account}`.
  const client = clientFrom({ ...flags, stripeAccount: undefined });
  const c = stdoutPalette();
  const run = await runFixture(file, {
    client,
    ...(flags.stripeAccount ? { account: flags.stripeAccount } : {}),
    ...(flags.skip?.length ? { skip: flags.skip } : {}),
    ...(flags.apiVersion ? { apiVersion: flags.apiVersion } : {}),
    onProgress: (p) => {
      if (json) return;
      if (p.kind === 'account') {
        out(
          p.reused
            ? `Using connected account ${p.account}, made by an earlier trigger (--stripe-account picks another)`
            : `This event happens on a connected account: created ${p.account}, which later triggers reuse (--stripe-account picks another)`,
        );
      } else if (p.kind === 'setup') out(`Setting up fixture for: ${p.step}`);
      else out(`Running fixture for: ${p.step}`);
    },
  });
  if (json) {
    outJson({
      account: run.account,
      created_account: run.createdAccount,
      events: run.events,
      responses: run.responses,
    });
  } else {
    out(c.green(`${verb} succeeded! Check the listen output or the delivery log for the event.`));
    reportEvents(run.events);
  }
  return run;
}

/** The events a run created, and how to see their deliveries. */
export function reportEvents(events: readonly CreatedEvent[]): void {
  const c = stdoutPalette();
  if (events.length === 0) {
    out('No event was created (the calls changed nothing that emits one).');
    return;
  }
  for (const e of events) out(`  ${e.id}  ${e.type}${e.account ? `  ${c.dim(`account ${e.account}`)}` : ''}`);
  const first = events[0]!;
  out(
    c.dim(
      `Delivery attempts: switchboard deliveries ${first.id}${first.account ? ` --stripe-account ${first.account}` : ''}`,
    ),
  );
}
