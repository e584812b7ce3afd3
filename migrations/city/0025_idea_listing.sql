-- The idea list reads a narrow copy of what it filters and sorts on, kept by
-- a trigger in the same statement as every write to ideas: a list page
-- scans ~100-byte rows instead of the ~1 KB idea rows (title, bodies, the
-- search vector). Only these columns are copied; a title or body edit does
-- not touch the listing.
CREATE TABLE idea_listing (
    id             bigint PRIMARY KEY REFERENCES ideas (id) ON DELETE CASCADE,
    project_id     bigint NOT NULL,
    phase_id       bigint,
    status_id      bigint NOT NULL,
    likes_count    int NOT NULL,
    dislikes_count int NOT NULL,
    comments_count int NOT NULL,
    created_at     timestamptz NOT NULL,
    deleted_at     timestamptz,
    hidden_at      timestamptz
);
CREATE INDEX idea_listing_project ON idea_listing (project_id, id) WHERE deleted_at IS NULL AND hidden_at IS NULL;

INSERT INTO idea_listing (id, project_id, phase_id, status_id, likes_count, dislikes_count, comments_count, created_at, deleted_at, hidden_at)
SELECT id, project_id, phase_id, status_id, likes_count, dislikes_count, comments_count, created_at, deleted_at, hidden_at FROM ideas;

CREATE FUNCTION ideas_listing_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO idea_listing (id, project_id, phase_id, status_id, likes_count, dislikes_count, comments_count, created_at, deleted_at, hidden_at)
    VALUES (NEW.id, NEW.project_id, NEW.phase_id, NEW.status_id, NEW.likes_count, NEW.dislikes_count, NEW.comments_count,
            NEW.created_at, NEW.deleted_at, NEW.hidden_at)
    ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id, phase_id = excluded.phase_id, status_id = excluded.status_id,
        likes_count = excluded.likes_count, dislikes_count = excluded.dislikes_count, comments_count = excluded.comments_count,
        created_at = excluded.created_at, deleted_at = excluded.deleted_at, hidden_at = excluded.hidden_at;
    RETURN NULL;
END $$;
CREATE TRIGGER ideas_listing_insert AFTER INSERT ON ideas FOR EACH ROW EXECUTE FUNCTION ideas_listing_sync();
CREATE TRIGGER ideas_listing_update AFTER UPDATE OF project_id, phase_id, status_id, likes_count, dislikes_count, comments_count,
    created_at, deleted_at, hidden_at ON ideas FOR EACH ROW EXECUTE FUNCTION ideas_listing_sync();

-- The listing's index replaces the one on ideas.
DROP INDEX IF EXISTS ideas_listing;
