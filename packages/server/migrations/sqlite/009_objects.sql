-- Emulated Stripe objects (customers, …): the JSON the API returns, scoped by account and mode, listed
-- newest first by seq; lookup_key is what a kind's list filters on (a customer's email).
CREATE TABLE objects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  account_id TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  created_unix INTEGER NOT NULL,
  object TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  lookup_key TEXT
);
CREATE INDEX objects_account_kind ON objects (account_id, livemode, kind, seq);
CREATE INDEX objects_account_kind_lookup ON objects (account_id, livemode, kind, lookup_key, seq)
  WHERE lookup_key IS NOT NULL;
