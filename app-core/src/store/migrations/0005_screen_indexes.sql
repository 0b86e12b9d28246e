-- Covering indexes for the team lead's screens (issue 11: a team's year of
-- 50,000 logs), so that they read compact index entries in order instead of
-- the rows themselves (long summaries and search text) one by one.
--
-- The review queue: its filters and its order (newest first) in one index,
-- so that its count and its page of ids never touch the table; it replaces
-- service_logs_by_review, a prefix of it.
DROP INDEX service_logs_by_review;
CREATE INDEX service_logs_for_review ON service_logs(
    team, review_state, date DESC, start_time DESC, id DESC, author, township, duplicate_of);
-- Statistics' facts (Store::read_facts, the dashboard's last log of each
-- member): every column they read, by date then id.
CREATE INDEX service_logs_for_stats ON service_logs(
    date, id, team, author, village, activity, review_state, farmers_served, trainees,
    photo_count, duplicate_of);
