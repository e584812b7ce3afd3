-- Sessions of the hosting operator's staff on the platform host. They live in
-- the platform schema, so a city host never finds them (and the console never
-- finds a city's sessions).
CREATE TABLE platform.operator_sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    operator_id  bigint NOT NULL REFERENCES platform.operators (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX operator_sessions_operator ON platform.operator_sessions (operator_id);
