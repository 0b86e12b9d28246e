-- Ketepai sync server, SQLite schema 1. Append-only: never edit a shipped
-- migration, add the next number instead. IDs are 16-byte UUID blobs, times
-- are milliseconds since the epoch by the server's clock, division codes
-- are integers.

CREATE TABLE teams (
    id               BLOB PRIMARY KEY,
    name             TEXT NOT NULL,
    county           INTEGER NOT NULL,
    leading_industry TEXT NOT NULL,
    lead             BLOB,
    created_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id            BLOB PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    scope_level   TEXT NOT NULL,
    scope_code    TEXT,
    team          BLOB REFERENCES teams(id),
    active        INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT NOT NULL,
    scope_epoch   INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE devices (
    id           BLOB PRIMARY KEY,
    user_id      BLOB NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    platform     TEXT NOT NULL,
    token_sha256 BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX devices_user ON devices(user_id);

-- An Automerge actor belongs to the device that first pushed a change by it.
CREATE TABLE actors (
    actor     BLOB PRIMARY KEY,
    device_id BLOB NOT NULL REFERENCES devices(id),
    bound_at  INTEGER NOT NULL
) STRICT;

-- One row per record document: its current state and where it sits, read
-- from the record itself.
CREATE TABLE documents (
    doc_id     BLOB PRIMARY KEY,
    kind       TEXT NOT NULL,
    author     BLOB NOT NULL,
    team       BLOB,
    county     INTEGER NOT NULL,
    snapshot   BLOB NOT NULL,
    heads      BLOB NOT NULL,
    last_seq   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX documents_author ON documents(author);
CREATE INDEX documents_team ON documents(team);
CREATE INDEX documents_county ON documents(county);

-- Every accepted change, numbered in commit order.
CREATE TABLE changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id      BLOB NOT NULL REFERENCES documents(doc_id),
    hash        BLOB NOT NULL UNIQUE,
    bytes       BLOB NOT NULL,
    device_id   BLOB NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX changes_doc ON changes(doc_id, seq);

-- Refused changes, kept for a sync admin. An unreleased row quarantines
-- its document for its device.
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   BLOB NOT NULL,
    doc_id      BLOB NOT NULL,
    hash        BLOB,
    bytes       BLOB NOT NULL,
    code        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    released_at INTEGER
) STRICT;
CREATE INDEX quarantine_open ON quarantine(device_id, doc_id) WHERE released_at IS NULL;

CREATE TABLE divisions (
    level TEXT NOT NULL,
    code  INTEGER NOT NULL,
    name  TEXT NOT NULL,
    PRIMARY KEY (level, code)
) STRICT, WITHOUT ROWID;

CREATE TABLE county_tags (
    county INTEGER NOT NULL,
    tag    TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (county, tag)
) STRICT;

CREATE TABLE photos (
    sha256     BLOB PRIMARY KEY,
    length     INTEGER NOT NULL,
    received   INTEGER NOT NULL,
    complete   INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   BLOB,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
) STRICT;
