-- The modes a connected account is connected to its platform in (live, test
-- or both). Accounts from before had none: they keep acting in both, as the
-- key decided then; deauthorized ones are connected in neither.
ALTER TABLE accounts ADD COLUMN connected_test INTEGER NOT NULL DEFAULT 1 CHECK (connected_test IN (0, 1));
ALTER TABLE accounts ADD COLUMN connected_live INTEGER NOT NULL DEFAULT 1 CHECK (connected_live IN (0, 1));
UPDATE accounts SET connected_test = 0, connected_live = 0 WHERE deauthorized_at IS NOT NULL;
