/** `switchboard accounts list|retrieve|create|update|deauthorize`: the platform's connected accounts. */

import type { Command } from 'commander';
import { type JsonObject, parseAssignment, setPath } from '../fixtures/jsonPath.js';
import { clientFrom, type GlobalFlags } from '../globals.js';
import {
  cell,
  formatTime,
  out,
  outJson,
  outResult,
  renderFields,
  renderTable,
  stdoutPalette,
  wantsJsonOutput,
} from '../output.js';
import { apiCommand, collect, groupCommand, intFlag, retrieveCommand } from './common.js';
import { type ListObject, moreHint } from './events.js';

export interface AccountObject {
  id: string;
  type: string;
  email: string | null;
  country: string;
  created: number;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  details_submitted: boolean;
  requirements?: { currently_due?: string[]; disabled_reason?: string | null };
}

/** `--set key.path=value` flags → nested parameters (values are JSON when they parse, else text). */
export function paramsFromAssignments(assignments: readonly string[]): JsonObject {
  const params: JsonObject = {};
  for (const a of assignments) {
    const { path, value } = parseAssignment(a);
    setPath(params, path, value);
  }
  return params;
}

const yesNo = (b: boolean) => (b ? stdoutPalette().green('yes') : stdoutPalette().yellow('no'));

function accountFields(a: AccountObject): string {
  const due = a.requirements?.currently_due ?? [];
  return renderFields([
    ['ID', a.id],
    ['Type', a.type],
    ['Email', cell(a.email)],
    ['Country', a.country],
    ['Charges enabled', yesNo(a.charges_enabled)],
    ['Payouts enabled', yesNo(a.payouts_enabled)],
    ['Details submitted', yesNo(a.details_submitted)],
    ['Currently due', due.length ? due.join(', ') : '-'],
    ['Disabled reason', cell(a.requirements?.disabled_reason)],
    ['Created', formatTime(a.created)],
  ]);
}

const path = (id: string) => `/v1/accounts/${encodeURIComponent(id)}`;

export function accountsCommand(): Command {
  const group = groupCommand('accounts', "Manage the platform's connected accounts.", [
    'switchboard accounts create --type express --email seller@example.com',
    'switchboard accounts update acct_1Pq… --set charges_enabled=true --set payouts_enabled=true',
    'switchboard accounts list',
    'switchboard accounts deauthorize acct_1Pq…',
  ]);

  group.addCommand(
    apiCommand('list', 'List connected accounts, newest first.', ['switchboard accounts list --limit 50'])
      .option('--limit <n>', 'how many (1-100, default 10)')
      .option('--starting-after <acct_…>', 'the page after this account')
      .action(async (flags: GlobalFlags & { limit?: string; startingAfter?: string }) => {
        const json = wantsJsonOutput(flags);
        const limit = intFlag('--limit', flags.limit, 1, 100);
        const list = await clientFrom(flags).request<ListObject<AccountObject>>('GET', '/v1/accounts', {
          ...(limit !== undefined ? { limit } : {}),
          ...(flags.startingAfter ? { starting_after: flags.startingAfter } : {}),
        });
        if (json) return outJson(list);
        if (list.data.length === 0) return out('No connected accounts.');
        out(
          renderTable(
            ['ID', 'TYPE', 'EMAIL', 'COUNTRY', 'CHARGES', 'PAYOUTS', 'DETAILS', 'CREATED'],
            list.data.map((a) => [
              a.id,
              a.type,
              cell(a.email),
              a.country,
              yesNo(a.charges_enabled),
              yesNo(a.payouts_enabled),
              yesNo(a.details_submitted),
              formatTime(a.created),
            ]),
          ),
        );
        const more = moreHint(list);
        if (more) out(more);
      }),
  );

  group.addCommand(
    retrieveCommand<AccountObject>(
      'Show one connected account.',
      ['switchboard accounts retrieve acct_1Pq…'],
      'account id (acct_…)',
      path,
      accountFields,
    ),
  );

  group.addCommand(
    apiCommand(
      'create',
      'Create a connected account (it starts unable to charge or pay out, with requirements due).',
      [
        'switchboard accounts create',
        'switchboard accounts create --type custom --country DE --email seller@example.com',
        'switchboard accounts create --set business_profile.name="Rosen Ceramics" --set metadata.seller_id=42',
      ],
    )
      .option('--type <type>', 'standard, express or custom', 'express')
      .option('--email <email>', "the account holder's email")
      .option('--country <code>', 'two-letter country code (default US)')
      .option('--set <key=value>', 'any other parameter, dotted for nested ones (repeatable)', collect)
      .action(
        async (flags: GlobalFlags & { type: string; email?: string; country?: string; set: string[] }) => {
          const json = wantsJsonOutput(flags);
          const params = {
            type: flags.type,
            ...(flags.email !== undefined ? { email: flags.email } : {}),
            ...(flags.country !== undefined ? { country: flags.country } : {}),
            ...paramsFromAssignments(flags.set ?? []),
          };
          const account = await clientFrom(flags).request<AccountObject>('POST', '/v1/accounts', params);
          outResult(json, account, accountFields);
        },
      ),
  );

  group.addCommand(
    apiCommand(
      'update',
      'Update a connected account; a change sends account.updated. Also settable here: charges_enabled, payouts_enabled, details_submitted, requirements.',
      [
        'switchboard accounts update acct_1Pq… --set email=new@example.com',
        'switchboard accounts update acct_1Pq… --set charges_enabled=true --set payouts_enabled=true --set details_submitted=true',
        'switchboard accounts update acct_1Pq… --set requirements.currently_due=[] --set requirements.disabled_reason=null',
      ],
    )
      .argument('<id>', 'account id (acct_…)')
      .option(
        '--set <key=value>',
        'a parameter, dotted for nested ones; JSON values parse (repeatable)',
        collect,
        [],
      )
      .action(async (id: string, flags: GlobalFlags & { set?: string[] }) => {
        const json = wantsJsonOutput(flags);
        if (!flags.set) throw new Error('Nothing to update: pass --set key=value (repeatable).');
        const account = await clientFrom(flags).request<AccountObject>(
          'POST',
          path(id),
          paramsFromAssignments(flags.set),
        );
        outResult(json, account, accountFields);
      }),
  );

  group.addCommand(
    apiCommand(
      'deauthorize',
      'Disconnect an account from the platform: sends account.application.deauthorized, then no further events of the account reach the platform.',
      ['switchboard accounts deauthorize acct_1Pq…'],
    )
      .argument('<id>', 'account id (acct_…)')
      .action(async (id: string, flags: GlobalFlags) => {
        const json = wantsJsonOutput(flags);
        const res = await clientFrom(flags).request<{ id: string; deleted: boolean }>('DELETE', path(id));
        if (json) outJson(res);
        else
          out(
            `Deauthorized ${res.id}: account.application.deauthorized was sent to the platform's Connect endpoints.`,
          );
      }),
  );
  return group;
}
