//! Records from rows, written once for both backends.
//!
//! A backend decodes one column into a plain value ([`Columns`]: SQLite
//! stores UUIDs as 16-byte blobs and flags as integers, PostgreSQL has
//! `uuid` and `boolean`); the functions here build the store's records from
//! those values, in the column order of the `*_COLUMNS` lists, which both
//! schemas share. Also here: a scope as its two columns and back.

use app_core::domain::{
    CountyCode, DeviceId, DocId, PhotoHash, ProvinceCode, RecordKind, Role, Scope, Team, TeamId,
    Timestamp, User, UserId,
};
use app_core::scope::Placement;
use app_core::store::SliceDivision;
use uuid::Uuid;

use super::{
    AuditEntry, DeviceRecord, PhotoRecord, QuarantineEntry, Result, StoreError, StoredChange,
    UserRecord,
};

/// One row of a result, column by column (from 0), as plain values.
pub(crate) trait Columns {
    /// A UUID.
    fn uuid(&self, i: usize) -> Result<Uuid>;
    /// A UUID or NULL.
    fn opt_uuid(&self, i: usize) -> Result<Option<Uuid>>;
    /// An integer.
    fn int(&self, i: usize) -> Result<i64>;
    /// An integer or NULL.
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
    /// A string.
    fn text(&self, i: usize) -> Result<String>;
    /// A string or NULL.
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    /// A flag.
    fn flag(&self, i: usize) -> Result<bool>;
    /// Bytes.
    fn bytes(&self, i: usize) -> Result<Vec<u8>>;
    /// Bytes or NULL.
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>>;

    /// A time, as milliseconds since the epoch.
    fn time(&self, i: usize) -> Result<Timestamp> {
        Ok(Timestamp::from_millis(self.int(i)?))
    }
    /// A time or NULL.
    fn opt_time(&self, i: usize) -> Result<Option<Timestamp>> {
        Ok(self.opt_int(i)?.map(Timestamp::from_millis))
    }
    /// A county, as its code.
    fn county(&self, i: usize) -> Result<CountyCode> {
        let code = self.int(i)?;
        u64::try_from(code)
            .ok()
            .and_then(|c| CountyCode::from_int(c).ok())
            .ok_or_else(|| StoreError::Corrupt(format!("county {code}")))
    }
    /// A count or a length.
    fn count(&self, i: usize) -> Result<u64> {
        let n = self.int(i)?;
        u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("count {n}")))
    }
}

/// Implements [`Columns`] methods as a row's own getter (`$get`:
/// `rusqlite::Row::get`, `tokio_postgres::Row::try_get`) decodes each
/// value, for the columns a backend stores as the value itself.
macro_rules! columns_by_getter {
    ($get:ident: $($name:ident -> $ty:ty),* $(,)?) => {
        $(
            fn $name(&self, i: usize) -> $crate::store::Result<$ty> {
                Ok(self.$get(i)?)
            }
        )*
    };
}
pub(crate) use columns_by_getter;

/// `columns` (a `*_COLUMNS` list) with each name prefixed by `alias.`,
/// for queries that join tables.
pub(crate) fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Columns of [`user`].
pub(crate) const USER_COLUMNS: &str = "id, username, display_name, role, scope_level, scope_code, \
                                       team, active, password_hash, scope_epoch, \
                                       must_change_password";
/// How many [`USER_COLUMNS`] there are.
pub(crate) const USER_COLUMN_COUNT: usize = 11;

/// A user from [`USER_COLUMNS`].
pub(crate) fn user(r: &dyn Columns) -> Result<UserRecord> {
    Ok(UserRecord {
        user: User {
            id: UserId::from_uuid(r.uuid(0)?),
            username: r.text(1)?,
            display_name: r.text(2)?,
            role: role_from_code(&r.text(3)?)?,
            scope: scope_from_columns(&r.text(4)?, r.opt_text(5)?.as_deref())?,
            team: r.opt_uuid(6)?.map(TeamId::from_uuid),
            active: r.flag(7)?,
        },
        password_hash: r.text(8)?,
        scope_epoch: r.int(9)?,
        must_change_password: r.flag(10)?,
    })
}

/// Columns of [`device`]: the device, then its sync health
/// (`super::admin::device_sync`).
pub(crate) const DEVICE_COLUMNS: &str = "id, user_id, name, platform, created_at, last_seen_at, revoked_at, app_version, \
     last_push_at, last_pull_at, outbox_changes, outbox_oldest_at, reported_at, backlog_rises, \
     backlog_growing, notices_pending";
