-- Ketepai sync server, SQLite schema 2: the sync admin's console. Users who
-- must set a new password; what devices report about their outbox and when
-- they last pushed and pulled; how a quarantined change was resolved;
-- notices for devices; an audit log with the acting device, the subject's
-- county and province, before and after, that refuses to be edited.

-- A one-time password (a reset, a new account) only sets a new one.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

-- Sync health, from the device's reports with each push and pull.
ALTER TABLE devices ADD COLUMN app_version TEXT;
ALTER TABLE devices ADD COLUMN last_push_at INTEGER;
ALTER TABLE devices ADD COLUMN last_pull_at INTEGER;
ALTER TABLE devices ADD COLUMN outbox_changes INTEGER;
ALTER TABLE devices ADD COLUMN outbox_oldest_at INTEGER;
ALTER TABLE devices ADD COLUMN reported_at INTEGER;
ALTER TABLE devices ADD COLUMN backlog_rises INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN backlog_growing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN notices_pending INTEGER NOT NULL DEFAULT 0;

-- A closed row (released_at set) was released, or discarded when
-- discarded_at is set too; open rows may be checked again (rechecked_at)
-- and then carry today's code and reason.
ALTER TABLE quarantine ADD COLUMN resolved_by BLOB;
ALTER TABLE quarantine ADD COLUMN discarded_at INTEGER;
ALTER TABLE quarantine ADD COLUMN discard_reason TEXT;
ALTER TABLE quarantine ADD COLUMN rechecked_at INTEGER;
CREATE INDEX quarantine_device_doc ON quarantine(device_id, doc_id, id);

-- What a sync admin decided about a device's refused changes, until the
-- device acknowledges it.
CREATE TABLE device_notices (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id BLOB NOT NULL,
    doc_id    BLOB NOT NULL,
    hash      BLOB,
    kind      TEXT NOT NULL,
    code      TEXT NOT NULL,
    reason    TEXT NOT NULL,
    at        INTEGER NOT NULL,
    acked_at  INTEGER
) STRICT;
CREATE INDEX device_notices_open ON device_notices(device_id, id) WHERE acked_at IS NULL;

ALTER TABLE audit ADD COLUMN device BLOB;
ALTER TABLE audit ADD COLUMN county INTEGER;
ALTER TABLE audit ADD COLUMN province INTEGER;
ALTER TABLE audit ADD COLUMN before_json TEXT;
ALTER TABLE audit ADD COLUMN after_json TEXT;
CREATE INDEX audit_actor ON audit(actor, id);
CREATE INDEX audit_action ON audit(action, id);
CREATE INDEX audit_subject ON audit(subject, id);
CREATE INDEX audit_province ON audit(province, id);
CREATE INDEX audit_county ON audit(county, id);

-- The audit log is appended to, never edited.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Where each user works: their team's county, or their county scope; and
-- the province of that, or their province scope. Admin listings filter a
-- sync admin's area on it.
CREATE VIEW user_homes AS
SELECT u.id AS user_id,
       coalesce(t.county,
                CASE WHEN u.scope_level = 'county' THEN CAST(u.scope_code AS INTEGER) END) AS county,
       coalesce(t.county / 10000,
                CASE WHEN u.scope_level = 'county' THEN CAST(u.scope_code AS INTEGER) / 10000
                     WHEN u.scope_level = 'province' THEN CAST(u.scope_code AS INTEGER) END) AS province
FROM users u LEFT JOIN teams t ON t.id = u.team;
