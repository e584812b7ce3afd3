-- Accounts of a city: its citizens and staff, their sessions, API tokens and
-- one-time email codes. Every secret is stored only as its SHA-256 hash.

CREATE TABLE users (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL once the account is deleted (the row stays so content keeps an author).
    email              text UNIQUE CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    password_hash      text NOT NULL DEFAULT '',
    first_name         text NOT NULL DEFAULT '' CHECK (length(first_name) <= 100),
    last_name          text NOT NULL DEFAULT '' CHECK (length(last_name) <= 100),
    bio                text NOT NULL DEFAULT '' CHECK (length(bio) <= 2000),
    avatar_path        text NOT NULL DEFAULT '',
    locale             text NOT NULL DEFAULT 'en' CHECK (locale ~ '^[a-z]{2}(-[A-Z]{2})?$'),
    role               text NOT NULL DEFAULT 'citizen' CHECK (role IN ('admin', 'moderator', 'citizen')),
    custom_fields      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(custom_fields) = 'object'),
    email_confirmed_at timestamptz,
    blocked_until      timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    CHECK (deleted_at IS NOT NULL OR email IS NOT NULL)
);
CREATE INDEX users_role ON users (role) WHERE deleted_at IS NULL;

-- sessions are server-side browser sessions; the cookie holds the token.
CREATE TABLE sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    user_agent   text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- api_tokens are Bearer tokens a user creates for scripts and integrations.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- email_codes are one-time codes and links: email confirmation, password
-- reset, change of email.
CREATE TABLE email_codes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('confirm', 'reset', 'change_email')),
    code_hash  bytea NOT NULL UNIQUE,
    new_email  text,
    attempts   int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX email_codes_user ON email_codes (user_id, purpose) WHERE used_at IS NULL;
