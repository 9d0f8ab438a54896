/** Slot accounting: per endpoint and per node, waiting for a slot, and slots promised to publishes. */

import { describe, expect, it } from 'vitest';
import { Slots } from '../src/delivery/slots.js';

describe('Slots', () => {
  it('an endpoint past its bound waits for a slot, and gets it straight from the one released', async () => {
    const slots = new Slots(10, 2);
    await slots.acquire('we_a');
    await slots.acquire('we_a');
    let third = false;
    const waiting = slots.acquire('we_a').then(() => {
      third = true;
    });
    await Promise.resolve();
    expect(third).toBe(false);
    expect(slots.load('we_a')).toBe(3);
    slots.release('we_a');
    await waiting;
    expect(third).toBe(true);
    expect(slots.load('we_a')).toBe(2);
  });

  it('release says when the endpoint is down to half its slots (time to refill it)', async () => {
    const slots = new Slots(10, 4);
    for (let i = 0; i < 4; i++) await slots.acquire('we_a');
    expect(slots.release('we_a')).toBe(false);
    expect(slots.release('we_a')).toBe(true);
    expect(slots.release('we_a')).toBe(false);
  });

  it('reserved slots count in the endpoint load and against the node', async () => {
    const slots = new Slots(3, 2);
    slots.reserve('we_a');
    slots.reserve('we_b');
    slots.begin();
    await slots.acquire('we_b');
    expect(slots.free).toBe(0);
    expect(slots.loadedAtLeast(2)).toEqual(['we_b']);
    expect(slots.loadedAtLeast(1).sort()).toEqual(['we_a', 'we_b']);
    slots.unreserve(['we_a', 'we_b']);
    expect(slots.free).toBe(2);
    expect(slots.load('we_a')).toBe(0);
  });
});
