/** The server as a child process, for tests that kill it, and the small API calls they make. */

import { createServer } from 'node:net';
import { type Spawned, spawnCli } from './spawn.js';

/** A port free right now on 127.0.0.1 (for a server that must come back on the same address). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export interface ServerProcessOptions {
  database: string;
  key: string;
  /** 0 (default) picks a free port. */
  port?: number;
  timeoutMs?: number;
  /** Delays between attempts; short, so retries happen within a test. */
  retrySchedule?: string;
}

/** `switchboard serve` with private targets allowed; resolves once it listens. */
export async function startServerProcess(o: ServerProcessOptions): Promise<{ proc: Spawned; url: string }> {
  const proc = spawnCli([
    'serve',
    '--port',
    String(o.port ?? 0),
    '--database',
    o.database,
    '--test-key',
    o.key,
    '--allow-private-targets',
    '--timeout',
    String(o.timeoutMs ?? 1000),
    '--retry-schedule',
    o.retrySchedule ?? Array(20).fill('200ms').join(','),
  ]);
  const m = await proc.waitForOutput(/listening on (http:\/\/\S+)/);
  return { proc, url: m[1]! };
}

/** A JSON API call with the key. */
export async function apiCall(
  url: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}
