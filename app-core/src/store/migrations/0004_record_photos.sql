-- The photos each record refers to (a photo and its thumbnail, by hash),
-- projected so that the sync engine can find the full photos of the team
-- lead's review queue that are not on the device yet and fetch them in
-- the background (review then works offline) without loading documents.
-- Filled by the projection; the store re-projects every document when it
-- opens after this migration (store::PROJECTION_VERSION 3).
CREATE TABLE record_photos (
    record BLOB NOT NULL,
    hash   BLOB NOT NULL,
    thumb  BLOB NOT NULL,
    PRIMARY KEY (record, hash)
) STRICT, WITHOUT ROWID;
