/** `switchboard listen`: forward events to localhost, as `stripe listen` does. */

import { Command } from 'commander';
import { clientFrom, type GlobalFlags, withApiFlags } from '../globals.js';
import { colorEnabled, formatTime, palette, printable, wantsJsonOutput } from '../output.js';

interface ListenFlags extends GlobalFlags {
  forwardTo?: string;
  forwardConnectTo?: string;
  events?: string;
  headers?: string;
  connectHeaders?: string;
  printSecret?: boolean;
  useConfiguredWebhooks?: boolean;
  skipVerify?: boolean;
}

export function listenCommand(): Command {
  return withApiFlags(new Command('listen'))
    .description(
      'Receive events over a websocket and forward them to local URLs, signed with the session secret.',
    )
    .option(
      '-f, --forward-to <url>',
      'where to POST account events (and Connect events without --forward-connect-to)',
    )
    .option('-c, --forward-connect-to <url>', 'where to POST Connect events (those with an `account`)')
    .option('-e, --events <types>', 'comma-separated event types to receive (default: all)')
    .option('-H, --headers <list>', 'extra headers for account events: "Name: value, Name2: value2"')
    .option('--connect-headers <list>', 'extra headers for Connect events')
    .option('--print-secret', 'print the session signing secret and exit')
    .option(
      '--use-configured-webhooks',
      'forward to the paths of the configured webhook endpoints (alias --load-from-webhooks-api)',
    )
    .option('--load-from-webhooks-api', 'same as --use-configured-webhooks')
    .option('--skip-verify', 'do not verify TLS certificates of the forward targets')
    .addHelpText(
      'after',
      `
Examples:
  $ switchboard listen --forward-to localhost:4242/webhook --forward-connect-to localhost:4242/connect
  $ switchboard listen --events account.updated,payout.failed --forward-to http://localhost:3000/hooks
  $ switchboard listen --print-secret
  $ switchboard listen          # no --forward-to: events are printed, not forwarded

The signing secret is the same every time for an API key, so it can live in your .env.
Events published while listen is not running wait for it (at most 1,000, of the last 24 hours) and arrive
when it starts again; listen says how many it is catching up on.
Several listens with one API key may run at once: each gets every event.
The official Stripe CLI works against the same server: stripe listen --api-base http://127.0.0.1:12111 …`,
    )
    .action(async (flags: ListenFlags & { loadFromWebhooksApi?: boolean }) => {
      // Loaded here so other commands start without the websocket and HTTP client.
      const { parseHeaderList, runListen } = await import('../listen/forwarder.js');
      const client = clientFrom(flags);
      const events = (flags.events ?? '')
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      const normalise = (u: string | undefined) => (u && !/^https?:\/\//.test(u) ? `http://${u}` : u);
      const forwardTo = normalise(flags.forwardTo);
      const forwardConnectTo = normalise(flags.forwardConnectTo);
      if (flags.printSecret) {
        const session = await client.request<{ secret: string }>('POST', '/v1/stripecli/sessions', {
          ...(events.length ? { events } : {}),
        });
        process.stdout.write(`${session.secret}\n`);
        return;
      }
      const useConfigured = Boolean(flags.useConfiguredWebhooks || flags.loadFromWebhooksApi);
      if (useConfigured && !forwardTo && !forwardConnectTo) {
        throw new Error(
          "--use-configured-webhooks forwards to the endpoints' paths on --forward-to's host: pass --forward-to.",
        );
      }
      const json = wantsJsonOutput(flags);
      const colour = palette(colorEnabled(process.stdout));
      const timestamp = () => formatTime(Date.now(), 'ms');
      const out = (line: string) => process.stdout.write(`${line}\n`);
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const spinner = process.stderr.isTTY ? setInterval(() => process.stderr.write('.'), 300) : null;
      if (process.stderr.isTTY) process.stderr.write('Getting ready');
      await runListen(
        {
          client,
          apiKey: client.apiKey,
          ...(flags.stripeAccount ? { stripeAccount: flags.stripeAccount } : {}),
          ...(forwardTo ? { forwardTo } : {}),
          ...(forwardConnectTo ? { forwardConnectTo } : {}),
          events,
          headers: parseHeaderList(flags.headers),
          connectHeaders: parseHeaderList(flags.connectHeaders ?? flags.headers),
          useConfiguredWebhooks: useConfigured,
          skipVerify: Boolean(flags.skipVerify),
          onReady({ secret, reconnect }) {
            if (spinner) {
              clearInterval(spinner);
              process.stderr.write('\n');
            }
            if (reconnect) {
              process.stderr.write(`${timestamp()}   Reconnected; events published meanwhile follow.\n`);
              return;
            }
            if (!json) out(`Ready! Your webhook signing secret is ${colour.bold(secret)} (^C to quit)`);
          },
          onCatchUp({ pending, dropped, maxAgeSeconds, maxEvents }) {
            if (pending === 0 && dropped === 0) return;
            process.stderr.write(
              `${timestamp()}   Catching up on ${pending} event${pending === 1 ? '' : 's'} published while no listen was running` +
                (dropped > 0
                  ? ` (${dropped} more dropped: a session keeps at most ${maxEvents} events of the last ${maxAgeSeconds / 3600} h)`
                  : '') +
                '\n',
            );
          },
          onEvent({ event, connect, payload }) {
            // What the server sent reaches the terminal only escaped (JSON, or printable()): no escape sequence passes.
            if (json) out(JSON.stringify(JSON.parse(payload)));
            else
              out(
                `${timestamp()}   --> ${connect ? 'connect ' : ''}${colour.bold(printable(String(event.type)))} [${printable(String(event.id))}]`,
              );
          },
          onResponse({ event, status, error, url, method }) {
            if (json) return;
            const shown = status === null ? `ERROR: ${printable(String(error))}` : String(status);
            const ok = status !== null && status >= 200 && status < 300;
            out(
              `${timestamp()}  <--  [${(ok ? colour.green : colour.red)(shown)}] ${method} ${url} [${printable(String(event.id))}]`,
            );
          },
          onDisconnect({ reason, retryInMs }) {
            process.stderr.write(
              `${timestamp()}   Connection lost${reason ? ` (${reason})` : ''}; reconnecting in ${retryInMs} ms…\n`,
            );
          },
        },
        controller.signal,
      );
    });
}
