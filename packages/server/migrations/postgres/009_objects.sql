-- Emulated Stripe objects (customers, …): the JSON the API returns, scoped by account and mode, listed
-- newest first by seq; lookup_key is what a kind's list filters on (a customer's email).
CREATE TABLE objects (
  id TEXT PRIMARY KEY,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  kind TEXT NOT NULL,
  account_id TEXT NOT NULL,
  livemode BOOLEAN NOT NULL,
  created_unix BIGINT NOT NULL,
  object JSON NOT NULL,
  deleted BOOLEAN NOT NULL DEFAULT FALSE,
  lookup_key TEXT
);
CREATE INDEX objects_account_kind ON objects (account_id, livemode, kind, seq);
CREATE INDEX objects_account_kind_lookup ON objects (account_id, livemode, kind, lookup_key, seq)
  WHERE lookup_key IS NOT NULL;
