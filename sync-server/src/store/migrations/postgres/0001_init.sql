-- Ketepai sync server, PostgreSQL schema 1. Append-only: never edit a
-- shipped migration, add the next number instead. Times are milliseconds
-- since the epoch by the server's clock; division codes are integers.

CREATE TABLE teams (
    id               uuid PRIMARY KEY,
    name             text NOT NULL,
    county           bigint NOT NULL,
    leading_industry text NOT NULL,
    lead             uuid,
    created_at       bigint NOT NULL
);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    role          text NOT NULL,
    scope_level   text NOT NULL,
    scope_code    text,
    team          uuid REFERENCES teams(id),
    active        boolean NOT NULL DEFAULT true,
    password_hash text NOT NULL,
    scope_epoch   bigint NOT NULL DEFAULT 1,
    created_at    bigint NOT NULL
);

CREATE TABLE devices (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users(id),
    name         text NOT NULL,
    platform     text NOT NULL,
    token_sha256 bytea NOT NULL UNIQUE,
    created_at   bigint NOT NULL,
    last_seen_at bigint NOT NULL,
    revoked_at   bigint
);
CREATE INDEX devices_user ON devices(user_id);

CREATE TABLE actors (
    actor     bytea PRIMARY KEY,
    device_id uuid NOT NULL REFERENCES devices(id),
    bound_at  bigint NOT NULL
);

CREATE TABLE documents (
    doc_id     uuid PRIMARY KEY,
    kind       text NOT NULL,
    author     uuid NOT NULL,
    team       uuid,
    county     bigint NOT NULL,
    snapshot   bytea NOT NULL,
    heads      bytea NOT NULL,
    last_seq   bigint NOT NULL,
    updated_at bigint NOT NULL
);
CREATE INDEX documents_author ON documents(author);
CREATE INDEX documents_team ON documents(team);
CREATE INDEX documents_county ON documents(county);

-- seq comes from a sequence; pushes hold a transaction-scoped advisory
-- lock, so sequence numbers become visible in commit order.
CREATE TABLE changes (
    seq         bigserial PRIMARY KEY,
    doc_id      uuid NOT NULL REFERENCES documents(doc_id),
    hash        bytea NOT NULL UNIQUE,
    bytes       bytea NOT NULL,
    device_id   uuid NOT NULL,
    received_at bigint NOT NULL
);
CREATE INDEX changes_doc ON changes(doc_id, seq);

CREATE TABLE quarantine (
    id          bigserial PRIMARY KEY,
    device_id   uuid NOT NULL,
    doc_id      uuid NOT NULL,
    hash        bytea,
    bytes       bytea NOT NULL,
    code        text NOT NULL,
    reason      text NOT NULL,
    at          bigint NOT NULL,
    released_at bigint
);
CREATE INDEX quarantine_open ON quarantine(device_id, doc_id) WHERE released_at IS NULL;

CREATE TABLE divisions (
    level text NOT NULL,
    code  bigint NOT NULL,
    name  text NOT NULL,
    PRIMARY KEY (level, code)
);

CREATE TABLE county_tags (
    county bigint NOT NULL,
    tag    text NOT NULL,
    source text NOT NULL,
    PRIMARY KEY (county, tag)
);

CREATE TABLE photos (
    sha256     bytea PRIMARY KEY,
    length     bigint NOT NULL,
    received   bigint NOT NULL,
    complete   boolean NOT NULL,
    created_at bigint NOT NULL
);

CREATE TABLE audit (
    id      bigserial PRIMARY KEY,
    at      bigint NOT NULL,
    actor   uuid,
    action  text NOT NULL,
    subject text NOT NULL,
    detail  text NOT NULL
);
