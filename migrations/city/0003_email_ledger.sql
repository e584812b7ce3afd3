-- The email ledger: one row per (campaign, recipient, event). A worker claims
-- the row before sending, so no email is ever sent twice for one event, even
-- when a task runs again or two workers race.
CREATE TABLE email_deliveries (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign   text NOT NULL CHECK (campaign ~ '^[a-z_]+$'),
    recipient  text NOT NULL,
    event      text NOT NULL,
    user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    state      text NOT NULL DEFAULT 'claimed' CHECK (state IN ('claimed', 'sent')),
    claimed_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    UNIQUE (campaign, recipient, event)
);

-- Short codes typed by hand are hashed together with the user id, so equal
-- codes of two users never collide.
ALTER TABLE email_codes ADD COLUMN short_hash bytea;
CREATE INDEX email_codes_short ON email_codes (user_id, short_hash) WHERE used_at IS NULL;
