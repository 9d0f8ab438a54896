/** `switchboard keys list | create | revoke`: the platform's API keys of the mode of the key used. */

import type { Command } from 'commander';
import { clientFrom, type GlobalFlags } from '../globals.js';
import { formatTime, outResult, renderFields, renderTable, wantsJsonOutput } from '../output.js';
import { apiCommand, groupCommand } from './common.js';

interface ApiKeyShape {
  id: string;
  object: 'api_key';
  livemode: boolean;
  redacted: string;
  created: number;
  secret?: string;
}

export function keysCommand(): Command {
  const keys = groupCommand(
    'keys',
    'List, create and revoke the API keys of one mode (that of the key you use).',
    [
      'switchboard keys list',
      'switchboard keys create            # prints the new key once',
      'switchboard keys revoke key_3b1f…  # refused from now on, on every server',
      'switchboard keys create --live     # with a live key: another live key',
    ],
  );
  keys.addCommand(
    apiCommand('list', 'List the API keys of your key’s mode (their last four characters only).', [
      'switchboard keys list',
    ]).action(async (flags: GlobalFlags) => {
      const list = await clientFrom(flags).request<{ data: ApiKeyShape[] }>('GET', '/v1/api_keys');
      outResult(wantsJsonOutput(flags), list, (l) =>
        renderTable(
          ['ID', 'KEY', 'CREATED'],
          l.data.map((k) => [k.id, k.redacted, formatTime(k.created)]),
        ),
      );
    }),
  );
  keys.addCommand(
    apiCommand('create', 'Create an API key of your key’s mode; the key is shown this once.', [
      'switchboard keys create',
    ]).action(async (flags: GlobalFlags) => {
      const key = await clientFrom(flags).request<ApiKeyShape>('POST', '/v1/api_keys');
      outResult(wantsJsonOutput(flags), key, (k) =>
        renderFields([
          ['ID', k.id],
          ['Key', k.secret ?? ''],
          ['Note', 'shown this once: only its hash is stored'],
        ]),
      );
    }),
  );
  keys.addCommand(
    apiCommand('revoke', 'Revoke an API key: requests with it are refused from now on.', [
      'switchboard keys revoke key_3b1f…',
    ])
      .argument('<id>', 'key id (key_…, from `switchboard keys list`)')
      .action(async (id: string, flags: GlobalFlags) => {
        const gone = await clientFrom(flags).request<{ id: string }>(
          'DELETE',
          `/v1/api_keys/${encodeURIComponent(id)}`,
        );
        outResult(wantsJsonOutput(flags), gone, (g) => `Revoked ${g.id}`);
      }),
  );
  return keys;
}
