/** `switchboard webhook-endpoints list|retrieve|create|update|delete|roll-secret`. */

import type { Command } from 'commander';
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
import { apiCommand, boolFlag, groupCommand, intFlag, listFlag, retrieveCommand } from './common.js';
import { type ListObject, moreHint } from './events.js';

export interface WebhookEndpointObject {
  id: string;
  object: 'webhook_endpoint';
  api_version: string | null;
  application: string | null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: boolean;
  metadata: Record<string, string>;
  status: 'enabled' | 'disabled';
  disabled_reason?: string | null;
  url: string;
  secret?: string;
}

const scope = (ep: WebhookEndpointObject) =>
  ep.application ? `Connect (events of connected accounts, application ${ep.application})` : 'account';

function endpointFields(ep: WebhookEndpointObject): string {
  const c = stdoutPalette();
  const fields: [string, string][] = [
    ['ID', ep.id],
    ['URL', ep.url],
    ['Scope', scope(ep)],
    [
      'Status',
      ep.status === 'enabled'
        ? c.green('enabled')
        : c.red(`disabled${ep.disabled_reason ? ` (${ep.disabled_reason})` : ''}`),
    ],
    ['Events', ep.enabled_events.join(', ')],
    ['Mode', ep.livemode ? 'live' : 'test'],
    ['Description', cell(ep.description)],
    ['API version', cell(ep.api_version)],
    ['Created', formatTime(ep.created)],
  ];
  if (ep.secret) fields.push(['Signing secret', `${c.bold(ep.secret)} (shown only now)`]);
  return renderFields(fields);
}

const path = (id: string) => `/v1/webhook_endpoints/${encodeURIComponent(id)}`;

