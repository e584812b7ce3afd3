-- The city admins' choice of features, within what the plan allows. A
-- feature without a row is on; a downgrade never touches these rows, so an
-- upgrade brings back exactly what the admins had.
CREATE TABLE feature_settings (
    feature    text PRIMARY KEY CHECK (feature ~ '^[a-z][a-z_]{1,60}$'),
    enabled    boolean NOT NULL,
    updated_by bigint REFERENCES users (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
