-- Ideas (inputs) posted in projects, their statuses, topics and reactions.
CREATE TABLE idea_statuses (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code     text NOT NULL UNIQUE CHECK (code ~ '^[a-z][a-z0-9_]{0,40}$'),
    title    jsonb NOT NULL CHECK (jsonb_typeof(title) = 'object'),
    color    text NOT NULL DEFAULT '#6b7280' CHECK (color ~ '^#[0-9a-f]{6}$'),
    position int NOT NULL DEFAULT 0,
    custom   boolean NOT NULL DEFAULT false
);
INSERT INTO idea_statuses (code, title, color, position) VALUES
    ('proposed', '{"en": "Proposed", "fr": "Proposée", "nl": "Voorgesteld"}', '#6b7280', 0),
    ('viewed', '{"en": "Viewed", "fr": "Vue", "nl": "Bekeken"}', '#0ea5e9', 1),
    ('under_consideration', '{"en": "Under consideration", "fr": "À l''étude", "nl": "In behandeling"}', '#f59e0b', 2),
    ('accepted', '{"en": "Accepted", "fr": "Acceptée", "nl": "Aanvaard"}', '#16a34a', 3),
    ('rejected', '{"en": "Rejected", "fr": "Rejetée", "nl": "Afgewezen"}', '#dc2626', 4),
    ('implemented', '{"en": "Implemented", "fr": "Réalisée", "nl": "Uitgevoerd"}', '#7c3aed', 5);

CREATE TABLE ideas (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id     bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    phase_id       bigint REFERENCES phases (id) ON DELETE SET NULL,
    author_id      bigint REFERENCES users (id) ON DELETE SET NULL,
    anonymous      boolean NOT NULL DEFAULT false,
    title          text NOT NULL CHECK (length(btrim(title)) BETWEEN 3 AND 200),
    body           text NOT NULL DEFAULT '' CHECK (length(body) <= 20000), -- sanitised HTML
    body_text      text NOT NULL DEFAULT '',                               -- the body without markup, for search
    status_id      bigint NOT NULL REFERENCES idea_statuses (id),
    lang           regconfig NOT NULL DEFAULT 'simple',
    search         tsvector GENERATED ALWAYS AS (setweight(to_tsvector(lang, title), 'A') || setweight(to_tsvector(lang, body_text), 'B')) STORED,
    likes_count    int NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
    dislikes_count int NOT NULL DEFAULT 0 CHECK (dislikes_count >= 0),
    comments_count int NOT NULL DEFAULT 0 CHECK (comments_count >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz
);
CREATE INDEX ideas_project ON ideas (project_id, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX ideas_search ON ideas USING gin (search);

CREATE TABLE idea_topics (
    idea_id  bigint NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    topic_id bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    PRIMARY KEY (idea_id, topic_id)
);
CREATE INDEX idea_topics_topic ON idea_topics (topic_id);

-- One reaction per user per item; counters on the item are kept in the same
-- transaction, so they always equal the rows.
CREATE TABLE reactions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_type  text NOT NULL CHECK (item_type IN ('idea', 'comment')),
    item_id    bigint NOT NULL,
    mode       text NOT NULL CHECK (mode IN ('like', 'dislike')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, item_type, item_id)
);
CREATE INDEX reactions_item ON reactions (item_type, item_id);
