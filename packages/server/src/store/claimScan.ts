/**
 * How many of the oldest eligible deliveries a claim looks at before capping
 * each endpoint at `perEndpointLimit`. A bounded window keeps a claim's cost
 * flat when a large backlog is due (a long outage); the price is that a
 * backlog of a few endpoints larger than the window is drained
 * `perEndpointLimit` at a time before younger deliveries of other endpoints
 * are reached, unless the dispatcher excludes the endpoints it has saturated.
 */
export function claimScanSize(limit: number, perEndpointLimit: number, wide: boolean): number {
  // Without a per-endpoint cap to apply, the window is exactly what is taken.
  if (perEndpointLimit >= limit) return limit;
  // PostgreSQL locks every row of the window (SKIP LOCKED), so its window stays narrow.
  return wide ? Math.max(1000, limit * 20) : limit * 4;
}
