-- Comments on ideas, nested one level: a reply's parent is a top-level
-- comment of the same idea (the trigger guards it against any writer).
CREATE TABLE comments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idea_id    bigint NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    parent_id  bigint REFERENCES comments (id) ON DELETE CASCADE,
    author_id  bigint REFERENCES users (id) ON DELETE SET NULL,
    body       text NOT NULL CHECK (length(body) <= 10000), -- sanitised HTML; '' once deleted
    deleted_by text CHECK (deleted_by IN ('author', 'staff')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (deleted_by IS NOT NULL OR length(body) > 0)
);
CREATE INDEX comments_idea ON comments (idea_id, created_at);

CREATE FUNCTION comments_one_level() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM comments p WHERE p.id = NEW.parent_id AND p.parent_id IS NULL AND p.idea_id = NEW.idea_id) THEN
        RAISE EXCEPTION 'a reply must answer a top-level comment of the same idea' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER comments_one_level BEFORE INSERT OR UPDATE OF parent_id, idea_id ON comments
    FOR EACH ROW EXECUTE FUNCTION comments_one_level();
