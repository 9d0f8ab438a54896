/**
 * The websocket is never weaker than the API: `serve` speaks HTTPS itself
 * and `switchboard listen` then dials `wss://` on the same origin; behind a
 * proxy the server builds `websocket_url` from its public URL; a client
 * refuses a `websocket_url` on another origin or in cleartext.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { websocketUrl } from '../../server/src/sessions/listenHub.js';
import { type Receiver, startReceiver } from '../../server/test/helpers/receiver.js';
import { checkWebsocketOrigin } from '../src/listen/forwarder.js';
import { type Spawned, spawnCli, until } from './helpers/spawn.js';

const KEY = 'sk_test_tlsListenKey00000001';

describe('websocketUrl', () => {
  const header = (h: Record<string, string>) => (name: string) => h[name];
  it.each<
    [string, { publicOrigin: string | null; trustProxy: boolean }, string, Record<string, string>, string]
  >([
    [
      'the request’s own origin',
      { publicOrigin: null, trustProxy: false },
      'http://127.0.0.1:12111/v1/x',
      { host: '127.0.0.1:12111' },
      'ws://127.0.0.1:12111/v1/stripecli/websocket',
    ],
    [
      'HTTPS itself',
      { publicOrigin: null, trustProxy: false },
      'https://127.0.0.1:8443/v1/x',
      { host: '127.0.0.1:8443' },
      'wss://127.0.0.1:8443/v1/stripecli/websocket',
    ],
    [
      'the public URL wins',
      { publicOrigin: 'https://sb.example.com', trustProxy: false },
      'http://10.0.0.5:12111/v1/x',
      { host: 'evil.example' },
      'wss://sb.example.com/v1/stripecli/websocket',
    ],
    [
      'forwarded headers ignored unless trusted',
      { publicOrigin: null, trustProxy: false },
      'http://127.0.0.1:12111/v1/x',
      { host: '127.0.0.1:12111', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'sb.example.com' },
      'ws://127.0.0.1:12111/v1/stripecli/websocket',
    ],
    [
      'forwarded headers of a trusted proxy',
      { publicOrigin: null, trustProxy: true },
      'http://127.0.0.1:12111/v1/x',
      { host: '127.0.0.1:12111', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'sb.example.com' },
      'wss://sb.example.com/v1/stripecli/websocket',
    ],
    [
      'a forwarded host that is not a host is not believed',
      { publicOrigin: null, trustProxy: true },
      'http://127.0.0.1:12111/v1/x',
      { host: '127.0.0.1:12111', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a.test/../x?y#' },
      'wss://127.0.0.1:12111/v1/stripecli/websocket',
    ],
  ])('%s', (_name, rt, url, headers, expected) => {
    expect(websocketUrl(rt, url, header(headers))).toBe(expected);
  });
});

describe('checkWebsocketOrigin', () => {
  it.each<[string, string, string, RegExp | null]>([
    ['same origin, http', 'ws://127.0.0.1:12111/v1/stripecli/websocket', 'http://127.0.0.1:12111', null],
    ['same origin, https', 'wss://sb.example.com/v1/stripecli/websocket', 'https://sb.example.com', null],
    [
      'a downgrade to ws:// under an https API',
      'ws://sb.example.com/v1/stripecli/websocket',
      'https://sb.example.com',
      /not wss:\/\/sb\.example\.com/,
    ],
    [
      'another host',
      'wss://evil.example/v1/stripecli/websocket',
      'https://sb.example.com',
      /Refusing the server's websocket_url wss:\/\/evil\.example/,
    ],
    ['another port', 'ws://127.0.0.1:9/ws', 'http://127.0.0.1:12111', /Refusing/],
    ['not a URL', 'garbage', 'http://127.0.0.1:12111', /not a URL/],
  ])('%s', (_name, ws, api, refused) => {
    if (refused) expect(() => checkWebsocketOrigin(ws, api)).toThrow(refused);
    else expect(() => checkWebsocketOrigin(ws, api)).not.toThrow();
  });
});

describe('listen over TLS', () => {
  let dir: string;
  let cert: string;
  let key: string;
  let rx: Receiver;
  const procs: Spawned[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'));
    cert = join(dir, 'cert.pem');
    key = join(dir, 'key.pem');
    // A self-signed certificate for 127.0.0.1, made for this test.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    rx = await startReceiver();
  });
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await rx?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const serve = async (extra: string[]) => {
    const p = spawnCli([
      'serve',
      '--port',
      '0',
      '--database',
      `sqlite:${join(dir, `sb-${procs.length}.db`)}`,
      '--test-key',
      KEY,
      '--allow-private-targets',
      ...extra,
    ]);
    procs.push(p);
    return (await p.waitForOutput(/listening on (https?:\/\/\S+)/))[1]!;
  };

  it('serve --tls-cert/--tls-key speaks HTTPS, and listen goes over wss:// end to end', async () => {
    const base = await serve(['--tls-cert', cert, '--tls-key', key]);
    expect(base).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const env = { SWITCHBOARD_API_KEY: KEY, SWITCHBOARD_API_BASE: base, NODE_EXTRA_CA_CERTS: cert };
    const listener = spawnCli(['listen', '--forward-to', `${rx.url}/tls`], env);
    procs.push(listener);
    await listener.waitForOutput(/Ready!/);
    const trigger = spawnCli(['trigger', 'customer.created', '--format', 'json'], env);
    procs.push(trigger);
    expect(await trigger.exited, trigger.stderr()).toBe(0);
    const { events } = JSON.parse(trigger.stdout()) as { events: { id: string }[] };
    await until(() => rx.requests.some((r) => JSON.parse(r.body.toString()).id === events[0]!.id));
    expect(listener.stdout()).toContain(`--> customer.created [${events[0]!.id}]`);
  });

  it('listen refuses a websocket_url on another origin, in one line, before dialling it', async () => {
    const base = await serve(['--public-url', 'https://switchboard.example.test']);
    const listener = spawnCli(['listen', '--forward-to', `${rx.url}/never`], {
      SWITCHBOARD_API_KEY: KEY,
      SWITCHBOARD_API_BASE: base,
    });
    procs.push(listener);
    expect(await listener.exited).not.toBe(0);
    expect(
      listener
        .stderr()
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('switchboard:')),
    ).toEqual([
      expect.stringMatching(
        /^switchboard: Refusing the server's websocket_url wss:\/\/switchboard\.example\.test: it is not ws:\/\/127\.0\.0\.1:\d+/,
      ),
    ]);
  });
});
