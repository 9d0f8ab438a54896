/**
 * How many of the oldest due deliveries a shallow claim reads to find the
 * endpoints it serves (each endpoint's deliveries are then read by endpoint).
 * A bounded window keeps the claim's cost flat when a large backlog is due;
 * endpoints behind a larger backlog of others are reached by the deep claims
 * the dispatcher makes now and then.
 */
export function claimScanSize(limit: number, perEndpointLimit: number, wide: boolean): number {
  // Without a per-endpoint cap to apply, the window is exactly what is taken.
  if (perEndpointLimit >= limit) return limit;
  // Twice the claim on SQLite (it reads ~1 µs per row here: 400 rows 0.8 ms), four times on PostgreSQL, whose
  // window is read unlocked: wide enough to reach past one endpoint's share.
  return wide ? limit * 2 : limit * 4;
}
