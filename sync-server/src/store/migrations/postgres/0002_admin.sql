-- Ketepai sync server, PostgreSQL schema 2: the sync admin's console. Users
-- who must set a new password; what devices report about their outbox and
-- when they last pushed and pulled; how a quarantined change was resolved;
-- notices for devices; an audit log with the acting device, the subject's
-- county and province, before and after, that refuses to be edited.

ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;

ALTER TABLE devices ADD COLUMN app_version text;
ALTER TABLE devices ADD COLUMN last_push_at bigint;
ALTER TABLE devices ADD COLUMN last_pull_at bigint;
ALTER TABLE devices ADD COLUMN outbox_changes bigint;
ALTER TABLE devices ADD COLUMN outbox_oldest_at bigint;
ALTER TABLE devices ADD COLUMN reported_at bigint;
ALTER TABLE devices ADD COLUMN backlog_rises bigint NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN backlog_growing boolean NOT NULL DEFAULT false;
ALTER TABLE devices ADD COLUMN notices_pending bigint NOT NULL DEFAULT 0;

ALTER TABLE quarantine ADD COLUMN resolved_by uuid;
ALTER TABLE quarantine ADD COLUMN discarded_at bigint;
ALTER TABLE quarantine ADD COLUMN discard_reason text;
ALTER TABLE quarantine ADD COLUMN rechecked_at bigint;
CREATE INDEX quarantine_device_doc ON quarantine(device_id, doc_id, id);

CREATE TABLE device_notices (
    id        bigserial PRIMARY KEY,
    device_id uuid NOT NULL,
    doc_id    uuid NOT NULL,
    hash      bytea,
    kind      text NOT NULL,
    code      text NOT NULL,
    reason    text NOT NULL,
    at        bigint NOT NULL,
    acked_at  bigint
);
CREATE INDEX device_notices_open ON device_notices(device_id, id) WHERE acked_at IS NULL;

ALTER TABLE audit ADD COLUMN device uuid;
ALTER TABLE audit ADD COLUMN county bigint;
ALTER TABLE audit ADD COLUMN province bigint;
ALTER TABLE audit ADD COLUMN before_json text;
ALTER TABLE audit ADD COLUMN after_json text;
CREATE INDEX audit_actor ON audit(actor, id);
CREATE INDEX audit_action ON audit(action, id);
CREATE INDEX audit_subject ON audit(subject, id);
CREATE INDEX audit_province ON audit(province, id);
CREATE INDEX audit_county ON audit(county, id);

-- The audit log is appended to, never edited. The server's role owns the
-- table, so REVOKE alone would not stop it; the triggers do (a deployment
-- that runs the server under a role that does not own the schema can also
-- REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM that role).
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_no_update_or_delete BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE VIEW user_homes AS
SELECT u.id AS user_id,
       coalesce(t.county,
                CASE WHEN u.scope_level = 'county' THEN CAST(u.scope_code AS bigint) END) AS county,
       coalesce(t.county / 10000,
                CASE WHEN u.scope_level = 'county' THEN CAST(u.scope_code AS bigint) / 10000
                     WHEN u.scope_level = 'province' THEN CAST(u.scope_code AS bigint) END) AS province
FROM users u LEFT JOIN teams t ON t.id = u.team;
