-- Steps emulated objects take later on the server's clock (funds available, a payout's outcome): claimed with a
-- lease when due, deleted in the transaction of the event they cause.
CREATE TABLE scheduled_steps (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  livemode BOOLEAN NOT NULL,
  due_at BIGINT NOT NULL,
  lease_until BIGINT
);
CREATE INDEX scheduled_steps_due ON scheduled_steps (due_at);
