-- The platform (control plane) schema: the city registry, hosts, operators and
-- the outbox. Everything here is schema-qualified; the pool's search_path is inert.
CREATE SCHEMA IF NOT EXISTS platform;

CREATE TABLE platform.tenants (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug         text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9_]{1,40}$'),
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    schema_name  text NOT NULL UNIQUE CHECK (schema_name ~ '^city_[a-z][a-z0-9_]{1,40}$'),
    shard        text NOT NULL DEFAULT 'main',
    plan         text NOT NULL DEFAULT 'essential' CHECK (plan IN ('essential', 'standard', 'premium')),
    lifecycle    text NOT NULL DEFAULT 'trial' CHECK (lifecycle IN ('trial', 'active', 'suspended', 'churned')),
    locales      text[] NOT NULL CHECK (cardinality(locales) BETWEEN 1 AND 20),
    time_zone    text NOT NULL DEFAULT 'UTC',
    country      text NOT NULL DEFAULT '' CHECK (country = '' OR country ~ '^[A-Z]{2}$'),
    settings     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    suspended_at timestamptz,
    deleted_at   timestamptz
);

CREATE TABLE platform.tenant_hosts (
    host       text PRIMARY KEY CHECK (host = lower(host) AND host !~ '[:/ ]' AND length(host) BETWEEN 1 AND 253),
    tenant_id  bigint NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    is_primary boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- At most one primary host per city.
CREATE UNIQUE INDEX tenant_hosts_one_primary ON platform.tenant_hosts (tenant_id) WHERE is_primary;
CREATE INDEX tenant_hosts_tenant ON platform.tenant_hosts (tenant_id);

CREATE TABLE platform.operators (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+$'),
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

-- Background work recorded in the same transaction as the city write that
-- caused it; a relay turns each row into an asynq task and deletes it.
CREATE TABLE platform.outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  bigint REFERENCES platform.tenants (id) ON DELETE CASCADE,
    task_type  text NOT NULL CHECK (task_type ~ '^[a-z_]+:[a-z_]+$'),
    task_id    text NOT NULL UNIQUE,
    queue      text NOT NULL DEFAULT 'default',
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts   int NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_created ON platform.outbox (created_at, id);
