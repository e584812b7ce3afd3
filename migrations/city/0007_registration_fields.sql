-- Questions a city asks at registration, answered into users.custom_fields.
CREATE TABLE registration_fields (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key        text NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9_]{0,40}$'),
    label      jsonb NOT NULL CHECK (jsonb_typeof(label) = 'object'),
    kind       text NOT NULL CHECK (kind IN ('text', 'select', 'multiselect', 'date', 'number', 'checkbox')),
    required   boolean NOT NULL DEFAULT false,
    options    jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(options) = 'array'),
    position   int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
