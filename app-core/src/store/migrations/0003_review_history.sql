-- Schema-2 records: the review state derived from a log's decisions, the
-- last decision, and duplicate marks, projected so that the review queue,
-- badges and statistics read plain columns. The store re-projects every
-- document when it opens after this migration (store::PROJECTION_VERSION),
-- so rows of older stores get these columns filled from their documents.
ALTER TABLE service_logs ADD COLUMN review_state TEXT NOT NULL DEFAULT 'submitted';
ALTER TABLE service_logs ADD COLUMN duplicate_of BLOB;
ALTER TABLE service_logs ADD COLUMN last_decision_at INTEGER;
ALTER TABLE service_logs ADD COLUMN last_decision_by BLOB;
ALTER TABLE consultations ADD COLUMN duplicate_of BLOB;

-- The review queue: a team's logs waiting for review, newest first.
CREATE INDEX service_logs_by_review ON service_logs(team, review_state, date DESC);
-- Possible duplicates: one author's logs of one day in one village.
CREATE INDEX service_logs_by_visit ON service_logs(author, date, village);
-- Records with fields to resolve.
CREATE INDEX service_logs_with_conflicts ON service_logs(has_conflicts) WHERE has_conflicts = 1;
CREATE INDEX consultations_with_conflicts ON consultations(has_conflicts) WHERE has_conflicts = 1;
