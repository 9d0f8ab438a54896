/**
 * How many of the oldest due deliveries a shallow claim reads to find the
 * endpoints it serves (each endpoint's deliveries are then read by endpoint).
 * A bounded window keeps the claim's cost flat when a large backlog is due;
 * endpoints behind a larger backlog of others are reached by the deep claims
 * the engine makes now and then.
 */
export function claimScanSize(limit: number, perEndpointLimit: number, windowFactor: number): number {
  // Without a per-endpoint cap to apply, the window is exactly what is taken.
  if (perEndpointLimit >= limit) return limit;
  return limit * windowFactor;
}

/** SQLite reads ~1 µs per row here (400 rows 0.8 ms): twice the claim is enough to reach past one endpoint's share. */
export const SQLITE_WINDOW_FACTOR = 2;
/** PostgreSQL reads the window unlocked and cheaply per row: four times the claim. */
export const POSTGRES_WINDOW_FACTOR = 4;
