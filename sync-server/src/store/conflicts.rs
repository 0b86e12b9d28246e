//! Records with fields to resolve (冲突), in the store, written once for
//! both backends: the page a listing asks for and its `WHERE` (the admin's
//! area and the filters, in SQL), the rows it answers, where each
//! Automerge actor writes from (its device and that device's user), and
//! the one-time check of documents stored before the server kept the
//! conflict flag ([`backfill`]).
//!
//! Every push and release writes, with the document, whether it holds
//! concurrent values (`documents.conflicts_since`: since when, by the
//! server's clock, or `NULL`), so the listing is an indexed query, never a
//! scan of snapshots.

use app_core::doc::RecordDoc;
use app_core::domain::{CountyCode, DeviceId, DocId, RecordKind, TeamId, Timestamp, UserId};

use super::admin::Area;
use super::rows::Columns;
use super::{Result, ServerStore};

/// A page of records with conflicts, oldest conflict first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConflictPage {
    /// The admin's area (of the record's county).
    pub area: Area,
    /// Of this county.
    pub county: Option<CountyCode>,
    /// Of this team.
    pub team: Option<TeamId>,
    /// Of this kind.
    pub kind: Option<RecordKind>,
    /// Conflicted before this time.
    pub before: Option<Timestamp>,
    /// After this (since, document) key: the cursor.
    pub after: Option<(Timestamp, DocId)>,
    /// At most this many.
    pub limit: u32,
}

/// The `WHERE` of a conflict page over `documents d`, with the backend's
/// parameter names for: area county, area province, county, team, kind,
/// before, cursor's time, cursor's document.
pub fn conflict_filter(p: [&str; 8]) -> String {
    let [
        area_county,
        area_province,
        county,
        team,
        kind,
        before,
        after_at,
        after_doc,
    ] = p;
    format!(
        "d.conflicts_since IS NOT NULL
         AND ({area_county} IS NULL OR d.county = {area_county})
         AND ({area_province} IS NULL OR d.county / 10000 = {area_province})
         AND ({county} IS NULL OR d.county = {county}) AND ({team} IS NULL OR d.team = {team})
         AND ({kind} IS NULL OR d.kind = {kind})
         AND ({before} IS NULL OR d.conflicts_since < {before})
         AND ({after_at} IS NULL OR d.conflicts_since > {after_at}
              OR (d.conflicts_since = {after_at} AND d.doc_id > {after_doc}))"
    )
}

/// Columns of [`conflict_row`] over `documents d` left-joined to `users
/// u` (the author) and `teams t`.
pub const CONFLICT_COLUMNS: &str = "d.doc_id, d.kind, d.author, u.display_name, d.team, t.name,
     d.county, d.snapshot, d.conflicts_since";

/// The joins [`CONFLICT_COLUMNS`] read from.
pub const CONFLICT_FROM: &str = "documents d LEFT JOIN users u ON u.id = d.author
     LEFT JOIN teams t ON t.id = d.team";

/// A record with conflicts as the store reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRow {
    /// The document.
    pub doc: DocId,
    /// Its kind's code.
    pub kind: String,
    /// Its author.
    pub author: UserId,
    /// The author's shown name.
    pub author_name: Option<String>,
    /// Its team.
    pub team: Option<TeamId>,
    /// The team's name.
    pub team_name: Option<String>,
    /// Its county.
    pub county: CountyCode,
    /// The stored document.
    pub snapshot: Vec<u8>,
    /// Since when it has conflicts (server clock).
    pub since: Timestamp,
}

/// A conflict row from [`CONFLICT_COLUMNS`].
pub(crate) fn conflict_row(r: &dyn Columns) -> Result<ConflictRow> {
    Ok(ConflictRow {
        doc: DocId::from_uuid(r.uuid(0)?),
        kind: r.text(1)?,
        author: UserId::from_uuid(r.uuid(2)?),
        author_name: r.opt_text(3)?,
        team: r.opt_uuid(4)?.map(TeamId::from_uuid),
        team_name: r.opt_text(5)?,
        county: r.county(6)?,
        snapshot: r.bytes(7)?,
        since: r.time(8)?,
    })
}

/// Where an Automerge actor writes from: the device it is bound to and
/// that device's user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorSource {
    /// The actor's bytes.
    pub actor: Vec<u8>,
    /// The device.
    pub device: DeviceId,
    /// Its name.
    pub device_name: String,
    /// Its platform.
    pub platform: String,
    /// Its user.
    pub user: UserId,
    /// Their sign-in name.
    pub username: String,
    /// Their shown name.
    pub display_name: String,
}

/// Columns of [`actor_source`] over `actors a` joined to `devices d` and
/// `users u`.
pub const ACTOR_COLUMNS: &str =
    "a.actor, d.id, d.name, d.platform, u.id, u.username, u.display_name";

/// An actor source from [`ACTOR_COLUMNS`].
pub(crate) fn actor_source(r: &dyn Columns) -> Result<ActorSource> {
    Ok(ActorSource {
        actor: r.bytes(0)?,
        device: DeviceId::from_uuid(r.uuid(1)?),
        device_name: r.text(2)?,
        platform: r.text(3)?,
        user: UserId::from_uuid(r.uuid(4)?),
        username: r.text(5)?,
        display_name: r.text(6)?,
    })
}

/// Documents checked per round of [`backfill`].
const BACKFILL_BATCH: u32 = 500;

/// Whether a stored snapshot holds concurrent values (an unreadable one
/// does not: it is listed nowhere until a later change repairs it).
pub fn has_conflicts(snapshot: &[u8]) -> bool {
    RecordDoc::load(snapshot).is_ok_and(|d| !d.conflicts().is_empty())
}

/// Checks, once, the documents stored before the server kept the conflict
/// flag: each gets its flag (since `at` when it has conflicts). Returns
/// how many were checked.
pub async fn backfill(store: &dyn ServerStore, at: Timestamp) -> Result<u64> {
    let mut checked = 0;
    loop {
        let batch = store.conflicts_unchecked(BACKFILL_BATCH).await?;
        if batch.is_empty() {
            return Ok(checked);
        }
        checked += batch.len() as u64;
        let flags = tokio::task::spawn_blocking(move || {
            batch
                .into_iter()
                .map(|(doc, snapshot)| (doc, has_conflicts(&snapshot)))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| super::StoreError::Task(e.to_string()))?;
        store.set_conflicts_checked(flags, at).await?;
    }
}
