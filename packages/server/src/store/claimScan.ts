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
  // A window twice the claim: wide enough to reach past one endpoint's share, narrow enough that a claim's
  // cost follows what it takes (SQLite reads ~1 µs per candidate here: a 1,600-row window cost 2 ms per claim,
  // 400 rows 0.8 ms). Endpoints behind a larger backlog are reached once the dispatcher has saturated that
  // backlog's endpoint and excludes it. PostgreSQL's window stays at 4× the claim (not re-measured here).
  return wide ? limit * 2 : limit * 4;
}
