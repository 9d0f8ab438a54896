-- Switchboard schema, SQLite. Times are milliseconds since the epoch unless
-- the column says unix (seconds). JSON columns hold JSON text.

-- The one platform a server runs for: `singleton` lets only one row exist.
CREATE TABLE platforms (
  id TEXT PRIMARY KEY,
  singleton INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1),
  application_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- SHA-256 hex of the whole key.
CREATE TABLE api_keys (
  hash TEXT PRIMARY KEY,
  platform_id TEXT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
  livemode INTEGER NOT NULL,
  hint TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX api_keys_platform ON api_keys (platform_id);

-- `seq` orders every listed table (newest first) and backs its cursors.
CREATE TABLE accounts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  platform_id TEXT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
  object TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deauthorized_at INTEGER
);
CREATE INDEX accounts_platform_seq ON accounts (platform_id, seq);

-- Owners are the platform or a connected account: no foreign key, the owner
-- may be either.
CREATE TABLE webhook_endpoints (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  owner_account_id TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  connect INTEGER NOT NULL,
  url TEXT NOT NULL,
  enabled_events TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
  disabled_reason TEXT,
  api_version TEXT,
  description TEXT,
  metadata TEXT NOT NULL,
  secrets TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_success_at INTEGER
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner_account_id, livemode, seq);

-- `body` is the exact JSON text that is signed and sent.
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  account_id TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  type TEXT NOT NULL,
  created_unix INTEGER NOT NULL,
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
  next_attempt_at INTEGER,
  lease_until INTEGER,
  lease_owner TEXT,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER,
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint_pending ON deliveries (endpoint_id) WHERE status = 'pending';

-- No foreign keys: attempts outlive their endpoint; pruning removes them with
-- their event.
CREATE TABLE delivery_attempts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  delivery_id TEXT,
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  attempted_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  response_body TEXT,
  manual INTEGER NOT NULL
);
CREATE INDEX delivery_attempts_event ON delivery_attempts (event_id, seq);
CREATE INDEX delivery_attempts_endpoint ON delivery_attempts (endpoint_id, seq);

CREATE TABLE idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  response_body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
