-- Staff answers on ideas: status changes (with an optional note) and
-- official feedback, kept as history.
CREATE TABLE idea_status_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idea_id     bigint NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    actor_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    from_status bigint NOT NULL REFERENCES idea_statuses (id),
    to_status   bigint NOT NULL REFERENCES idea_statuses (id),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idea_status_changes_idea ON idea_status_changes (idea_id, created_at);

CREATE TABLE idea_feedback (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idea_id    bigint NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    author_id  bigint REFERENCES users (id) ON DELETE SET NULL,
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000), -- sanitised HTML
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idea_feedback_idea ON idea_feedback (idea_id, created_at);
