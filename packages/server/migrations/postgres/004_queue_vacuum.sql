-- Every claim and attempt result rewrites a delivery row, and claims read
-- the oldest due rows first: old row versions left behind slow every claim
-- until a vacuum removes them. Vacuum this table after ~1 % of it (at least
-- 1,000 rows) changed rather than the default 20 %, without cost-based
-- pauses. (With autovacuum off for the whole server, the store vacuums it
-- itself: see maintain().)
ALTER TABLE deliveries SET (
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_analyze_scale_factor = 0.02,
  autovacuum_vacuum_cost_delay = 0
);
