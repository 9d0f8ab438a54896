import { describe, expect, it } from 'vitest';
import {
  type ConnectedModes,
  connectEndpointReceives,
  keyChangesAccount,
  keySeesAccount,
  modesAfterDeauthorization,
  modesAtCreation,
} from '../src/routing/connectionModes.js';

const LIVE_ONLY: ConnectedModes = { test: false, live: true };
const TEST_ONLY: ConnectedModes = { test: true, live: false };
const BOTH: ConnectedModes = { test: true, live: true };
const NONE: ConnectedModes = { test: false, live: false };

describe('connection modes', () => {
  it.each<[string, boolean, 'test' | 'live' | 'both' | undefined, ConnectedModes]>([
    ['a test key connects in test mode', false, undefined, TEST_ONLY],
    ['a live key connects in live mode', true, undefined, LIVE_ONLY],
    ['the extension connects in both', false, 'both', BOTH],
    ['or in the other mode alone', false, 'live', LIVE_ONLY],
  ])('modesAtCreation: %s', (_n, keyLive, requested, expected) => {
    expect(modesAtCreation(keyLive, requested)).toEqual(expected);
  });

  // [account modes, key live?, sees, changes]
  it.each<[string, ConnectedModes, boolean, boolean, boolean]>([
    ['test key, test-only account', TEST_ONLY, false, true, true],
    ['test key, live-only account: acts as it, cannot change it', LIVE_ONLY, false, true, false],
    ['test key, both', BOTH, false, true, true],
    ['live key, live-only account', LIVE_ONLY, true, true, true],
    ['live key, test-only account: invisible', TEST_ONLY, true, false, false],
    ['live key, both', BOTH, true, true, true],
    ['any key, disconnected', NONE, false, false, false],
    ['live key, disconnected', NONE, true, false, false],
  ])('%s', (_n, modes, keyLive, sees, changes) => {
    expect(keySeesAccount(modes, keyLive)).toBe(sees);
    expect(keyChangesAccount(modes, keyLive)).toBe(changes);
  });

  it.each<[string, ConnectedModes, boolean, ConnectedModes]>([
    ['a live key leaves live mode', BOTH, true, TEST_ONLY],
    ['a test key leaves test mode', BOTH, false, LIVE_ONLY],
    ['the last mode gone: connected in none', TEST_ONLY, false, NONE],
  ])('modesAfterDeauthorization: %s', (_n, before, keyLive, after) => {
    expect(modesAfterDeauthorization(before, keyLive)).toEqual(after);
  });

  // The support article's three cases: [account, event live?, endpoint live?, receives]
  it.each<[string, ConnectedModes, boolean, boolean, boolean]>([
    ['live only: live event → live endpoint', LIVE_ONLY, true, true, true],
    ['live only: live event ✗ test endpoint', LIVE_ONLY, true, false, false],
    ['live only: test event → live endpoint', LIVE_ONLY, false, true, true],
    ['live only: test event ✗ test endpoint', LIVE_ONLY, false, false, false],
    ['test only: test event → test endpoint', TEST_ONLY, false, false, true],
    ['test only: test event ✗ live endpoint', TEST_ONLY, false, true, false],
    ['test only: live event ✗ anywhere', TEST_ONLY, true, true, false],
    ['both: live event → live endpoint', BOTH, true, true, true],
    ['both: live event ✗ test endpoint', BOTH, true, false, false],
    ['both: test event → test endpoint', BOTH, false, false, true],
    ['both: test event → live endpoint', BOTH, false, true, true],
  ])('connectEndpointReceives: %s', (_n, modes, eventLive, endpointLive, receives) => {
    expect(connectEndpointReceives(modes, eventLive, endpointLive)).toBe(receives);
  });
});
