/**
 * Scenario 5, publish API: requests/s of POST /v1/events (each answered
 * only once the event is on disk) while the delivery engine delivers what is
 * published, with a fixed number of requests in flight. Compared with the
 * same load loop against a node:http server that reads the request and
 * answers JSON of the same size: the cost of HTTP alone on this machine.
 */

import { ApiClient } from '../api.js';
import { now } from '../clock.js';
import type { Context } from '../context.js';
import { closedLoop, type LoopResult } from '../load.js';
import { publishBody, sizedObject } from '../payloads.js';
import { type Row, row } from '../results.js';
import { type Engine, ServerProcess, TEST_KEY } from '../server.js';
import { Sink } from '../sink.js';
import { fixed, int } from '../stats.js';

/** Run the loop for a warm-up (connections opened, code optimised), then for the measured time. */
/**
 * Twice the ratio to node:http that each engine had when the delivery engine was rebuilt from parts
 * (docs/performance.md, "Fixes, measured").
 */
export const PUBLISH_API_TARGET: Record<Engine, number> = { sqlite: 2 * 0.09, postgres: 2 * 0.06 };

async function measure(
  api: ApiClient,
  body: string,
  concurrency: number,
  seconds: number,
  warmupSeconds: number,
): Promise<{ rps: number; loop: LoopResult; responseBytes: number }> {
  let responseBytes = 0;
  const request = async () => {
    const r = await api.publish(body);
    if (!r.ok) return r.error ?? 'failed';
    responseBytes = r.bytes;
    return true;
  };
  await closedLoop({ concurrency, until: now() + warmupSeconds * 1000, request });
  const loop = await closedLoop({ concurrency, until: now() + seconds * 1000, request });
  return { rps: (loop.ok / (loop.endedAt - loop.startedAt)) * 1000, loop, responseBytes };
}

export async function publishApi(ctx: Context, engine: Engine): Promise<Row> {
  const seconds = ctx.knob('BENCH_PUBLISH_SECONDS');
  const concurrency = ctx.knob('BENCH_PUBLISH_CONCURRENCY');
  const warmup = ctx.options.quick ? 0.5 : 2;
  const body = publishBody('payout.paid', sizedObject(ctx.knob('BENCH_EVENT_BYTES')));
  ctx.log(`[${engine}] publish API: ${concurrency} in flight for ${seconds} s`);

  const sink = await Sink.start('ok');
  let server: ServerProcess | null = null;
  let api: ApiClient | null = null;
  let result: Awaited<ReturnType<typeof measure>>;
  let delivered = 0;
  let serverErrors: string | null = null;
  try {
    const [port] = await sink.listen(1);
    server = await ServerProcess.start({ engine, pgUrl: ctx.options.pgUrl });
    api = new ApiClient(server.url, TEST_KEY, concurrency);
    await api.createEndpoint(`http://127.0.0.1:${port}/ep0`);
    result = await measure(api, body, concurrency, seconds, warmup);
    delivered = (await sink.stats()).count;
  } finally {
    await api?.close();
    await server?.stop();
    serverErrors = server?.errorNote() ?? null;
    await sink.stop();
  }

  // The baseline's answers are as large as the server's, so both loops move the same bytes.
  const base = await ctx.once(`trivial-http:${concurrency}:${seconds}:${result.responseBytes}`, async () => {
    ctx.log(`baseline: the same loop against node:http answering ${result.responseBytes} B`);
    const trivial = await Sink.start('json', result.responseBytes);
    const [port] = await trivial.listen(1);
    const client = new ApiClient(`http://127.0.0.1:${port}`, TEST_KEY, concurrency);
    try {
      return await measure(client, body, concurrency, seconds, warmup);
    } finally {
      await client.close();
      await trivial.stop();
    }
  });

  const notes = [
    `${concurrency} in flight for ${seconds} s`,
    `${int(result.loop.ok)} published; ${int(delivered)} deliveries received meanwhile (warm-up included)`,
  ];
  if (result.loop.failed) notes.push(`${result.loop.failed} failed, e.g. ${result.loop.failures[0]}`);
  if (serverErrors) notes.push(serverErrors);
  return row({
    scenario: 'publish API',
    engine,
    measure: 'POST /v1/events per second (durable, deliveries running)',
    value: int(result.rps),
    baseline: `${int(base.rps)} (node:http answering ${base.responseBytes} B of JSON)`,
    ratio: fixed(result.rps / base.rps, 2),
    target: `≥ ${fixed(PUBLISH_API_TARGET[engine], 2)}`,
    met: result.rps / base.rps >= PUBLISH_API_TARGET[engine],
    notes: notes.join('; '),
  });
}
