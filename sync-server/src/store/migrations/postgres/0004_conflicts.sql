-- Ketepai sync server, PostgreSQL schema 4: records whose fields hold
-- concurrent values (冲突), for the sync admin's conflict list. Each push
-- (and release) writes whether the stored document has conflicts: since
-- when (server clock), or NULL. Documents stored before this schema are
-- checked once when the server opens (conflicts_checked false until then).
ALTER TABLE documents ADD COLUMN conflicts_since bigint;
ALTER TABLE documents ADD COLUMN conflicts_checked boolean NOT NULL DEFAULT false;
CREATE INDEX documents_conflicted ON documents(conflicts_since, doc_id)
    WHERE conflicts_since IS NOT NULL;
CREATE INDEX documents_unchecked ON documents(doc_id) WHERE NOT conflicts_checked;
