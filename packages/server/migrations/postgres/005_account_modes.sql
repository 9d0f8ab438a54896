-- The modes a connected account is connected to its platform in (live, test
-- or both). Accounts from before had none: they keep acting in both, as the
-- key decided then; deauthorized ones are connected in neither.
ALTER TABLE accounts ADD COLUMN connected_test BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE accounts ADD COLUMN connected_live BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE accounts SET connected_test = FALSE, connected_live = FALSE WHERE deauthorized_at IS NOT NULL;
