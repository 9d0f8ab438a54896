/** The `switchboard` command: parses flags and calls library code, nothing more. */

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { accountsCommand } from './commands/accounts.js';
import { deliveriesCommand } from './commands/deliveries.js';
import { eventsCommand } from './commands/events.js';
import { fixturesCommand } from './commands/fixtures.js';
import { keysCommand } from './commands/keys.js';
import { listenCommand } from './commands/listen.js';
import { serveCommand } from './commands/serve.js';
import { triggerCommand } from './commands/trigger.js';
import { webhookEndpointsCommand } from './commands/webhookEndpoints.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function buildProgram(): Command {
  const program = new Command('switchboard')
    .description(
      'Self-hosted, Stripe-compatible Connect webhooks: run the server, listen, trigger and resend.',
    )
    .version(pkg.version, '-v, --version')
    .showHelpAfterError();
  program.addCommand(serveCommand());
  program.addCommand(triggerCommand());
  program.addCommand(fixturesCommand());
  program.addCommand(eventsCommand());
  program.addCommand(webhookEndpointsCommand());
  program.addCommand(accountsCommand());
  program.addCommand(deliveriesCommand());
  program.addCommand(keysCommand());
  program.addCommand(listenCommand());
  return program;
}

/** Run the CLI; resolves when a command finished (long-running commands resolve on shutdown). */
export async function main(argv: string[]): Promise<number | undefined> {
  await buildProgram().parseAsync(argv);
  return undefined;
}
