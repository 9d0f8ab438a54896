-- Listen sessions (`switchboard listen`): a session is stored as webhook
-- endpoints with a listen_key (the session owner: API key hash and mode), so
-- routing, signing, retries and the attempt log work as for any endpoint.
-- Ordinary endpoints have listen_key NULL.
ALTER TABLE webhook_endpoints ADD COLUMN listen_key TEXT;
-- Only listen endpoints carry a key: a partial index stays small.
CREATE INDEX webhook_endpoints_listen ON webhook_endpoints (listen_key, seq) WHERE listen_key IS NOT NULL;

-- Set when the delivery is created, from the endpoint's kind: claims tell the
-- two kinds apart without a join. Only the listen session serving the
-- endpoint claims a listen delivery; the HTTP dispatcher never does. A
-- constant default adds the column without rewriting the table.
ALTER TABLE deliveries ADD COLUMN listen BOOLEAN NOT NULL DEFAULT FALSE;

-- The dispatcher walks this index oldest first. Leaving listen deliveries out
-- keeps a backlog waiting for a disconnected listen client from being walked
-- over (and locked) on every claim; listen claims enter by
-- deliveries_endpoint_pending.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending' AND NOT listen;
