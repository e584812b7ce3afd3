-- Usage per city, recomputed by the worker's hourly tenant:usage tasks and
-- shown to the operator.
CREATE TABLE platform.tenant_usage (
    tenant_id     bigint PRIMARY KEY REFERENCES platform.tenants (id) ON DELETE CASCADE,
    pages         int NOT NULL DEFAULT 0,
    topics        int NOT NULL DEFAULT 0,
    invitations   int NOT NULL DEFAULT 0,
    storage_bytes bigint NOT NULL DEFAULT 0,
    computed_at   timestamptz NOT NULL DEFAULT now()
);
