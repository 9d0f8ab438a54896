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
  // A window a few times the claim: wide enough to reach other endpoints behind one endpoint's backlog
  // (the dispatcher also excludes endpoints it has saturated), narrow enough that a claim's cost follows
  // what it takes. PostgreSQL locks every row of its window (SKIP LOCKED), so its window stays narrower.
  return wide ? limit * 8 : limit * 4;
}
