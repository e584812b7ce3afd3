-- Moderation: reports on ideas and comments, an inbox with read state, and
-- hidden content (hidden items leave every public list and page).
CREATE TABLE reports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reporter_id bigint REFERENCES users (id) ON DELETE SET NULL,
    item_type   text NOT NULL CHECK (item_type IN ('idea', 'comment')),
    item_id     bigint NOT NULL,
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    reason      text NOT NULL CHECK (reason IN ('spam', 'abuse', 'off_topic', 'other')),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    UNIQUE (reporter_id, item_type, item_id)
);
CREATE INDEX reports_inbox ON reports (project_id, created_at DESC);

ALTER TABLE ideas ADD COLUMN hidden_at timestamptz;
ALTER TABLE comments ADD COLUMN hidden_at timestamptz;
