-- Manual email campaigns (premium): staff write an email in the city's
-- languages, choose its audience (everyone, or groups), send it to
-- themselves as a test, then send it. Sending freezes the audience into
-- campaign_recipients, whose state per person is the campaign's statistics;
-- the email ledger (email_deliveries) still guards every email against a
-- second send.
CREATE TABLE campaigns (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(subject) = 'object'),
    body        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(body) = 'object'), -- sanitised HTML per locale
    audience    text NOT NULL DEFAULT 'groups' CHECK (audience IN ('all', 'groups')),
    status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sending', 'sent')),
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    updated_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    sent_by     bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    sending_at  timestamptz,          -- when staff pressed Send
    resolved_at timestamptz,          -- when the worker froze the audience
    -- Statistics, recounted from campaign_recipients after each page sent:
    -- the frozen audience's size and how many emails were sent, failed or
    -- skipped; the rest are pending.
    recipients  integer NOT NULL DEFAULT 0 CHECK (recipients >= 0),
    sent        integer NOT NULL DEFAULT 0 CHECK (sent >= 0),
    failed      integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
    skipped     integer NOT NULL DEFAULT 0 CHECK (skipped >= 0),
    sent_at     timestamptz,          -- when every recipient was handled
    CHECK (status = 'draft' OR sending_at IS NOT NULL),
    CHECK (status <> 'sent' OR sent_at IS NOT NULL)
);
CREATE INDEX campaigns_recent ON campaigns (created_at DESC, id DESC);

-- The groups a campaign goes to, when its audience is 'groups'.
CREATE TABLE campaign_groups (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    group_id    bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, group_id)
);
CREATE INDEX campaign_groups_group ON campaign_groups (group_id);

-- Who a sent campaign goes to, and what became of each email: pending,
-- sent, failed (the send failed; a retry tries again) or skipped (the person
-- left the "manual" campaign type, or their account is gone; detail says
-- which).
CREATE TABLE campaign_recipients (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
    detail      text NOT NULL DEFAULT '',
    updated_at  timestamptz,
    PRIMARY KEY (campaign_id, user_id)
);
-- What a run still has to do: re-runs page through it, not the whole audience.
CREATE INDEX campaign_recipients_todo ON campaign_recipients (campaign_id, user_id) WHERE state IN ('pending', 'failed');

-- Test emails a staff member sent themselves; the id is the ledger's event
-- ("test:<id>"), so each test is sent once and never counted.
CREATE TABLE campaign_tests (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    locale      text NOT NULL CHECK (locale ~ '^[a-z]{2}(-[A-Z]{2})?$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_tests_recent ON campaign_tests (campaign_id, created_at);

-- How fast the city's campaigns leave: emails per second. Exactly one row.
CREATE TABLE campaign_settings (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    per_second smallint NOT NULL DEFAULT 10 CHECK (per_second BETWEEN 1 AND 50),
    updated_by bigint REFERENCES users (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO campaign_settings DEFAULT VALUES;
