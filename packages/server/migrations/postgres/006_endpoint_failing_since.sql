-- When the endpoint's current run of failures began: the first failed attempt
-- after its last 2xx, cleared by the next 2xx. An endpoint is disabled only
-- after days of this (docs/retries.md), and the API shows it before then.
ALTER TABLE webhook_endpoints ADD COLUMN failing_since BIGINT;
