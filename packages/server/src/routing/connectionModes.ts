/**
 * Connection modes: a connected account is connected to its platform in live
 * mode, in test mode, or in both (Stripe's support article "Connect account
 * webhook configurations"). The mode of the key that created it connects it;
 * a Switchboard extension connects it in both, to test that case. Pure; the
 * rules are those of the reference §1 and §4.
 */

export interface ConnectedModes {
  test: boolean;
  live: boolean;
}

export const CONNECT_MODES = ['test', 'live', 'both'] as const;
export type ConnectMode = (typeof CONNECT_MODES)[number];

/** The modes an account created by a key of `keyLivemode` is connected in (`requested`: the extension). */
export function modesAtCreation(keyLivemode: boolean, requested?: ConnectMode): ConnectedModes {
  const mode = requested ?? (keyLivemode ? 'live' : 'test');
  return { test: mode !== 'live', live: mode !== 'test' };
}

export const isConnected = (m: ConnectedModes): boolean => m.test || m.live;

/**
 * May a key of this mode see and act as the account? A key acts as accounts
 * connected in its mode; a test key may also act as a live-connected account
 * (test transactions under a production application). A live key never sees
 * an account connected in test mode only.
 */
export const keySeesAccount = (m: ConnectedModes, keyLivemode: boolean): boolean =>
  keyLivemode ? m.live : m.test || m.live;

/** May a key of this mode change or deauthorize the account? Only in a mode it is connected in. */
export const keyChangesAccount = (m: ConnectedModes, keyLivemode: boolean): boolean =>
  keyLivemode ? m.live : m.test;

/** The modes left once a key of `keyLivemode` deauthorizes the account (it leaves that mode). */
export const modesAfterDeauthorization = (m: ConnectedModes, keyLivemode: boolean): ConnectedModes =>
  keyLivemode ? { ...m, live: false } : { ...m, test: false };

/**
 * Does a Connect endpoint of mode `endpointLivemode` get an event of mode
 * `eventLivemode` from an account connected in `m`? An endpoint gets the test
 * events of accounts connected in its own mode, and a live endpoint the live
 * events of live-connected ones:
 * - live only → live and test events to live endpoints;
 * - test only → test events to test endpoints;
 * - both → live events to live endpoints, test events to both.
 */
export function connectEndpointReceives(
  m: ConnectedModes,
  eventLivemode: boolean,
  endpointLivemode: boolean,
): boolean {
  if (eventLivemode) return endpointLivemode && m.live;
  return endpointLivemode ? m.live : m.test;
}
