/** The recorder: attempt results written in batches, one write at a time, nothing lost when a write fails. */

import { describe, expect, it } from 'vitest';
import { Recorder } from '../src/delivery/recorder.js';
import type { AttemptResult } from '../src/store/types.js';

const result = (id: string): AttemptResult => ({
  attempt: {
    id,
    deliveryId: `wd_${id}`,
    eventId: 'evt_1',
    endpointId: 'we_1',
    attemptedAt: 0,
    durationMs: 1,
    statusCode: 200,
    error: null,
    responseBody: '',
    manual: false,
  },
  outcome: { kind: 'delivered' },
  leaseOwner: 'node-a',
});

describe('Recorder', () => {
  it('writes what finished in one batch; what finishes during a write joins the next', async () => {
    const batches: string[][] = [];
    let release: () => void = () => {};
    const recorder = new Recorder(async (batch) => {
      batches.push(batch.map((r) => r.attempt.id));
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    recorder.add(result('wa_1'));
    recorder.add(result('wa_2'));
    const first = recorder.flush();
    recorder.add(result('wa_3'));
    const second = recorder.flush();
    await Promise.resolve();
    expect(batches).toEqual([['wa_1', 'wa_2']]);
    release();
    expect(await first).toBe(2);
    expect(await second).toBe(1);
    expect(batches).toEqual([['wa_1', 'wa_2'], ['wa_3']]);
    expect(await recorder.flush()).toBe(0);
  });

  it('a failed write keeps its results, in order, ahead of later ones', async () => {
    let fail = true;
    const written: string[] = [];
    const recorder = new Recorder(async (batch) => {
      if (fail) throw new Error('database is locked');
      written.push(...batch.map((r) => r.attempt.id));
    });
    recorder.add(result('wa_1'));
    await expect(recorder.flush()).rejects.toThrow('database is locked');
    recorder.add(result('wa_2'));
    expect(recorder.pending).toBe(2);
    fail = false;
    await recorder.flush();
    expect(written).toEqual(['wa_1', 'wa_2']);
  });
});
