-- Events are listed newest first by (created_unix, seq), Stripe's order: one index serves the plain list
-- and any created range, another each type, and a partial index the deliveries still owed
-- (delivery_success=false). Each list filter then reads about one page, however many events are kept.
DROP INDEX events_account_seq;
DROP INDEX events_account_type;
CREATE INDEX events_account_created ON events (account_id, livemode, created_unix, seq);
CREATE INDEX events_account_type_created ON events (account_id, livemode, type, created_unix, seq);
CREATE INDEX deliveries_owed ON deliveries (event_id) WHERE status IN ('pending', 'failed') AND listen = 0;
