-- Switchboard schema, PostgreSQL. Times are milliseconds since the epoch
-- (BIGINT) unless the column says unix (seconds). Tables are created in the
-- schema the connection's search_path names.

-- The one platform a server runs for: `singleton` lets only one row exist.
CREATE TABLE platforms (
  id TEXT PRIMARY KEY,
  singleton BOOLEAN NOT NULL DEFAULT TRUE UNIQUE CHECK (singleton),
  application_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

-- SHA-256 hex of the whole key.
CREATE TABLE api_keys (
  hash TEXT PRIMARY KEY,
  platform_id TEXT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
  livemode BOOLEAN NOT NULL,
  hint TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX api_keys_platform ON api_keys (platform_id);

-- `seq` orders every listed table (newest first) and backs its cursors.
-- `json` rather than `jsonb` keeps the key order of the served objects.
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  platform_id TEXT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
  object JSON NOT NULL,
  created_at BIGINT NOT NULL,
  deauthorized_at BIGINT
);
CREATE INDEX accounts_platform_seq ON accounts (platform_id, seq);

-- Owners are the platform or a connected account: no foreign key, the owner
-- may be either.
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  owner_account_id TEXT NOT NULL,
  livemode BOOLEAN NOT NULL,
  connect BOOLEAN NOT NULL,
  url TEXT NOT NULL,
  enabled_events JSON NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
  disabled_reason TEXT,
  api_version TEXT,
  description TEXT,
  metadata JSON NOT NULL,
  secrets JSON NOT NULL,
  created_at BIGINT NOT NULL,
  last_success_at BIGINT
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner_account_id, livemode, seq);

-- `body` is the exact JSON text that is signed and sent.
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  account_id TEXT NOT NULL,
  livemode BOOLEAN NOT NULL,
  type TEXT NOT NULL,
  created_unix BIGINT NOT NULL,
  body TEXT NOT NULL,
  request_id TEXT,
  idempotency_key TEXT
);
CREATE INDEX events_account_seq ON events (account_id, livemode, seq);
CREATE INDEX events_account_type ON events (account_id, livemode, type, seq);
CREATE INDEX events_created ON events (created_unix);

-- No foreign key to webhook_endpoints: deleting an endpoint cancels its
-- deliveries but keeps them (and their attempts) for the event's history.
-- While claimed, next_attempt_at is the end of the lease: when the delivery
-- is due again if the claiming node never reports.
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  endpoint_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  lease_until BIGINT,
  lease_owner TEXT,
  created_at BIGINT NOT NULL,
  delivered_at BIGINT,
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint_pending ON deliveries (endpoint_id) WHERE status = 'pending';

-- No foreign keys: attempts outlive their endpoint; pruning removes them with
-- their event.
CREATE TABLE delivery_attempts (
  id TEXT PRIMARY KEY,
  seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  delivery_id TEXT,
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  attempted_at BIGINT NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  response_body TEXT,
  manual BOOLEAN NOT NULL
);
CREATE INDEX delivery_attempts_event ON delivery_attempts (event_id, seq);
CREATE INDEX delivery_attempts_endpoint ON delivery_attempts (endpoint_id, seq);

CREATE TABLE idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  response_body TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
