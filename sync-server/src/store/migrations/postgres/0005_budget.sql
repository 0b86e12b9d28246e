-- Ketepai sync server, PostgreSQL schema 5, the resource budget: refused bytes bounded. A
-- refused change over the kept size (or past its device's budget) keeps
-- only its head in `bytes`; `length` is the whole change's size and
-- `sha256` the SHA-256 of the whole. Both are NULL when `bytes` is the
-- whole change.
ALTER TABLE quarantine ADD COLUMN length bigint;
ALTER TABLE quarantine ADD COLUMN sha256 bytea;

-- An unfinished photo upload belongs to the device that announced it: only
-- that device continues it (until it is abandoned for a day).
ALTER TABLE photos ADD COLUMN uploader uuid;
