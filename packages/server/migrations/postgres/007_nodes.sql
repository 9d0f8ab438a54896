-- Nodes sharing the database, by their stable id (`--node-id`, else one per
-- start), and when each was last seen. A node silent past the liveness
-- timeout is taken for dead: the others release the leases it held at once,
-- instead of waiting for them to run out.
CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  heartbeat_at BIGINT NOT NULL
);
