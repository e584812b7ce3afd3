-- An outbox row stays until its task has run for good: the relay marks it
-- enqueued (enqueued_at: when it put the task in Redis, or last saw it
-- there) instead of deleting it, the worker deletes it once the task
-- succeeded or failed for good, and the relay enqueues again the task of a
-- row enqueued long ago that Redis no longer has (a restart without
-- persistence, a flush). Rows still to enqueue and rows to check each have
-- their index, so neither walk reads the other.
ALTER TABLE platform.outbox ADD COLUMN enqueued_at timestamptz;
CREATE INDEX outbox_waiting ON platform.outbox (id) WHERE enqueued_at IS NULL;
CREATE INDEX outbox_enqueued ON platform.outbox (enqueued_at) WHERE enqueued_at IS NOT NULL;
