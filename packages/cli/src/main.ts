/** The `switchboard` command: parses flags and calls library code, nothing more. */

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { listenCommand } from './commands/listen.js';
import { serveCommand } from './commands/serve.js';

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
  program.addCommand(listenCommand());
  return program;
}

/** Run the CLI; resolves when a command finished (long-running commands resolve on shutdown). */
export async function main(argv: string[]): Promise<number | undefined> {
  await buildProgram().parseAsync(argv);
  return undefined;
}
