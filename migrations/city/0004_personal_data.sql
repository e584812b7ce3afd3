-- Personal data requests: archives of everything the city holds about a user,
-- built in the background and downloadable by that user until they expire.
CREATE TABLE data_exports (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state      text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'ready', 'failed')),
    file_name  text NOT NULL DEFAULT '',
    size_bytes bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    ready_at   timestamptz,
    expires_at timestamptz NOT NULL DEFAULT now() + interval '7 days'
);
CREATE INDEX data_exports_user ON data_exports (user_id, created_at DESC);
