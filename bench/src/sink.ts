/** The runner's handle on a receiver process. */

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.js';
import { delay, now, sleep } from './clock.js';
import type { SinkReply, SinkRequest } from './sinkProtocol.js';

const SINK_SCRIPT = fileURLToPath(new URL('./sinkProcess.js', import.meta.url));

export interface SinkStats {
  count: number;
  unique: number;
  firstAt: number;
  lastAt: number;
}

export interface Arrivals {
  ids: string[];
  times: number[];
  ports: number[];
}

export class Sink {
  private seq = 0;
  private readonly pending = new Map<number, (reply: SinkReply) => void>();
  ports: number[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly mode: string,
  ) {
    child.on('message', (raw: unknown) => {
      const reply = raw as SinkReply & { seq: number };
      const resolve = this.pending.get(reply.seq);
      this.pending.delete(reply.seq);
      resolve?.(reply);
    });
  }

  static async start(mode: 'ok' | 'hang' | 'json', jsonBytes = 0): Promise<Sink> {
    const child = fork(SINK_SCRIPT, [mode, String(jsonBytes)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const sink = new Sink(child, mode);
    const ready = new Promise<void>((resolve, reject) => {
      sink.pending.set(0, () => resolve());
      child.once('exit', (code) => reject(new Error(`receiver exited with ${code} before it was ready`)));
    });
    onCleanup(() => sink.kill());
    await ready;
    return sink;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private async call(request: SinkRequest): Promise<SinkReply> {
    const seq = ++this.seq;
    const reply = await new Promise<SinkReply>((resolve, reject) => {
      this.pending.set(seq, resolve);
      this.child.send({ ...request, seq }, (error) => {
        if (error) {
          this.pending.delete(seq);
          reject(error);
        }
      });
    });
    if (!reply.ok) throw new Error(`receiver: ${reply.error}`);
    return reply;
  }

  /** Listen on `count` new ports (one origin per endpoint, as distinct receivers would be). */
  async listen(count = 1): Promise<number[]> {
    this.ports = (await this.call({ cmd: 'listen', count })).ports ?? [];
    return this.ports;
  }

  /** Listen again on the ports of the last `listen`; resolves with the time it started accepting. */
  async relisten(): Promise<number> {
    return (await this.call({ cmd: 'listen', reuse: true })).at ?? now();
  }

  /** Stop listening and drop every connection: senders now get "connection refused". */
  async close(): Promise<void> {
    await this.call({ cmd: 'close' });
  }

  async reset(): Promise<void> {
    await this.call({ cmd: 'reset' });
  }

  async record(on: boolean, unique = false): Promise<void> {
    await this.call({ cmd: 'record', on, unique });
  }

  async stats(): Promise<SinkStats> {
    const r = await this.call({ cmd: 'stats' });
    return { count: r.count ?? 0, unique: r.unique ?? 0, firstAt: r.firstAt ?? 0, lastAt: r.lastAt ?? 0 };
  }

  async arrivals(): Promise<Arrivals> {
    const r = await this.call({ cmd: 'arrivals' });
    return { ids: r.ids ?? [], times: r.times ?? [], ports: r.ports ?? [] };
  }

  /**
   * How far this process's clock is from ours, from the IPC round trip with
   * the smallest delay: offset = their reading − the midpoint of our send and
   * receive. It should be within the round trip; a larger value would mean
   * the two clocks cannot be compared and the latency figures are off by it.
   */
  async clockCheck(rounds = 30): Promise<{ offsetMs: number; rttMs: number }> {
    let best = { offsetMs: 0, rttMs: Number.POSITIVE_INFINITY };
    for (let i = 0; i < rounds; i++) {
      const t0 = now();
      const theirs = (await this.call({ cmd: 'now' })).at ?? Number.NaN;
      const t1 = now();
      if (t1 - t0 < best.rttMs) best = { offsetMs: theirs - (t0 + t1) / 2, rttMs: t1 - t0 };
    }
    return best;
  }

  /**
   * Wait until the receiver has counted `target` requests (or `unique`
   * distinct events). Fails when nothing arrives for `stallMs`: a run that
   * stopped delivering must not hang the benchmark. With `deadline` (clock.ts
   * time), resolves with what has arrived by then instead of waiting on.
   */
  async waitFor(
    target: number,
    stallMs: number,
    unique = false,
    deadline = Number.POSITIVE_INFINITY,
  ): Promise<SinkStats> {
    let last = -1;
    let lastChange = now();
    for (;;) {
      const s = await this.stats();
      const seen = unique ? s.unique : s.count;
      if (seen >= target || now() > deadline) return s;
      if (seen !== last) {
        last = seen;
        lastChange = now();
      } else if (now() - lastChange > stallMs) {
        throw new Error(`receiver stalled at ${seen} of ${target} requests for ${stallMs / 1000} s`);
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await Promise.race([this.call({ cmd: 'exit' }).catch(() => {}), delay(2000)]);
    await Promise.race([exited, delay(3000)]);
    this.kill();
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
