-- Claims enter by endpoint: each endpoint's oldest due deliveries are read
-- from this index, so a claim's cost follows what it takes, not the size of a
-- backlog behind a saturated endpoint. It also serves everything the
-- single-column index it replaces served (cancelling and waking an
-- endpoint's pending deliveries).
CREATE INDEX deliveries_endpoint_due ON deliveries (endpoint_id, next_attempt_at, id) WHERE status = 'pending';
DROP INDEX deliveries_endpoint_pending;