export function webhookEndpointsCommand(): Command {
  const group = groupCommand(
    'webhook-endpoints',
    'Manage webhook endpoints (Connect endpoints with --connect).',
    [
      'switchboard webhook-endpoints create --url http://localhost:4242/connect --events account.updated,payout.failed --connect',
      'switchboard webhook-endpoints list',
      'switchboard webhook-endpoints update we_1Pq… --disabled true',
      'switchboard webhook-endpoints roll-secret we_1Pq… --expires-in 3600',
      'switchboard webhook-endpoints delete we_1Pq…',
    ],
  );

  group.addCommand(
    apiCommand('list', 'List webhook endpoints, newest first.', [
      'switchboard webhook-endpoints list',
      'switchboard webhook-endpoints list --live --format json',
    ])
      .option('--limit <n>', 'how many (1-100, default 10)')
      .option('--starting-after <we_…>', 'the page after this endpoint')
      .action(async (flags: GlobalFlags & { limit?: string; startingAfter?: string }) => {
        const json = wantsJsonOutput(flags);
        const limit = intFlag('--limit', flags.limit, 1, 100);
        const list = await clientFrom(flags).request<ListObject<WebhookEndpointObject>>(
          'GET',
          '/v1/webhook_endpoints',
          {
            ...(limit !== undefined ? { limit } : {}),
            ...(flags.startingAfter ? { starting_after: flags.startingAfter } : {}),
          },
        );
        if (json) return outJson(list);
        if (list.data.length === 0) return out('No webhook endpoints.');
        const c = stdoutPalette();
        out(
          renderTable(
            ['ID', 'URL', 'SCOPE', 'STATUS', 'EVENTS'],
            list.data.map((ep) => [
              ep.id,
              ep.url,
              ep.application ? 'connect' : 'account',
              ep.status === 'enabled' ? c.green(ep.status) : c.red(ep.status),
              ep.enabled_events.join(','),
            ]),
          ),
        );
        const more = moreHint(list);
        if (more) out(more);
      }),
  );

  group.addCommand(
    retrieveCommand<WebhookEndpointObject>(
      'Show one webhook endpoint.',
      ['switchboard webhook-endpoints retrieve we_1Pq…'],
      'webhook endpoint id (we_…)',
      path,
      endpointFields,
    ),
  );

  group.addCommand(
    apiCommand('create', 'Create a webhook endpoint; its signing secret is shown only in this response.', [
      'switchboard webhook-endpoints create --url http://localhost:4242/connect --events "*" --connect',
      'switchboard webhook-endpoints create --url https://example.com/hooks --events customer.created --description shop',
    ])
      .requiredOption('--url <url>', 'where to deliver (http or https)')
      .requiredOption('--events <a,b>', 'event types to send, comma-separated, or *')
      .option('--connect', "receive the events of the platform's connected accounts")
      .option('--description <text>', 'a note for yourself')
      .option('--api-version <version>', 'API version of the events sent to it')
      .action(
        async (
          flags: GlobalFlags & {
            url: string;
            events: string;
            connect?: boolean;
            description?: string;
            apiVersion?: string;
          },
        ) => {
          const json = wantsJsonOutput(flags);
          const ep = await clientFrom(flags).request<WebhookEndpointObject>('POST', '/v1/webhook_endpoints', {
            url: flags.url,
            enabled_events: listFlag(flags.events),
            ...(flags.connect ? { connect: true } : {}),
            ...(flags.description !== undefined ? { description: flags.description } : {}),
            ...(flags.apiVersion !== undefined ? { api_version: flags.apiVersion } : {}),
          });
          outResult(json, ep, endpointFields);
        },
      ),
  );

  group.addCommand(
    apiCommand('update', 'Change a webhook endpoint (its scope, Connect or not, is fixed at creation).', [
      'switchboard webhook-endpoints update we_1Pq… --events account.updated,payout.failed',
      'switchboard webhook-endpoints update we_1Pq… --disabled false',
    ])
      .argument('<id>', 'webhook endpoint id (we_…)')
      .option('--url <url>', 'new URL')
      .option('--events <a,b>', 'new event types, comma-separated, or *')
      .option('--description <text>', 'new description ("" removes it)')
      .option('--disabled <bool>', 'true to stop deliveries, false to resume them')
      .action(
        async (
          id: string,
          flags: GlobalFlags & { url?: string; events?: string; description?: string; disabled?: string },
        ) => {
          const json = wantsJsonOutput(flags);
          const disabled = boolFlag('--disabled', flags.disabled);
          const params = {
            ...(flags.url !== undefined ? { url: flags.url } : {}),
            ...(flags.events !== undefined ? { enabled_events: listFlag(flags.events) } : {}),
            ...(flags.description !== undefined ? { description: flags.description } : {}),
            ...(disabled !== undefined ? { disabled } : {}),
          };
          if (Object.keys(params).length === 0) {
            throw new Error('Nothing to update: pass --url, --events, --description or --disabled.');
          }
          const ep = await clientFrom(flags).request<WebhookEndpointObject>('POST', path(id), params);
          outResult(json, ep, endpointFields);
        },
      ),
  );

  group.addCommand(
    apiCommand('delete', 'Delete a webhook endpoint: it gets no further deliveries or retries.', [
      'switchboard webhook-endpoints delete we_1Pq…',
    ])
      .argument('<id>', 'webhook endpoint id (we_…)')
      .action(async (id: string, flags: GlobalFlags) => {
        const json = wantsJsonOutput(flags);
        const res = await clientFrom(flags).request<{ id: string; deleted: boolean }>('DELETE', path(id));
        if (json) outJson(res);
        else out(`Deleted ${res.id}.`);
      }),
  );

  group.addCommand(
    apiCommand(
      'roll-secret',
      'Issue a new signing secret; the current one keeps signing (next to it) for --expires-in seconds.',
      [
        'switchboard webhook-endpoints roll-secret we_1Pq…',
        'switchboard webhook-endpoints roll-secret we_1Pq… --expires-in 0   # the old secret stops at once',
      ],
    )
      .argument('<id>', 'webhook endpoint id (we_…)')
      .option('--expires-in <seconds>', 'how long the current secret stays valid (0-86400, default 86400)')
      .action(async (id: string, flags: GlobalFlags & { expiresIn?: string }) => {
        const json = wantsJsonOutput(flags);
        const expiresIn = intFlag('--expires-in', flags.expiresIn, 0, 86_400);
        const ep = await clientFrom(flags).request<WebhookEndpointObject>('POST', `${path(id)}/roll_secret`, {
          ...(expiresIn !== undefined ? { expires_in: expiresIn } : {}),
        });
        if (json) return outJson(ep);
        const overlap = expiresIn ?? 86_400;
        out(`New signing secret for ${ep.id}: ${stdoutPalette().bold(ep.secret ?? '')} (shown only now)`);
        out(
          overlap > 0
            ? `The previous secret keeps signing until ${formatTime(Math.floor(Date.now() / 1000) + overlap)}; deliveries carry a v1 signature for each.`
            : 'The previous secret no longer signs.',
        );
      }),
  );
  return group;
}