/// How many [`DEVICE_COLUMNS`] there are.
pub(crate) const DEVICE_COLUMN_COUNT: usize = 16;

/// A device from [`DEVICE_COLUMNS`].
pub(crate) fn device(r: &dyn Columns) -> Result<DeviceRecord> {
    Ok(DeviceRecord {
        id: DeviceId::from_uuid(r.uuid(0)?),
        user: UserId::from_uuid(r.uuid(1)?),
        name: r.text(2)?,
        platform: r.text(3)?,
        created_at: r.time(4)?,
        last_seen_at: r.time(5)?,
        revoked_at: r.opt_time(6)?,
        sync: super::admin::device_sync(r, 7)?,
    })
}

/// Columns of [`team`].
pub(crate) const TEAM_COLUMNS: &str = "id, name, county, leading_industry, lead";

/// A team from [`TEAM_COLUMNS`].
pub(crate) fn team(r: &dyn Columns) -> Result<Team> {
    Ok(Team {
        id: TeamId::from_uuid(r.uuid(0)?),
        name: r.text(1)?,
        county: r.county(2)?,
        leading_industry: r.text(3)?,
        lead: r.opt_uuid(4)?.map(UserId::from_uuid),
    })
}

/// Columns of [`photo`].
pub(crate) const PHOTO_COLUMNS: &str = "sha256, length, received, complete, created_at, uploader";

/// A photo upload from [`PHOTO_COLUMNS`].
pub(crate) fn photo(r: &dyn Columns) -> Result<PhotoRecord> {
    let hash = r.bytes(0)?;
    let hash: [u8; 32] = hash
        .as_slice()
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("photo hash of {} bytes", hash.len())))?;
    Ok(PhotoRecord {
        hash: PhotoHash::from_bytes(hash),
        length: r.count(1)?,
        offset: r.count(2)?,
        complete: r.flag(3)?,
        created_at: r.time(4)?,
        uploader: r.opt_uuid(5)?.map(DeviceId::from_uuid),
    })
}

/// Columns of [`division`].
pub(crate) const DIVISION_COLUMNS: &str = "code, name";

/// A division of a register slice from [`DIVISION_COLUMNS`].
pub(crate) fn division(r: &dyn Columns) -> Result<SliceDivision> {
    Ok(SliceDivision {
        code: r.count(0)?,
        name: r.text(1)?,
    })
}

/// Columns of [`audit`].
pub(crate) const AUDIT_COLUMNS: &str =
    "at, actor, action, subject, detail, device, county, province, before_json, after_json";
/// How many [`AUDIT_COLUMNS`] there are.
pub(crate) const AUDIT_COLUMN_COUNT: usize = 10;

/// An audit entry from [`AUDIT_COLUMNS`].
pub(crate) fn audit(r: &dyn Columns) -> Result<AuditEntry> {
    audit_at(r, 0)
}

fn json(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::Null))
}

/// An audit entry from [`AUDIT_COLUMNS`] starting at column `i`.
pub(crate) fn audit_at(r: &dyn Columns, i: usize) -> Result<AuditEntry> {
    Ok(AuditEntry {
        at: r.time(i)?,
        actor: r.opt_uuid(i + 1)?.map(UserId::from_uuid),
        action: r.text(i + 2)?,
        subject: r.text(i + 3)?,
        detail: json(Some(r.text(i + 4)?)).unwrap_or(serde_json::Value::Null),
        device: r.opt_uuid(i + 5)?.map(DeviceId::from_uuid),
        county: r
            .opt_int(i + 6)?
            .and_then(|c| u64::try_from(c).ok())
            .and_then(|c| CountyCode::from_int(c).ok()),
        province: r
            .opt_int(i + 7)?
            .and_then(|c| u64::try_from(c).ok())
            .and_then(|c| ProvinceCode::from_int(c).ok()),
        before: json(r.opt_text(i + 8)?),
        after: json(r.opt_text(i + 9)?),
    })
}

