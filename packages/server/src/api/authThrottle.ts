/**
 * Failed authentication, throttled per client address: after `maxFailures`
 * failures within `windowMs`, every request from that address is answered
 * 429 (with `Retry-After`) until the oldest failure leaves the window. Keys
 * are too long to guess; this keeps an address from trying at machine speed.
 * Pure but for its own table; time comes from the clock given.
 */

export interface AuthThrottle {
  /** Milliseconds until `address` may try again; 0 when it may now. */
  retryAfterMs(address: string): number;
  recordFailure(address: string): void;
}

export interface AuthThrottleOptions {
  maxFailures: number;
  windowMs: number;
  clock: () => number;
  /** Addresses remembered at once; past it the oldest is forgotten (bounded memory under a spray of addresses). */
  maxAddresses?: number;
}

export const DEFAULT_AUTH_THROTTLE = { maxFailures: 20, windowMs: 60_000 } as const;

export function createAuthThrottle(options: AuthThrottleOptions): AuthThrottle {
  const { maxFailures, windowMs, clock } = options;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const failures = new Map<string, number[]>();

  const recent = (address: string, now: number): number[] => {
    const times = (failures.get(address) ?? []).filter((t) => t > now - windowMs);
    if (times.length === 0) failures.delete(address);
    else failures.set(address, times);
    return times;
  };

  return {
    retryAfterMs(address) {
      const now = clock();
      const times = recent(address, now);
      if (times.length < maxFailures) return 0;
      // Free again once enough failures have left the window.
      return times[times.length - maxFailures]! + windowMs - now;
    },
    recordFailure(address) {
      const now = clock();
      const times = recent(address, now);
      times.push(now);
      // Only the newest maxFailures matter for the verdict.
      failures.delete(address);
      failures.set(address, times.slice(-maxFailures));
      if (failures.size > maxAddresses) failures.delete(failures.keys().next().value!);
    },
  };
}
