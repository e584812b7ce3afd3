-- A new email address waits here until its owner confirms it from that address.
ALTER TABLE users ADD COLUMN pending_email text
    CHECK (pending_email = lower(pending_email) AND pending_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$');