/// The values an audit entry is written with, in [`AUDIT_COLUMNS`] order:
/// time, actor, action, subject, detail, device, county, province, before,
/// after.
#[allow(
    clippy::type_complexity,
    reason = "one tuple per written row, read in place"
)]
pub(crate) fn audit_values(
    e: &AuditEntry,
) -> (
    i64,
    Option<Uuid>,
    &str,
    &str,
    String,
    Option<Uuid>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
) {
    (
        e.at.as_millis(),
        e.actor.map(|u| *u.as_uuid()),
        &e.action,
        &e.subject,
        e.detail.to_string(),
        e.device.map(|d| *d.as_uuid()),
        e.county.map(|c| c.as_int() as i64),
        e.province.map(|p| p.as_int() as i64),
        e.before.as_ref().map(|v| v.to_string()),
        e.after.as_ref().map(|v| v.to_string()),
    )
}

/// A quarantine entry from its columns: id, device, the device's user,
/// document, hash, size of the bytes, code, reason, time, release time.
pub(crate) fn quarantine(r: &dyn Columns) -> Result<QuarantineEntry> {
    Ok(QuarantineEntry {
        id: r.int(0)?,
        device: DeviceId::from_uuid(r.uuid(1)?),
        user: UserId::from_uuid(r.uuid(2)?),
        doc: DocId::from_uuid(r.uuid(3)?),
        hash: r.opt_bytes(4)?.map(|h| hex(&h)),
        size: usize::try_from(r.count(5)?)
            .map_err(|_| StoreError::Corrupt("quarantined size".into()))?,
        code: r.text(6)?,
        reason: r.text(7)?,
        at: r.time(8)?,
        released_at: r.opt_time(9)?,
    })
}

/// Columns of [`placement`].
pub(crate) const PLACEMENT_COLUMNS: &str = "kind, author, team, county";

/// A document's placement from [`PLACEMENT_COLUMNS`].
pub(crate) fn placement(r: &dyn Columns) -> Result<Placement> {
    let kind = r.text(0)?;
    Ok(Placement {
        kind: RecordKind::from_code(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("record kind {kind:?}")))?,
        author: UserId::from_uuid(r.uuid(1)?),
        team: r.opt_uuid(2)?.map(TeamId::from_uuid),
        county: r.county(3)?,
    })
}

/// A change from its columns: seq, document, bytes.
pub(crate) fn change(r: &dyn Columns) -> Result<StoredChange> {
    Ok(StoredChange {
        seq: r.int(0)?,
        doc: DocId::from_uuid(r.uuid(1)?),
        bytes: r.bytes(2)?,
    })
}

/// A scope as two columns: level and code.
pub(crate) fn scope_columns(scope: &Scope) -> (&'static str, Option<String>) {
    match scope {
        Scope::Own => ("own", None),
        Scope::Team(t) => ("team", Some(t.to_string())),
        Scope::County(c) => ("county", Some(c.to_string())),
        Scope::Province(p) => ("province", Some(p.to_string())),
    }
}

/// The scope from its two columns.
fn scope_from_columns(level: &str, code: Option<&str>) -> Result<Scope> {
    let bad = || StoreError::Corrupt(format!("scope {level}/{code:?}"));
    Ok(match (level, code) {
        ("own", _) => Scope::Own,
        ("team", Some(c)) => Scope::Team(c.parse().map_err(|_| bad())?),
        ("county", Some(c)) => Scope::County(c.parse().map_err(|_| bad())?),
        ("province", Some(c)) => Scope::Province(c.parse().map_err(|_| bad())?),
        _ => return Err(bad()),
    })
}

fn role_from_code(code: &str) -> Result<Role> {
    Role::from_code(code).ok_or_else(|| StoreError::Corrupt(format!("role {code:?}")))
}

/// Bytes as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::testing::team_id;

    #[test]
    fn column_counts_match_the_lists() {
        for (list, n) in [
            (USER_COLUMNS, USER_COLUMN_COUNT),
            (DEVICE_COLUMNS, DEVICE_COLUMN_COUNT),
            (AUDIT_COLUMNS, AUDIT_COLUMN_COUNT),
        ] {
            assert_eq!(list.split(',').count(), n, "{list}");
        }
        assert_eq!(prefixed("a, b,\n c", "t"), "t.a, t.b, t.c");
    }

    #[test]
    fn a_scope_survives_its_columns() {
        let county: CountyCode = "520324".parse().unwrap();
        for scope in [
            Scope::Own,
            Scope::Team(team_id(1)),
            Scope::County(county),
            Scope::Province(county.province()),
        ] {
            let (level, code) = scope_columns(&scope);
            assert_eq!(scope_from_columns(level, code.as_deref()).unwrap(), scope);
        }
        assert!(matches!(
            scope_from_columns("team", None),
            Err(StoreError::Corrupt(_))
        ));
    }
}
