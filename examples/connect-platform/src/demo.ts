/**
 * `npm run demo`: the whole system in one command. A Switchboard server on
 * SQLite, the reference platform, a Connect endpoint pointing at it, and the
 * seven recommended Connect events triggered for one connected account with
 * the `switchboard` CLI (real calls: every object they name exists); after
 * each, what the platform did with the object it fetched as the account.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSwitchboard, generateApiKey } from '@switchboard/server';
import { startPlatform } from './platform.js';

const CLI = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`switchboard ${args.join(' ')}: ${err.trim()}`)),
    );
  });
}

const line = (s = '') => process.stdout.write(`${s}\n`);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-demo-'));
  const key = generateApiKey(false);
  const sb = await createSwitchboard({
    databaseUrl: `sqlite:${join(dir, 'switchboard.db')}`,
    testKey: key,
    allowPrivateTargets: true,
  });
  const { url: apiBase } = await sb.listen(0);
  const env = { SWITCHBOARD_API_KEY: key, SWITCHBOARD_API_BASE: apiBase };
  line(`Switchboard on ${apiBase} (SQLite in ${dir})`);

  const port = await freePort();
  const endpoint = JSON.parse(
    await cli(
      [
        'webhook-endpoints',
        'create',
        '--url',
        `http://127.0.0.1:${port}/webhooks/connect`,
        '--events',
        '*',
        '--connect',
        '--format',
        'json',
      ],
      env,
    ),
  ) as { id: string; secret: string };
  const platform = await startPlatform({
    dbPath: join(dir, 'platform.db'),
    secret: endpoint.secret,
    livemode: 'test-only',
    port,
    // Each handler acts on the object as the API has it now, fetched as the connected account.
    catchUp: { apiBase, apiKey: key },
    refetch: true,
  });
  line(`Reference platform on ${platform.url}, Connect endpoint ${endpoint.id}`);
  const account = JSON.parse(
    await cli(
      ['accounts', 'create', '--type', 'express', '--email', 'seller@example.com', '--format', 'json'],
      env,
    ),
  ) as {
    id: string;
  };
  line(`Connected account ${account.id}`);
  line();

  let seen = 0;
  async function show(title: string): Promise<void> {
    // Wait for the platform to act on what was just sent (deliveries are asynchronous).
    const deadline = Date.now() + 15_000;
    let actions = platform.actions();
    while (actions.length <= seen && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      actions = platform.actions();
    }
    await new Promise((r) => setTimeout(r, 150));
    actions = platform.actions();
    line(`▶ ${title}`);
    for (const a of actions.slice(seen)) line(`    ${a.type.padEnd(34)} ${a.summary}`);
    seen = actions.length;
  }

  const trigger = (event: string, ...extra: string[]) =>
    cli(['trigger', event, '--stripe-account', account.id, ...extra], env);
  await trigger('account.updated');
  await show('account.updated: onboarding progressed');
  await trigger('person.updated');
  await show('person.updated: a representative’s verification changed');
  await trigger('account.external_account.updated');
  await show('account.external_account.updated: the payout destination changed');
  await trigger('balance.available');
  await show('balance.available: funds became available');
  await platform.createOrder({ id: 'order_1001', amount: 2000, currency: 'usd', account: account.id });
  await trigger('payment_intent.succeeded', '--add', 'payment_intent:metadata.order_id=order_1001');
  await show('payment_intent.succeeded: order_1001 is paid');
  await trigger('payout.failed');
  await show('payout.failed: the bank account was closed');
  await cli(['accounts', 'deauthorize', account.id], env);
  await show('account.application.deauthorized: the account disconnected the platform');

  line();
  const state = platform.state();
  const acct = state.accounts.find((a) => a['id'] === account.id);
  line(
    `Platform state for ${account.id}: status ${String(acct?.['status'])}, orders ${JSON.stringify(state.orders.map((o) => [o['id'], o['status']]))}`,
  );
  line(
    `See everything: ${platform.url}/state (while running) — delivery log: switchboard deliveries ${endpoint.id}`,
  );

  await platform.close();
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
