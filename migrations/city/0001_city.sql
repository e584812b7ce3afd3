-- A city's own schema: its settings, static pages, topics and areas, and the
-- invitations its staff send. Runs with search_path set to the city schema.

-- settings holds exactly one row: the city's branding and portal behaviour.
CREATE TABLE settings (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),
    name               text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    welcome            jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(welcome) = 'object'),
    primary_color      text NOT NULL DEFAULT '#1d4ed8' CHECK (primary_color ~ '^#[0-9a-f]{6}$'),
    accent_color       text NOT NULL DEFAULT '#f59e0b' CHECK (accent_color ~ '^#[0-9a-f]{6}$'),
    logo_path          text NOT NULL DEFAULT '',
    registration_mode  text NOT NULL DEFAULT 'open' CHECK (registration_mode IN ('open', 'invite_only', 'closed')),
    force_login        boolean NOT NULL DEFAULT false,
    password_min_length int NOT NULL DEFAULT 10 CHECK (password_min_length BETWEEN 8 AND 128),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- pages are the city's static pages (about, terms, privacy, ...), title and
-- body as one JSON object per locale.
CREATE TABLE pages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,60}$'),
    title      jsonb NOT NULL CHECK (jsonb_typeof(title) = 'object'),
    body       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(body) = 'object'),
    position   int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE topics (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,60}$'),
    title       jsonb NOT NULL CHECK (jsonb_typeof(title) = 'object'),
    description jsonb NOT NULL DEFAULT '{}'::jsonb,
    position    int NOT NULL DEFAULT 0
);

CREATE TABLE areas (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title       jsonb NOT NULL CHECK (jsonb_typeof(title) = 'object'),
    description jsonb NOT NULL DEFAULT '{}'::jsonb,
    position    int NOT NULL DEFAULT 0
);

-- invitations are pending staff or citizen invitations; the token is stored
-- only as its SHA-256 hash.
CREATE TABLE invitations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+$'),
    role        text NOT NULL CHECK (role IN ('admin', 'moderator', 'citizen')),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz
);
CREATE UNIQUE INDEX invitations_pending_email ON invitations (email) WHERE accepted_at IS NULL;
