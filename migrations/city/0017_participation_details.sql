-- Handles to mention people with (@jane-doe), idea locations and images,
-- project header images by file name, and the indexes of the idea filters.

-- A user's handle: their name in lower case ASCII, made unique with the id
-- when taken. Set once, on insert, whoever inserts.
ALTER TABLE users ADD COLUMN handle text;

CREATE FUNCTION users_handle_base(first text, last text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(nullif(left(btrim(regexp_replace(
        translate(lower(first || '-' || last), 'àáâãäåæçèéêëìíîïñòóôõöøœùúûüýÿß', 'aaaaaaaceeeeiiiinoooooooouuuuyys'),
        '[^a-z0-9]+', '-', 'g'), '-'), 40), ''), 'user')
$$;

UPDATE users SET handle = users_handle_base(first_name, last_name) || '-' || id;
ALTER TABLE users ALTER COLUMN handle SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_handle_format CHECK (handle ~ '^[a-z0-9][a-z0-9-]{0,60}$');
CREATE UNIQUE INDEX users_handle ON users (handle);

CREATE FUNCTION users_set_handle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    base text := users_handle_base(NEW.first_name, NEW.last_name);
BEGIN
    IF NEW.handle IS NOT NULL THEN
        RETURN NEW;
    END IF;
    -- Writers of the same name queue here, so the check below sees theirs.
    PERFORM pg_advisory_xact_lock(hashtext('agora.handle.' || current_schema() || '.' || base));
    IF EXISTS (SELECT 1 FROM users WHERE handle = base) THEN
        NEW.handle := base || '-' || NEW.id;
    ELSE
        NEW.handle := base;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER users_set_handle BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_set_handle();

-- An idea's optional place: a point and how people call it.
ALTER TABLE ideas
    ADD COLUMN location_lat double precision CHECK (location_lat BETWEEN -90 AND 90),
    ADD COLUMN location_lng double precision CHECK (location_lng BETWEEN -180 AND 180),
    ADD COLUMN location_name text NOT NULL DEFAULT '' CHECK (length(location_name) <= 200),
    ADD CONSTRAINT ideas_location_pair CHECK ((location_lat IS NULL) = (location_lng IS NULL));

CREATE TABLE idea_images (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idea_id    bigint NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    name       text NOT NULL UNIQUE, -- file name under the city's storage
    position   int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idea_images_idea ON idea_images (idea_id, position, id);

CREATE INDEX ideas_phase ON ideas (phase_id) WHERE deleted_at IS NULL;
CREATE INDEX ideas_status ON ideas (status_id) WHERE deleted_at IS NULL;
-- A user's reactions in a phase, counted against the phase's limit.
CREATE INDEX reactions_user ON reactions (user_id, item_type);
