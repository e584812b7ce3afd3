-- Staff exports of ideas, comments, reactions and users (XLSX or CSV), built
-- in the background with their progress, downloadable through a signed link
-- until they expire; the daily sweep then deletes the file.
CREATE TABLE exports (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('ideas', 'comments', 'reactions', 'users')),
    format       text NOT NULL CHECK (format IN ('xlsx', 'csv')),
    filters      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(filters) = 'object'),
    requested_by bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed', 'expired')),
    rows_done    bigint NOT NULL DEFAULT 0 CHECK (rows_done >= 0),
    rows_total   bigint NOT NULL DEFAULT 0 CHECK (rows_total >= 0),
    file_name    text NOT NULL DEFAULT '', -- under the city's storage, exports/
    size_bytes   bigint NOT NULL DEFAULT 0,
    error        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    expires_at   timestamptz,
    CHECK (status <> 'done' OR (file_name <> '' AND expires_at IS NOT NULL))
);
CREATE INDEX exports_recent ON exports (created_at DESC);
CREATE INDEX exports_requester ON exports (requested_by, status);
CREATE INDEX exports_expiry ON exports (expires_at) WHERE status = 'done';
