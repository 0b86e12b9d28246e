-- Ketepai sync server, PostgreSQL schema 3: the statistics projection (统计
-- 投影, issue 13). One row per record the server holds, with only the fields
-- the figures of docs/statistics.md read, written in the push's transaction
-- beside the document (`store::projection` says how a record becomes a
-- row). The figures are never computed in SQL: a report selects rows by
-- period, place, author and team and counts them with
-- `app_core::stats::ReportBuilder`.
--
-- Codes: activity 1 technical_guidance, 2 training, 3 demonstration,
-- 4 consultation, 5 entrepreneurship, 6 project, 7 other; status 1 draft,
-- 2 submitted, 3 approved, 4 returned, 5 changed_since_approval. `day` is
-- the work date as days from the common era (0001-01-01 is 1). `items` holds
-- the log's technologies, varieties, enterprises and cooperatives served, as
-- written (kind byte, LEB128 length, UTF-8 name; see `encode_items`).

CREATE TABLE stat_logs (
    doc_id    uuid PRIMARY KEY,
    author    uuid NOT NULL,
    team      uuid,
    village   bigint NOT NULL,
    day       integer NOT NULL,
    activity  smallint NOT NULL,
    status    smallint NOT NULL,
    duplicate boolean NOT NULL,
    farmers   bigint NOT NULL,
    trainees  bigint,
    photos    integer NOT NULL,
    items     bytea NOT NULL
);
-- A county's, prefecture's or province's villages are one range of codes.
CREATE INDEX stat_logs_place ON stat_logs(village, day);
CREATE INDEX stat_logs_author ON stat_logs(author, day);
CREATE INDEX stat_logs_team ON stat_logs(team, day);

CREATE TABLE stat_consultations (
    doc_id      uuid PRIMARY KEY,
    author      uuid NOT NULL,
    team        uuid,
    village     bigint NOT NULL,
    asked_at    bigint NOT NULL,
    answered_at bigint,
    duplicate   boolean NOT NULL
);
CREATE INDEX stat_consultations_place ON stat_consultations(village, asked_at);
CREATE INDEX stat_consultations_author ON stat_consultations(author, asked_at);
CREATE INDEX stat_consultations_team ON stat_consultations(team, asked_at);

-- A row here means documents stored before this schema still wait to be
-- projected; the server does it right after migrating, under the migration
-- lock and the push lock (it needs Automerge to read the snapshots), then
-- deletes the row.
CREATE TABLE stat_backfill (pending integer NOT NULL);
INSERT INTO stat_backfill(pending) SELECT 1 WHERE EXISTS (SELECT 1 FROM documents);
