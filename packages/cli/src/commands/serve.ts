/** `switchboard serve`: run the server. Flags and environment variables map one-to-one onto SwitchboardConfig. */

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { SwitchboardConfig } from '@switchboard/server';
import { Command, Option } from 'commander';
import { DEFAULT_PORT } from '../globals.js';

export interface ServeFlags {
  port: string;
  host: string;
  database: string;
  testKey?: string;
  liveKey?: string;
  allowPrivateTargets?: boolean;
  retrySchedule?: string;
  disableAfter?: string;
  apiVersion?: string;
  nodeId?: string;
  publicUrl?: string;
  trustProxy?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  requestTimeout?: string;
  nodeLiveness?: string;
  maxConnections?: string;
  timeout: string;
  retentionDays: string;
  maxInFlight?: string;
  perEndpointConcurrency?: string;
  /** false with --no-deliver. */
  deliver?: boolean;
}

/** `--tls-cert` and `--tls-key`: both or neither, read now so a bad path fails the start. */
function tlsConfig(cert: string | undefined, key: string | undefined): Pick<SwitchboardConfig, 'tls'> {
  if (cert === undefined && key === undefined) return {};
  if (cert === undefined || key === undefined) throw new Error('--tls-cert and --tls-key go together.');
  const read = (path: string, flag: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(
        `${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      );
    }
  };
  return { tls: { cert: read(cert, '--tls-cert'), key: read(key, '--tls-key') } };
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number, got ${value}`);
  return n;
}

const truthy = (v: string | undefined) =>
  v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

/** Build the server configuration from flags, falling back to the environment. */
export async function serveConfig(
  flags: ServeFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SwitchboardConfig> {
  // Loaded on use: the other commands start without the server library.
  const { parseRetrySchedule } = await import('@switchboard/server');
  const testKey = flags.testKey ?? env['SWITCHBOARD_TEST_KEY'];
  const liveKey = flags.liveKey ?? env['SWITCHBOARD_LIVE_KEY'];
  const schedule = flags.retrySchedule ?? env['SWITCHBOARD_RETRY_SCHEDULE'];
  // A node's name outlives its process, so a restart takes back its own leases at once: host and port
  // name a node unless told otherwise (a port picked at random names nothing that comes back).
  const nodeId =
    flags.nodeId ??
    env['SWITCHBOARD_NODE_ID'] ??
    (Number(flags.port) > 0 ? `${hostname()}:${flags.port}` : undefined);
  const disableAfter = flags.disableAfter ?? env['SWITCHBOARD_DISABLE_AFTER'];
  let disableAfterMs: number | undefined;
  if (disableAfter !== undefined) {
    const parsed = (() => {
      try {
        return parseRetrySchedule(disableAfter);
      } catch {
        return [];
      }
    })();
    if (parsed.length !== 1 || parsed[0]! <= 0)
      throw new Error(`--disable-after must be one duration such as 3d or 12h, got ${disableAfter}`);
    disableAfterMs = parsed[0]!;
  }
  const timeout = Number(flags.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new Error(`--timeout must be a positive number of milliseconds, got ${flags.timeout}`);
  return {
    databaseUrl: flags.database,
    ...(testKey ? { testKey } : {}),
    ...(liveKey ? { liveKey } : {}),
    allowPrivateTargets:
      flags.allowPrivateTargets === true || truthy(env['SWITCHBOARD_ALLOW_PRIVATE_TARGETS']),
    ...(schedule ? { retrySchedule: parseRetrySchedule(schedule) } : {}),
    deliveryTimeoutMs: timeout,
    ...(disableAfterMs !== undefined ? { disableAfterMs } : {}),
    ...(nodeId ? { nodeId } : {}),
    ...(flags.nodeLiveness ? { nodeLivenessMs: positive(flags.nodeLiveness, '--node-liveness') } : {}),
    ...(flags.requestTimeout
      ? { requestTimeoutMs: positive(flags.requestTimeout, '--request-timeout') }
      : {}),
    ...(flags.maxConnections ? { maxConnections: positive(flags.maxConnections, '--max-connections') } : {}),
    ...((flags.publicUrl ?? env['SWITCHBOARD_PUBLIC_URL'])
      ? { publicUrl: (flags.publicUrl ?? env['SWITCHBOARD_PUBLIC_URL'])! }
      : {}),
    ...(flags.trustProxy === true || truthy(env['SWITCHBOARD_TRUST_PROXY']) ? { trustProxy: true } : {}),
    ...tlsConfig(flags.tlsCert ?? env['SWITCHBOARD_TLS_CERT'], flags.tlsKey ?? env['SWITCHBOARD_TLS_KEY']),
    ...((flags.apiVersion ?? env['SWITCHBOARD_API_VERSION'])
      ? { defaultApiVersion: (flags.apiVersion ?? env['SWITCHBOARD_API_VERSION'])! }
      : {}),
    retentionDays: positive(flags.retentionDays, '--retention-days'),
    ...(flags.maxInFlight ? { maxInFlight: positive(flags.maxInFlight, '--max-in-flight') } : {}),
    ...(flags.perEndpointConcurrency
      ? { perEndpointConcurrency: positive(flags.perEndpointConcurrency, '--per-endpoint-concurrency') }
      : {}),
    ...(flags.deliver === false || /^(0|false|no)$/i.test(env['SWITCHBOARD_DELIVER'] ?? '')
      ? { deliver: false }
      : {}),
    logger: {
      info: (m, f) => process.stderr.write(`${JSON.stringify({ level: 'info', msg: m, ...f })}\n`),
      warn: (m, f) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg: m, ...f })}\n`),
      error: (m, f) => process.stderr.write(`${JSON.stringify({ level: 'error', msg: m, ...f })}\n`),
    },
  };
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('Run the Switchboard server (API and delivery) on SQLite or PostgreSQL.')
    .addOption(
      new Option('-p, --port <port>', 'port to listen on')
        .env('SWITCHBOARD_PORT')
        .default(String(DEFAULT_PORT)),
    )
    .addOption(
      new Option('--host <host>', 'address to listen on').env('SWITCHBOARD_HOST').default('127.0.0.1'),
    )
    .addOption(
      new Option('--database <url>', 'sqlite:<path>, sqlite::memory: or postgres://…')
        .env('SWITCHBOARD_DATABASE_URL')
        .default('sqlite:switchboard.db'),
    )
    .option('--test-key <sk_test_…>', 'test-mode API key to accept (env SWITCHBOARD_TEST_KEY)')
    .option('--live-key <sk_live_…>', 'live-mode API key to accept (env SWITCHBOARD_LIVE_KEY)')
    .option(
      '--allow-private-targets',
      'deliver to private, loopback and link-local addresses (env SWITCHBOARD_ALLOW_PRIVATE_TARGETS)',
    )
    .option(
      '--retry-schedule <list>',
      'delays between attempts, e.g. 1s,2s,5s (env SWITCHBOARD_RETRY_SCHEDULE)',
    )
    .option(
      '--public-url <url>',
      'the origin clients reach the API at, behind a TLS proxy: listen sessions get wss:// on it (env SWITCHBOARD_PUBLIC_URL)',
    )
    .option(
      '--trust-proxy',
      "take the client's scheme and host from X-Forwarded-Proto/-Host (env SWITCHBOARD_TRUST_PROXY)",
    )
    .addOption(
      new Option(
        '--node-liveness <ms>',
        'PostgreSQL: a node unseen this long is dead; the others re-send its in-flight work (default 10000)',
      ).env('SWITCHBOARD_NODE_LIVENESS_MS'),
    )
    .addOption(
      new Option('--request-timeout <ms>', 'time a client has to send a whole request (default 30000)').env(
        'SWITCHBOARD_REQUEST_TIMEOUT_MS',
      ),
    )
    .addOption(
      new Option('--max-connections <n>', 'client connections open at once (default 1024)').env(
        'SWITCHBOARD_MAX_CONNECTIONS',
      ),
    )
    .option('--tls-cert <file>', 'speak HTTPS with this PEM certificate (env SWITCHBOARD_TLS_CERT)')
    .option('--tls-key <file>', "the certificate's PEM key (env SWITCHBOARD_TLS_KEY)")
    .option(
      '--node-id <name>',
      "this node's stable name (PostgreSQL: a restarted node takes back its in-flight deliveries at once; default host:port; env SWITCHBOARD_NODE_ID)",
    )
    .option(
      '--api-version <version>',
      "the accounts' default API version, stamped on events of endpoints without their own (default the newest; env SWITCHBOARD_API_VERSION)",
    )
    .option(
      '--disable-after <duration>',
      'disable an endpoint that answers no 2xx for this long, e.g. 3d (default; env SWITCHBOARD_DISABLE_AFTER)',
    )
    .addOption(
      new Option('--timeout <ms>', 'per-attempt delivery timeout')
        .env('SWITCHBOARD_DELIVERY_TIMEOUT_MS')
        .default('30000'),
    )
    .addOption(
      new Option('--retention-days <days>', 'keep events this long')
        .env('SWITCHBOARD_RETENTION_DAYS')
        .default('30'),
    )
    .addOption(
      new Option('--max-in-flight <n>', 'deliveries in flight on this node (default 256)').env(
        'SWITCHBOARD_MAX_IN_FLIGHT',
      ),
    )
    .addOption(
      new Option('--per-endpoint-concurrency <n>', 'deliveries in flight to one endpoint (default 32)').env(
        'SWITCHBOARD_PER_ENDPOINT_CONCURRENCY',
      ),
    )
    .option(
      '--no-deliver',
      'serve the API and store events, deliver nothing: an API node beside delivering nodes on one PostgreSQL database (env SWITCHBOARD_DELIVER=false)',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ switchboard serve --allow-private-targets
  $ switchboard serve --database postgres://postgres@127.0.0.1:5432/switchboard --port 8080
  $ SWITCHBOARD_RETRY_SCHEDULE=1s,2s,5s switchboard serve --allow-private-targets`,
    )
    .action(async (flags: ServeFlags) => {
      const { createSwitchboard } = await import('@switchboard/server');
      const sb = await createSwitchboard(await serveConfig(flags));
      const { url } = await sb.listen(Number(flags.port), flags.host);
      const out = process.stdout;
      out.write(`Switchboard listening on ${url} (${sb.store.engine})\n`);
      out.write(`Platform account ${sb.platform.id}, Connect application ${sb.platform.applicationId}\n`);
      if (sb.generatedKeys.test || sb.generatedKeys.live) {
        out.write('API keys generated for this database (shown once; only their hashes are stored):\n');
        if (sb.generatedKeys.test) out.write(`  test: ${sb.generatedKeys.test}\n`);
        if (sb.generatedKeys.live) out.write(`  live: ${sb.generatedKeys.live}\n`);
      } else if (!flags.testKey && !process.env['SWITCHBOARD_TEST_KEY']) {
        out.write(
          'Using the API keys printed when this database was created (pass --test-key to add one you choose).\n',
        );
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sb.close();
    });
}
