-- API tokens of the operator's staff, for the platform host's JSON API.
-- Only their SHA-256 hash is stored.
CREATE TABLE platform.operator_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id  bigint NOT NULL REFERENCES platform.operators (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX operator_tokens_operator ON platform.operator_tokens (operator_id);
