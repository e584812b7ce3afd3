-- Indexes of the idea list: a topic filter reads (topic, idea) pairs
-- without touching the table, and a project's live ideas are found by id
-- without reading the wide rows. The counters stay out of every index, so
-- a reaction's counter update remains a HOT update.
CREATE INDEX idea_topics_topic_idea ON idea_topics (topic_id, idea_id);
DROP INDEX idea_topics_topic;
CREATE INDEX ideas_listing ON ideas (project_id, id) WHERE deleted_at IS NULL AND hidden_at IS NULL;
