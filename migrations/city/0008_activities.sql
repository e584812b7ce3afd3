-- The activity log: who did what to which item, written in the same
-- transaction as the change. Notifications, digests, smart groups
-- ("participated in project") and statistics read it.
CREATE TABLE activities (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    action     text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    item_type  text NOT NULL,
    item_id    bigint NOT NULL,
    project_id bigint,
    payload    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activities_actor_project ON activities (actor_id, project_id) WHERE project_id IS NOT NULL;
CREATE INDEX activities_created ON activities (created_at);
