-- Email consent per user and campaign type, and the schedule of the weekly
-- digests. A user without a row for a campaign is subscribed to it;
-- unsubscribing (profile, API, or an email's one-click link) stores false.
-- Transactional emails (confirmation, password reset, change of email,
-- invitation) have no consent.
CREATE TABLE email_consents (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign   text NOT NULL CHECK (campaign ~ '^[a-z][a-z_]{1,40}$'),
    subscribed boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, campaign)
);
-- Who left a campaign: the digests skip them while paging through users.
CREATE INDEX email_consents_off ON email_consents (campaign, user_id) WHERE NOT subscribed;

-- When the weekly digests go out, in the city's own time zone: ISO weekday
-- (1 = Monday ... 7 = Sunday) and hour. Exactly one row.
CREATE TABLE digest_settings (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    weekday    smallint NOT NULL DEFAULT 1 CHECK (weekday BETWEEN 1 AND 7),
    hour       smallint NOT NULL DEFAULT 8 CHECK (hour BETWEEN 0 AND 23),
    updated_by bigint REFERENCES users (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO digest_settings DEFAULT VALUES;
