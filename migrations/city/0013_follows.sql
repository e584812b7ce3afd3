-- What users follow: projects, ideas, topics and areas. Notifications and
-- digests go to followers; authors follow their ideas.
CREATE TABLE follows (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_type  text NOT NULL CHECK (item_type IN ('project', 'idea', 'topic', 'area')),
    item_id    bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, item_type, item_id)
);
CREATE INDEX follows_item ON follows (item_type, item_id);
