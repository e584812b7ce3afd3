-- The back office's home counts the unread reports of the city: a partial
-- index keeps that count to the unread rows, however many were read.
CREATE INDEX reports_unread ON reports (project_id) WHERE read_at IS NULL;
