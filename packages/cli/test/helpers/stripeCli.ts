/**
 * The official Stripe CLI binary, run offline against a local server. It
 * comes from `@stripe/cli-linux-x64`, the package the `@stripe/cli` wrapper
 * installs on Linux x64; the project depends on it directly, as an optional
 * dependency (installs on other platforms skip it), so that the lock file
 * needs no other platform's package. Run with telemetry off, a temporary HOME
 * (it writes its config there), and every HTTPS request it would make on its
 * own (its check for a newer release) sent to a closed port on this machine,
 * so it never reaches out.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Spawned, spawnProcess } from './spawn.js';

const require = createRequire(import.meta.url);

/** Where the project installs the Stripe CLI: Linux on x64, as its machines and CI. */
export const STRIPE_CLI_PLATFORM = process.platform === 'linux' && process.arch === 'x64';

/** The binary the `@stripe/cli-linux-x64` package ships. */
export function stripeBinary(): string {
  return join(dirname(require.resolve('@stripe/cli-linux-x64/package.json')), 'bin', 'stripe');
}

export interface StripeCli {
  run(args: string[]): Spawned;
  cleanup(): void;
}

export function stripeCli(apiBase: string, apiKey: string): StripeCli {
  const home = mkdtempSync(join(tmpdir(), 'switchboard-stripe-cli-'));
  const env = {
    HOME: home,
    STRIPE_CLI_TELEMETRY_OPTOUT: '1',
    STRIPE_DEVICE_NAME: 'switchboard-test',
    // Port 9 (discard) is closed here: a request the CLI makes beyond the local server fails at once.
    HTTPS_PROXY: 'http://127.0.0.1:9',
    HTTP_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1,localhost',
  };
  const binary = stripeBinary();
  return {
    run: (args) => spawnProcess(binary, [...args, '--api-base', apiBase, '--api-key', apiKey], env),
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}
