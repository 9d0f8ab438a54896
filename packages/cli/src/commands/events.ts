/** `switchboard events list|retrieve|resend`. */

import type { Command } from 'commander';
import { clientFrom, type GlobalFlags } from '../globals.js';
import {
  cell,
  formatTime,
  out,
  outJson,
  renderFields,
  renderTable,
  stdoutPalette,
  wantsJsonOutput,
} from '../output.js';
import { apiCommand, boolFlag, groupCommand, intFlag, retrieveCommand } from './common.js';

export interface EventObject {
  id: string;
  type: string;
  account?: string;
  api_version: string;
  created: number;
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
}

export interface ListObject<T> {
  object: 'list';
  has_more: boolean;
  data: T[];
}

/** A dim hint for the next page of a list. */
export function moreHint<T extends { id: string }>(list: ListObject<T>): string | null {
  const last = list.data[list.data.length - 1];
  return list.has_more && last ? stdoutPalette().dim(`More: add --starting-after ${last.id}`) : null;
}

interface ListFlags extends GlobalFlags {
  limit?: string;
  type?: string;
  deliverySuccess?: string;
  startingAfter?: string;
}

function eventFields(e: EventObject): string {
  const fields: [string, string][] = [
    ['ID', e.id],
    ['Type', e.type],
    ['Account', cell(e.account)],
    ['Created', formatTime(e.created)],
    ['Mode', e.livemode ? 'live' : 'test'],
    ['API version', e.api_version],
    ['Pending webhooks', String(e.pending_webhooks)],
    ['Request', cell(e.request.id)],
  ];
  let text = `${renderFields(fields)}\ndata.object:\n${JSON.stringify(e.data.object, null, 2)}`;
  if (e.data.previous_attributes) {
    text += `\ndata.previous_attributes:\n${JSON.stringify(e.data.previous_attributes, null, 2)}`;
  }
  return text;
}

export function eventsCommand(): Command {
  const events = groupCommand('events', 'List, inspect and resend events.', [
    'switchboard events list --type "account.*" --limit 20',
    'switchboard events list --delivery-success false --stripe-account acct_1PqR2sT3uV4wX5yZ',
    'switchboard events retrieve evt_1Pq… --stripe-account acct_1PqR2sT3uV4wX5yZ',
    'switchboard events resend evt_1Pq… --webhook-endpoint we_1Pq… --stripe-account acct_1PqR2sT3uV4wX5yZ',
  ]);

  events.addCommand(
    apiCommand('list', 'List events, newest first (a connected account’s with --stripe-account).', [
      'switchboard events list',
      'switchboard events list --type payout.failed --format json',
      'switchboard events list --delivery-success false',
    ])
      .option('--limit <n>', 'how many (1-100, default 10)')
      .option('--type <type>', 'an event type, or a prefix such as account.*')
      .option('--delivery-success <bool>', 'false: only events with a delivery pending or failed')
      .option('--starting-after <evt_…>', 'the page after this event')
      .action(async (flags: ListFlags) => {
        const json = wantsJsonOutput(flags);
        const limit = intFlag('--limit', flags.limit, 1, 100);
        const deliverySuccess = boolFlag('--delivery-success', flags.deliverySuccess);
        const list = await clientFrom(flags).request<ListObject<EventObject>>('GET', '/v1/events', {
          ...(limit !== undefined ? { limit } : {}),
          ...(flags.type ? { type: flags.type } : {}),
          ...(deliverySuccess !== undefined ? { delivery_success: deliverySuccess } : {}),
          ...(flags.startingAfter ? { starting_after: flags.startingAfter } : {}),
        });
        if (json) return outJson(list);
        if (list.data.length === 0) return out('No events.');
        out(
          renderTable(
            ['ID', 'TYPE', 'CREATED', 'PENDING'],
            list.data.map((e) => [e.id, e.type, formatTime(e.created), String(e.pending_webhooks)]),
          ),
        );
        const more = moreHint(list);
        if (more) out(more);
      }),
  );

  events.addCommand(
    retrieveCommand<EventObject>(
      'Show one event.',
      ['switchboard events retrieve evt_1Pq… --stripe-account acct_1PqR…'],
      'event id (evt_…)',
      (id) => `/v1/events/${encodeURIComponent(id)}`,
      eventFields,
    ),
  );

  events.addCommand(
    apiCommand(
      'resend',
      'Deliver an event again now, to one endpoint or to every endpoint it was sent to. Automatic retries continue.',
      [
        'switchboard events resend evt_1Pq… --webhook-endpoint we_1Pq…',
        'switchboard events resend evt_1Pq… --stripe-account acct_1PqR2sT3uV4wX5yZ',
      ],
    )
      .argument('<id>', 'event id (evt_…)')
      .option('--webhook-endpoint <we_…>', 'only this endpoint')
      .action(async (id: string, flags: GlobalFlags & { webhookEndpoint?: string }) => {
        const json = wantsJsonOutput(flags);
        // As `stripe events resend` does: the connected account goes in `account`, not the header.
        const client = clientFrom({ ...flags, stripeAccount: undefined });
        const event = await client.request<EventObject>(
          'POST',
          `/v1/events/${encodeURIComponent(id)}/retry`,
          {
            ...(flags.webhookEndpoint ? { webhook_endpoint: flags.webhookEndpoint } : {}),
            ...(flags.stripeAccount ? { account: flags.stripeAccount } : {}),
          },
        );
        if (json) return outJson(event);
        const target = flags.webhookEndpoint ?? 'every endpoint it was sent to';
        out(`Resent ${event.id} (${event.type}) to ${target}.`);
        out(
          stdoutPalette().dim(
            `Delivery attempts: switchboard deliveries ${event.id}${flags.stripeAccount ? ` --stripe-account ${flags.stripeAccount}` : ''}`,
          ),
        );
      }),
  );
  return events;
}
