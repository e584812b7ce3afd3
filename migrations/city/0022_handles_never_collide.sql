-- A handle taken by someone else falls back to "<name>--<id>": a double
-- dash never comes out of a name (runs of other characters become one
-- dash), and ids are unique, so the fallback is always free. Deleted
-- accounts get "deleted--<id>" for the same reason.
CREATE OR REPLACE FUNCTION users_set_handle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    base text := users_handle_base(NEW.first_name, NEW.last_name);
BEGIN
    IF NEW.handle IS NOT NULL THEN
        RETURN NEW;
    END IF;
    -- Writers of the same name queue here, so the check below sees theirs.
    PERFORM pg_advisory_xact_lock(hashtext('agora.handle.' || current_schema() || '.' || base));
    IF EXISTS (SELECT 1 FROM users WHERE handle = base) THEN
        NEW.handle := base || '--' || NEW.id;
    ELSE
        NEW.handle := base;
    END IF;
    RETURN NEW;
END $$;

UPDATE users SET handle = 'deleted--' || id WHERE deleted_at IS NOT NULL AND handle = 'deleted-' || id;
