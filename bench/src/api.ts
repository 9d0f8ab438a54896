/** A minimal client for the server's HTTP API, on one undici Pool (keep-alive, many connections). */

import { Pool } from 'undici';
import { now } from './clock.js';
import { eventIdOf } from './eventId.js';
import { closedLoop, type LoopResult } from './load.js';

export interface Published {
  ok: boolean;
  status: number;
  /** When the answer was complete: the event is durable from here on. */
  acceptedAt: number;
  id: string | null;
  bytes: number;
  error?: string;
}

export class ApiClient {
  readonly pool: Pool;
  private readonly auth: string;

  constructor(
    readonly url: string,
    key: string,
    connections: number,
  ) {
    this.pool = new Pool(url, { connections, pipelining: 1 });
    this.auth = `Bearer ${key}`;
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: string,
  ): Promise<{ status: number; text: string }> {
    const res = await this.pool.request({
      method,
      path,
      headers: {
        authorization: this.auth,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body }),
    });
    return { status: res.statusCode, text: await res.body.text() };
  }

  async createEndpoint(
    url: string,
    enabledEvents: string[] = ['*'],
  ): Promise<{ id: string; secret: string }> {
    const res = await this.request(
      'POST',
      '/v1/webhook_endpoints',
      JSON.stringify({ url, enabled_events: enabledEvents }),
    );
    if (res.status !== 200) throw new Error(`creating the endpoint ${url} failed: ${res.status} ${res.text}`);
    const { id, secret } = JSON.parse(res.text) as { id: string; secret: string };
    return { id, secret };
  }

  async endpointStatus(id: string): Promise<string> {
    const res = await this.request('GET', `/v1/webhook_endpoints/${id}`);
    return (JSON.parse(res.text) as { status?: string }).status ?? `HTTP ${res.status}`;
  }

  /** POST /v1/events with a prepared JSON body. Never throws: failures are reported in the result. */
  async publish(body: string): Promise<Published> {
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: '/v1/events',
        headers: { authorization: this.auth, 'content-type': 'application/json' },
        body,
      });
      const text = await res.body.text();
      const acceptedAt = now();
      const ok = res.statusCode === 200;
      return {
        ok,
        status: res.statusCode,
        acceptedAt,
        id: ok ? eventIdOf(text) : null,
        bytes: Buffer.byteLength(text),
        ...(ok ? {} : { error: `${res.statusCode} ${text.slice(0, 200)}` }),
      };
    } catch (error) {
      return { ok: false, status: 0, acceptedAt: now(), id: null, bytes: 0, error: String(error) };
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** What `publishAll` did: the loop's tally, how many were accepted, and when the first was. */
export interface PublishRun {
  loop: LoopResult;
  /** When the first publish was accepted (the start of an end-to-end timing). */
  firstAccepted: number;
}

/**
 * Publish `body` `total` times, `concurrency` at a time (a closed loop),
 * counting into `progress.published` as answers arrive.
 */
export async function publishAll(
  api: ApiClient,
  body: string,
  concurrency: number,
  total: number,
  progress: { published: number } = { published: 0 },
): Promise<PublishRun> {
  let firstAccepted = Number.POSITIVE_INFINITY;
  const loop = await closedLoop({
    concurrency,
    total,
    request: async () => {
      const r = await api.publish(body);
      if (!r.ok) return r.error ?? 'failed';
      progress.published++;
      if (r.acceptedAt < firstAccepted) firstAccepted = r.acceptedAt;
      return true;
    },
  });
  return { loop, firstAccepted };
}
