-- Likes and dislikes on comments, counted like those on ideas.
ALTER TABLE comments
    ADD COLUMN likes_count int NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
    ADD COLUMN dislikes_count int NOT NULL DEFAULT 0 CHECK (dislikes_count >= 0);
