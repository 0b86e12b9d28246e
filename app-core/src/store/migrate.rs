//! The one schema migration runner, for every SQLite file Ketepai keeps (the
//! device's store and the sync server's embedded backend), and the decision
//! it shares with the server's PostgreSQL runner: which migrations are
//! pending, and refusing a schema newer than the code.
//!
//! Migrations are numbered SQL scripts, append-only; migration `i` (from 0)
//! takes the schema from version `i` to `i + 1`. SQLite records the version
//! in `PRAGMA user_version`. Each migration runs in its own exclusive
//! transaction together with its version bump, and the version is read
//! inside that transaction, so a crash mid-migration leaves the previous
//! version intact and two processes opening one file at once never run a
//! migration twice. A file written by newer code is refused, not damaged.
//!
//! Hand-written because refinery and rusqlite_migration do not resolve with
//! rusqlite 0.43 (both pin an older `libsqlite3-sys`).

use rusqlite::{Connection, TransactionBehavior};

/// A schema written by newer code than this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("schema {found} is newer than this code understands ({supported})")]
pub struct SchemaTooNew {
    /// The version found.
    pub found: u32,
    /// The newest version this code knows.
    pub supported: u32,
}

/// A failure of [`run`].
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// SQLite failed (the migration's transaction rolled back).
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by newer code.
    #[error(transparent)]
    TooNew(#[from] SchemaTooNew),
}

/// The newest schema version `migrations` reach.
pub fn latest(migrations: &[&str]) -> u32 {
    u32::try_from(migrations.len()).expect("fewer than 2^32 migrations")
}

/// The migrations a schema at version `current` still needs, each with the
/// version it leaves behind, in order; an error when `current` is newer than
/// the newest migration.
pub fn pending<'m>(
    current: u32,
    migrations: &'m [&'m str],
) -> Result<impl Iterator<Item = (u32, &'m str)> + 'm, SchemaTooNew> {
    let supported = latest(migrations);
    if current > supported {
        return Err(SchemaTooNew {
            found: current,
            supported,
        });
    }
    Ok(migrations
        .iter()
        .zip(1..)
        .skip(current as usize)
        .map(|(sql, version)| (version, *sql)))
}

/// Brings the SQLite file behind `conn` up to date with `migrations`;
/// returns the version it is at.
pub fn run(conn: &mut Connection, migrations: &[&str]) -> Result<u32, MigrateError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        let current: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let Some((version, sql)) = pending(current, migrations)?.next() else {
            return Ok(current);
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "sqlite schema migrated");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &[&str] = &[
        "CREATE TABLE a (x INTEGER);",
        "ALTER TABLE a ADD COLUMN y INTEGER;",
    ];

    fn version(conn: &Connection) -> u32 {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn pending_is_what_lies_past_the_current_version() {
        let all: Vec<_> = pending(0, TWO).unwrap().collect();
        assert_eq!(all, vec![(1, TWO[0]), (2, TWO[1])]);
        let rest: Vec<_> = pending(1, TWO).unwrap().collect();
        assert_eq!(rest, vec![(2, TWO[1])]);
        assert_eq!(pending(2, TWO).unwrap().count(), 0);
        assert_eq!(
            pending(3, TWO).err(),
            Some(SchemaTooNew {
                found: 3,
                supported: 2
            })
        );
    }

    #[test]
    fn runs_each_migration_once_and_stops_at_the_newest() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(run(&mut conn, &TWO[..1]).unwrap(), 1);
        assert_eq!(run(&mut conn, TWO).unwrap(), 2);
        assert_eq!(run(&mut conn, TWO).unwrap(), 2, "a second run is a no-op");
        conn.execute("INSERT INTO a (x, y) VALUES (1, 2)", [])
            .unwrap();
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        let broken = [TWO[0], "CREATE TABLE b (z INTEGER); NOT SQL;"];
        assert!(matches!(
            run(&mut conn, &broken),
            Err(MigrateError::Sqlite(_))
        ));
        assert_eq!(version(&conn), 1);
        let b: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(b, 0, "the failed migration's statements rolled back");
    }

    #[test]
    fn a_newer_schema_is_refused_untouched() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 7).unwrap();
        assert!(matches!(
            run(&mut conn, TWO),
            Err(MigrateError::TooNew(SchemaTooNew {
                found: 7,
                supported: 2
            }))
        ));
        assert_eq!(version(&conn), 7);
    }
}
