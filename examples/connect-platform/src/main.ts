#!/usr/bin/env node
/**
 * Run the reference platform:
 *
 *   WEBHOOK_SECRET=whsec_… PLATFORM_LIVEMODE=test-only PORT=4242 node dist/main.js
 *
 * PLATFORM_DB (default platform.db), PLATFORM_LIVEMODE (`live-only` in
 * production, `test-only` for a development endpoint, `both`).
 */

import type { LivemodePolicy } from '@switchboard/webhooks';
import { startPlatform } from './platform.js';

const secret = process.env['WEBHOOK_SECRET'];
if (!secret) {
  process.stderr.write('connect-platform: set WEBHOOK_SECRET to the Connect endpoint’s whsec_… secret\n');
  process.exit(1);
}
const livemode = (process.env['PLATFORM_LIVEMODE'] ?? 'live-only') as LivemodePolicy;
const platform = await startPlatform({
  dbPath: process.env['PLATFORM_DB'] ?? 'platform.db',
  secret,
  livemode,
  port: Number(process.env['PORT'] ?? 4242),
  ...(process.env['SWITCHBOARD_API_KEY']
    ? {
        catchUp: {
          apiBase: process.env['SWITCHBOARD_API_BASE'] ?? 'http://127.0.0.1:12111',
          apiKey: process.env['SWITCHBOARD_API_KEY'],
        },
      }
    : {}),
});
process.stdout.write(
  `connect-platform listening on ${platform.url} (webhooks at ${platform.url}/webhooks/connect, state at ${platform.url}/state)\n`,
);
const stop = () => {
  void platform.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
