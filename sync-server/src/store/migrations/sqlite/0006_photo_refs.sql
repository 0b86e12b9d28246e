-- Ketepai sync server, SQLite schema 6: photos bound to records. A device
-- downloads a finished photo only when a record in its read scope refers to
-- it (or it uploaded the photo). `photo_refs` holds, for each document, the
-- photos (and thumbnails) its record names, rewritten in the push's
-- transaction beside the document.
CREATE TABLE photo_refs (
    sha256 BLOB NOT NULL,
    doc_id BLOB NOT NULL,
    PRIMARY KEY (sha256, doc_id)
) STRICT;
CREATE INDEX photo_refs_doc ON photo_refs(doc_id);

-- A row here means documents stored before this schema still wait to have
-- their photos listed; the server does it when it opens the database (it
-- needs Automerge to read the snapshots), then deletes the row.
CREATE TABLE photo_refs_backfill (pending INTEGER NOT NULL) STRICT;
INSERT INTO photo_refs_backfill(pending) SELECT 1 WHERE EXISTS (SELECT 1 FROM documents);

-- Unfinished uploads by device, for the upload quotas and the sweep.
CREATE INDEX photos_unfinished ON photos(uploader, created_at) WHERE complete = 0;
