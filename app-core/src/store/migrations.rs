//! The device store's schema: its numbered migrations, run by the shared
//! runner in [`super::migrate`] (`user_version`, one transaction each,
//! append-only).

use rusqlite::Connection;

use super::migrate::{self, MigrateError};
use super::{Result, StoreError};

/// The migrations, in order; migration `i` takes the schema from `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_photo_attached.sql"),
    include_str!("migrations/0003_review_history.sql"),
    include_str!("migrations/0004_record_photos.sql"),
    include_str!("migrations/0005_screen_indexes.sql"),
];

/// The schema version this code migrates to.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The migration scripts, for tests that check them.
pub fn migrations() -> &'static [&'static str] {
    MIGRATIONS
}

pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    match migrate::run(conn, MIGRATIONS) {
        Ok(_) => Ok(()),
        Err(MigrateError::Sqlite(e)) => Err(StoreError::Sqlite(e)),
        Err(MigrateError::TooNew(t)) => Err(StoreError::SchemaTooNew {
            found: t.found,
            supported: t.supported,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_in_order_and_are_idempotent_on_reopen() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let v: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        migrate(&mut conn).unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'documents'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 1);
    }

    #[test]
    fn a_newer_store_is_refused_not_damaged() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { .. }));
    }
}
