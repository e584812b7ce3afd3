-- Participation projects and their phase timelines.
CREATE TABLE project_folders (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title    jsonb NOT NULL CHECK (jsonb_typeof(title) = 'object'),
    position int NOT NULL DEFAULT 0
);

CREATE TABLE projects (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug         text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,80}$'),
    title        jsonb NOT NULL CHECK (jsonb_typeof(title) = 'object'),
    description  jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(description) = 'object'),
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    visibility   text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'groups', 'admins')),
    folder_id    bigint REFERENCES project_folders (id) ON DELETE SET NULL,
    header_image text NOT NULL DEFAULT '',
    position     int NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX projects_listing ON projects (status, position, id);

CREATE TABLE project_topics (
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    topic_id   bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, topic_id)
);
CREATE INDEX project_topics_topic ON project_topics (topic_id);

CREATE TABLE project_areas (
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    area_id    bigint NOT NULL REFERENCES areas (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, area_id)
);
CREATE INDEX project_areas_area ON project_areas (area_id);

CREATE TABLE project_groups (
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    group_id   bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, group_id)
);

CREATE TABLE project_moderators (
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_moderators_user ON project_moderators (user_id);

-- Phases form a timeline: within a project no two phases overlap. An
-- open-ended phase reaches to infinity, so the same constraint makes it
-- impossible for any phase to follow it: only the last may be open-ended.
CREATE TABLE phases (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id         bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title              jsonb NOT NULL CHECK (jsonb_typeof(title) = 'object'),
    description        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(description) = 'object'),
    method             text NOT NULL CHECK (method IN ('information', 'ideation', 'voting', 'poll', 'native_survey', 'volunteering', 'proposals')),
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz CHECK (ends_at IS NULL OR ends_at > starts_at),
    period             tstzrange GENERATED ALWAYS AS (tstzrange(starts_at, ends_at, '[)')) STORED,
    posting_enabled    boolean NOT NULL DEFAULT true,
    commenting_enabled boolean NOT NULL DEFAULT true,
    reacting_enabled   boolean NOT NULL DEFAULT true,
    dislikes_enabled   boolean NOT NULL DEFAULT true,
    reaction_limit     int CHECK (reaction_limit IS NULL OR reaction_limit > 0),
    permissions        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(permissions) = 'object'),
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT phases_no_overlap EXCLUDE USING gist (project_id WITH =, period WITH &&)
);
CREATE INDEX phases_project ON phases (project_id, starts_at);
