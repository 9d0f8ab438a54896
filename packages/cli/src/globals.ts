/** Options every API command shares, from flags first and the environment second. */

import type { Command } from 'commander';
import { ApiClient } from './client.js';

/** The port `switchboard serve` listens on by default (the server library's DEFAULT_PORT). */
export const DEFAULT_PORT = 12111;
export const DEFAULT_API_BASE = `http://127.0.0.1:${DEFAULT_PORT}`;

export interface GlobalFlags {
  apiKey?: string;
  apiBase?: string;
  stripeAccount?: string;
  format?: string;
  live?: boolean;
}

/** Add the shared flags to a command. */
export function withApiFlags(cmd: Command): Command {
  return cmd
    .option('--api-key <key>', 'API key (env SWITCHBOARD_API_KEY; SWITCHBOARD_LIVE_API_KEY with --live)')
    .option(
      '--api-base <url>',
      `Switchboard API address (env SWITCHBOARD_API_BASE, default ${DEFAULT_API_BASE})`,
    )
    .option('--stripe-account <acct_…>', 'act as this connected account')
    .option('--format <format>', 'output format: text or json', 'text')
    .option('--live', 'use live mode (a sk_live_ key)');
}

/** Build a client from the flags. Throws with one clear line when no usable key is configured. */
export function clientFrom(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): ApiClient {
  const key =
    flags.apiKey ?? (flags.live ? env['SWITCHBOARD_LIVE_API_KEY'] : undefined) ?? env['SWITCHBOARD_API_KEY'];
  if (!key) {
    throw new Error(
      'No API key: pass --api-key or set SWITCHBOARD_API_KEY (switchboard serve prints the keys on its first start).',
    );
  }
  if (flags.live && !key.startsWith('sk_live_')) {
    throw new Error(
      '--live needs a live key (sk_live_…): pass it with --api-key or SWITCHBOARD_LIVE_API_KEY.',
    );
  }
  return new ApiClient({
    apiBase: flags.apiBase ?? env['SWITCHBOARD_API_BASE'] ?? DEFAULT_API_BASE,
    apiKey: key,
    ...(flags.stripeAccount ? { stripeAccount: flags.stripeAccount } : {}),
  });
}
