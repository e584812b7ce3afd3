-- Groups of users: manual groups list their members; smart groups are AND-ed
-- rules evaluated in SQL whenever membership matters.
CREATE TABLE groups (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title      jsonb NOT NULL CHECK (jsonb_typeof(title) = 'object'),
    kind       text NOT NULL CHECK (kind IN ('manual', 'smart')),
    rules      jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(rules) = 'array'),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'smart' OR rules = '[]'::jsonb)
);

CREATE TABLE group_members (
    group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);
CREATE INDEX users_email_domain ON users (split_part(email, '@', 2)) WHERE deleted_at IS NULL;
