-- Ketepai device store, schema 1.
-- Append-only: a shipped migration is never edited; a change is a new file.
-- PRAGMAs are set per connection in store/mod.rs, not here.

-- Small facts about this store: its format, the signed-in identity, cursors.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- One row per record document: a snapshot (Automerge save) plus the sizes
-- that decide compaction.
CREATE TABLE documents (
    doc_id         BLOB PRIMARY KEY,   -- 16-byte UUID
    kind           TEXT NOT NULL,      -- RecordKind code
    snapshot       BLOB NOT NULL,
    snapshot_len   INTEGER NOT NULL,
    increments_len INTEGER NOT NULL DEFAULT 0,
    heads          BLOB NOT NULL,      -- concatenated 32-byte change hashes
    readable       INTEGER NOT NULL DEFAULT 1,  -- 0: does not hydrate as its kind
    changed_seq    INTEGER NOT NULL    -- store-wide counter at the last change
) STRICT;
CREATE INDEX documents_by_changed ON documents(changed_seq);

-- Changes appended to a document since its snapshot, oldest first.
CREATE TABLE doc_changes (
    id     INTEGER PRIMARY KEY,
    doc_id BLOB NOT NULL REFERENCES documents(doc_id),
    hash   BLOB NOT NULL,
    bytes  BLOB NOT NULL
) STRICT;
CREATE INDEX doc_changes_by_doc ON doc_changes(doc_id, id);

-- Received changes whose dependencies have not arrived yet.
CREATE TABLE pending_changes (
    hash   BLOB PRIMARY KEY,
    doc_id BLOB NOT NULL,
    bytes  BLOB NOT NULL
) STRICT;
CREATE INDEX pending_changes_by_doc ON pending_changes(doc_id);

-- Local changes the server has not acknowledged, in the order they were made.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id     BLOB NOT NULL,
    hash       BLOB NOT NULL UNIQUE,
    bytes      BLOB NOT NULL,
    created_at INTEGER NOT NULL        -- by the device clock, for display only
) STRICT;

-- Projection of service logs: plain columns for lists, search and statistics.
CREATE TABLE service_logs (
    id             BLOB PRIMARY KEY,
    author         BLOB NOT NULL,
    team           BLOB,
    date           TEXT NOT NULL,      -- YYYY-MM-DD, China time
    start_time     TEXT,
    end_time       TEXT,
    village        INTEGER NOT NULL,
    township       INTEGER NOT NULL,
    county         INTEGER NOT NULL,
    lat            REAL,
    lon            REAL,
    activity       TEXT NOT NULL,
    industry       TEXT NOT NULL,
    farmers_served INTEGER NOT NULL,
    trainees       INTEGER,
    photo_count    INTEGER NOT NULL,
    status         TEXT NOT NULL,
    reviewed_by    BLOB,
    reviewed_at    INTEGER,
    has_conflicts  INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    summary        TEXT NOT NULL,      -- start of the description
    search         TEXT NOT NULL       -- lower-cased text for LIKE search
) STRICT;
CREATE INDEX service_logs_by_author ON service_logs(author, date DESC);
CREATE INDEX service_logs_by_team ON service_logs(team, date DESC);
CREATE INDEX service_logs_by_county ON service_logs(county, date);
CREATE INDEX service_logs_by_status ON service_logs(status, date DESC);

-- Projection of farmer consultations.
CREATE TABLE consultations (
    id                BLOB PRIMARY KEY,
    author            BLOB NOT NULL,
    team              BLOB,
    farmer_name       TEXT NOT NULL,
    farmer_phone      TEXT NOT NULL,
    village           INTEGER NOT NULL,
    township          INTEGER NOT NULL,
    county            INTEGER NOT NULL,
    subject           TEXT NOT NULL,
    channel           TEXT NOT NULL,
    asked_at          INTEGER NOT NULL,
    first_answered_at INTEGER,
    status            TEXT NOT NULL,
    follow_up_count   INTEGER NOT NULL,
    last_follow_up_at INTEGER,
    photo_count       INTEGER NOT NULL,
    has_conflicts     INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    summary           TEXT NOT NULL,
    search            TEXT NOT NULL
) STRICT;
CREATE INDEX consultations_by_author ON consultations(author, status, asked_at DESC);
CREATE INDEX consultations_by_team ON consultations(team, asked_at DESC);
CREATE INDEX consultations_by_county ON consultations(county, asked_at);

-- List items of records, for statistics that count distinct values:
-- technologies and varieties promoted, parties served by kind.
CREATE TABLE record_items (
    record BLOB NOT NULL,
    kind   TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (record, kind, value)
) STRICT, WITHOUT ROWID;
CREATE INDEX record_items_by_value ON record_items(kind, value);

-- The division register (NBS 2023 codes). A parent's code is a prefix of its
-- children's, so "villages of a township" is a range scan on the primary key.
CREATE TABLE div_provinces   (code INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;
CREATE TABLE div_prefectures (code INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;
CREATE TABLE div_counties    (code INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;
CREATE TABLE div_townships   (code INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;
CREATE TABLE div_villages    (code INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;

-- Counties whose townships and villages are fully loaded, with the register
-- version they came from.
CREATE TABLE register_counties (
    county    INTEGER PRIMARY KEY,
    version   TEXT NOT NULL,
    loaded_at INTEGER NOT NULL
) STRICT;

-- County tags (脱贫县, 重点帮扶县, 定点帮扶县) and where each came from.
CREATE TABLE county_tags (
    county INTEGER NOT NULL,
    tag    TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (county, tag)
) STRICT, WITHOUT ROWID;

-- Photo bytes on this device, content-addressed, with upload progress.
-- Photos made here start with uploaded = 0; photos fetched from the server
-- arrive uploaded = 1.
CREATE TABLE photos (
    hash            BLOB PRIMARY KEY,   -- SHA-256 of bytes
    bytes           BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    uploaded_offset INTEGER NOT NULL DEFAULT 0,
    uploaded        INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX photos_to_upload ON photos(uploaded, created_at);

-- Local changes the server refused: kept (nothing is thrown away) for the
-- user and a sync admin to see, and no longer pushed.
CREATE TABLE refused_changes (
    hash       BLOB PRIMARY KEY,
    doc_id     BLOB NOT NULL,
    bytes      BLOB NOT NULL,
    code       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    refused_at INTEGER NOT NULL
) STRICT;

-- Form drafts: what the user is typing, local only, never synced.
CREATE TABLE form_drafts (
    key        TEXT PRIMARY KEY,
    json       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
