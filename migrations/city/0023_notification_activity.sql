-- Each notification names the activity that caused it, so the
-- activity:fanout task emails exactly the notifications of its activity.
ALTER TABLE notifications ADD COLUMN activity_id bigint REFERENCES activities (id) ON DELETE SET NULL;
CREATE INDEX notifications_activity ON notifications (activity_id) WHERE activity_id IS NOT NULL;
