/**
 * The routable endpoints of an owner set, kept in the server's process: every
 * publish asks for them (routing's input), and each ask would otherwise be a
 * trip to the SQLite writer thread or to PostgreSQL. The cache is dropped
 * whenever an endpoint may have changed: on SQLite every write passes through
 * the store that holds it; on PostgreSQL other nodes say so (nodeSignals.ts).
 * Entries also expire after `ttlMs` (what they carry besides routing, an
 * endpoint's last success and failing time, may be that old).
 */

import type { AttemptResult, EndpointRecord } from './types.js';

/** Store operations after which routing may differ. */
export const CHANGES_ENDPOINTS: ReadonlySet<string> = new Set([
  'createEndpoint',
  'updateEndpoint',
  'deleteEndpoint',
  'migrate',
  'initPlatform',
]);

/** Attempt results that disable an endpoint change routing; others do not. */
export function resultsChangeEndpoints(results: readonly AttemptResult[]): boolean {
  return results.some(
    ({ outcome }) =>
      (outcome.kind === 'retry' || outcome.kind === 'failed') && outcome.disableEndpoint !== null,
  );
}

export class RoutableCache {
  private readonly entries = new Map<string, { at: number; endpoints: EndpointRecord[] }>();
  /** Bumped by every invalidation: an answer to a read made before it is not kept. */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly clock: () => number,
  ) {}

  async get(
    owners: readonly string[],
    load: (owners: string[]) => Promise<EndpointRecord[]>,
  ): Promise<EndpointRecord[]> {
    const key = owners.join('\n');
    const hit = this.entries.get(key);
    const now = this.clock();
    if (hit && now - hit.at < this.ttlMs) return hit.endpoints;
    const generation = this.generation;
    const endpoints = await load([...owners]);
    if (generation === this.generation) {
      if (this.entries.size >= 1000) this.entries.clear();
      this.entries.set(key, { at: now, endpoints });
    }
    return endpoints;
  }

  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }
}
