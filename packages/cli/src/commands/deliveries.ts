/** `switchboard deliveries <evt_…|we_…>`: the delivery attempt log of an event or an endpoint. */

import type { DeliveryAttemptShape } from '@switchboard/server';
import type { Command } from 'commander';
import { clientFrom, type GlobalFlags } from '../globals.js';
import { cell, formatTime, out, outJson, renderTable, stdoutPalette, wantsJsonOutput } from '../output.js';
import { apiCommand, intFlag } from './common.js';
import { type ListObject, moreHint } from './events.js';

/** The attempt log as rows: the other side of the id given (endpoint for an event, event for an endpoint). */
export function attemptRows(attempts: readonly DeliveryAttemptShape[], of: 'event' | 'endpoint'): string[][] {
  const c = stdoutPalette();
  return attempts.map((a) => [
    formatTime(a.attempted_at_ms, 'ms'),
    of === 'event' ? a.webhook_endpoint : a.event,
    a.succeeded ? c.green(String(a.status_code)) : c.red(cell(a.status_code)),
    `${a.duration_ms} ms`,
    a.manual ? 'manual' : 'auto',
    a.succeeded ? '-' : cell(a.error),
  ]);
}

export function deliveriesCommand(): Command {
  return apiCommand(
    'deliveries',
    'Show the delivery attempts of an event or of a webhook endpoint, newest first.',
    [
      'switchboard deliveries evt_1Pq… --stripe-account acct_1PqR2sT3uV4wX5yZ',
      'switchboard deliveries we_1Pq… --limit 50',
      'switchboard deliveries evt_1Pq… --format json',
    ],
  )
    .argument('<id>', 'an event (evt_…) or a webhook endpoint (we_…)')
    .option('--limit <n>', 'how many (1-100, default 10)')
    .option('--starting-after <wa_…>', 'the page after this attempt')
    .action(async (id: string, flags: GlobalFlags & { limit?: string; startingAfter?: string }) => {
      const json = wantsJsonOutput(flags);
      const of = id.startsWith('evt_') ? 'event' : id.startsWith('we_') ? 'endpoint' : null;
      if (!of) throw new Error(`Expected an event id (evt_…) or a webhook endpoint id (we_…), got '${id}'.`);
      const limit = intFlag('--limit', flags.limit, 1, 100);
      const base = of === 'event' ? '/v1/events' : '/v1/webhook_endpoints';
      const list = await clientFrom(flags).request<ListObject<DeliveryAttemptShape>>(
        'GET',
        `${base}/${encodeURIComponent(id)}/delivery_attempts`,
        {
          ...(limit !== undefined ? { limit } : {}),
          ...(flags.startingAfter ? { starting_after: flags.startingAfter } : {}),
        },
      );
      if (json) return outJson(list);
      if (list.data.length === 0) return out(`No delivery attempts for ${id} yet.`);
      out(
        renderTable(
          ['TIME', of === 'event' ? 'ENDPOINT' : 'EVENT', 'STATUS', 'DURATION', 'KIND', 'ERROR'],
          attemptRows(list.data, of),
        ),
      );
      const more = moreHint(list);
      if (more) out(more);
    });
}
