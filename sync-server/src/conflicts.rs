//! Records with fields to resolve (冲突) as the sync admin's console lists
//! them: each conflicted field's concurrent values with where each came
//! from — the change that wrote it, its Automerge actor, the device the
//! server bound that actor to, and that device's user — and the record
//! around them (kind, author, team, village, day, summary).
//!
//! A provincial admin's device does not hold the province's records, so
//! the console lists from here and fetches the documents it opens (`GET
//! /api/v1/sync/docs/{id}`); resolutions still travel as ordinary changes.
//! Read-only: nothing here is audited (a resolution is, when its change is
//! stored: `record.admin_write`).

use std::collections::HashMap;

use app_core::admin::{ConflictListQuery, ConflictedField, ConflictedRecord, Page, ValueSource};
use app_core::doc::RecordDoc;
use app_core::domain::{Consultation, DocId, RecordKind, ServiceLog, Timestamp};

use crate::ops::{Actor, Ops, OpsError, bad_cursor, cut, page_limit};
use crate::store::{ActorSource, ConflictPage, ConflictRow};

/// Characters of a record's text in a listing.
const SUMMARY_CHARS: usize = 80;

/// A page's cursor: the last record's (since, document).
fn cursor_of(r: &ConflictedRecord) -> String {
    format!("{}:{}", r.since.map_or(0, Timestamp::as_millis), r.doc)
}

/// The conflict listing's cursor, `"{since millis}:{document}"`: none when
/// absent or empty, else the pair, or `bad_cursor`.
pub fn parse_cursor(cursor: Option<&str>) -> Result<Option<(Timestamp, DocId)>, OpsError> {
    let Some(c) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let (at, doc) = c.split_once(':').ok_or_else(|| bad_cursor(c))?;
    let at: i64 = at.parse().map_err(|_| bad_cursor(c))?;
    let doc: DocId = doc.parse().map_err(|_| bad_cursor(c))?;
    Ok(Some((Timestamp::from_millis(at), doc)))
}

fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A record read from its row, with its conflicts' values and the actor
/// (hex) and time of each; `None` when it no longer reads or holds none.
fn read(row: &ConflictRow) -> Option<(ConflictedRecord, Vec<String>)> {
    let doc = RecordDoc::load(&row.snapshot).ok()?;
    let conflicts = doc.conflicts();
    if conflicts.is_empty() {
        return None;
    }
    let (village, date, created_at, text) = match RecordKind::from_code(&row.kind)? {
        RecordKind::ServiceLog => {
            let l: ServiceLog = doc.read().ok()?;
            (l.village, l.date, l.created_at, l.description)
        }
        RecordKind::Consultation => {
            let c: Consultation = doc.read().ok()?;
            (
                c.farmer.village,
                c.asked_at.china_date().unwrap_or_default(),
                c.created_at,
                c.problem,
            )
        }
    };
    let mut actors = Vec::new();
    let fields = conflicts
        .into_iter()
        .map(|c| ConflictedField {
            path: c.path_string(),
            values: c
                .values
                .into_iter()
                .map(|v| {
                    let (actor, at) = doc
                        .origin_of(&v.op)
                        .unwrap_or_else(|| (v.actor().to_owned(), None));
                    actors.push(actor.clone());
                    ValueSource {
                        value: v.value,
                        op: v.op,
                        actor,
                        at,
                        device: None,
                        device_name: None,
                        platform: None,
                        user: None,
                        username: None,
                        display_name: None,
                    }
                })
                .collect(),
        })
        .collect();
    let record = ConflictedRecord {
        doc: row.doc,
        kind: RecordKind::from_code(&row.kind)?,
        county: row.county,
        team: row.team,
        team_name: row.team_name.clone(),
        author: row.author,
        author_name: row.author_name.clone(),
        village,
        village_name: None,
        date,
        created_at,
        since: Some(row.since),
        summary: text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(SUMMARY_CHARS)
            .collect(),
        fields,
    };
    Some((record, actors))
}

impl Ops {
    /// Records of the actor's area whose fields hold concurrent values,
    /// oldest conflict first, with where each value came from.
    pub async fn conflicts(
        &self,
        actor: &Actor,
        q: &ConflictListQuery,
    ) -> Result<Page<ConflictedRecord>, OpsError> {
        let limit = page_limit(q.limit);
        let rows = self
            .store()
            .conflict_page(&ConflictPage {
                area: actor.area(),
                county: q.county,
                team: q.team,
                kind: q.kind,
                before: q.before,
                after: parse_cursor(q.cursor.as_deref())?,
                limit: limit + 1,
            })
            .await?;
        let read =
            tokio::task::spawn_blocking(move || rows.iter().filter_map(read).collect::<Vec<_>>())
                .await
                .map_err(|e| OpsError::Reference(format!("reading records: {e}")))?;
        let mut items: Vec<(ConflictedRecord, Vec<String>)> = read;
        let next = cut(&mut items, limit, |(r, _)| cursor_of(r));

        let mut actors: Vec<String> = items.iter().flat_map(|(_, a)| a.clone()).collect();
        actors.sort();
        actors.dedup();
        let sources: HashMap<Vec<u8>, ActorSource> = self
            .store()
            .actor_sources(actors.iter().filter_map(|a| hex_bytes(a)).collect())
            .await?
            .into_iter()
            .map(|s| (s.actor.clone(), s))
            .collect();
        let mut villages: Vec<u64> = items.iter().map(|(r, _)| r.village.as_int()).collect();
        villages.sort_unstable();
        villages.dedup();
        let names: HashMap<u64, String> = self
            .store()
            .village_names(villages)
            .await?
            .into_iter()
            .collect();

        let items = items
            .into_iter()
            .map(|(mut r, _)| {
                r.village_name = names.get(&r.village.as_int()).cloned();
                for f in &mut r.fields {
                    for v in &mut f.values {
                        if let Some(s) = hex_bytes(&v.actor).and_then(|a| sources.get(&a)) {
                            v.device = Some(s.device);
                            v.device_name = Some(s.device_name.clone());
                            v.platform = Some(s.platform.clone());
                            v.user = Some(s.user);
                            v.username = Some(s.username.clone());
                            v.display_name = Some(s.display_name.clone());
                        }
                    }
                }
                r
            })
            .collect();
        Ok(Page { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_and_actors_read_back() {
        let doc: DocId = "0192f000-0000-7000-8000-0000000000e1".parse().unwrap();
        let c = format!("1795914000000:{doc}");
        assert_eq!(
            parse_cursor(Some(&c)).unwrap(),
            Some((Timestamp::from_millis(1_795_914_000_000), doc))
        );
        assert_eq!(parse_cursor(None).unwrap(), None);
        for bad in ["x", "12:nope", "a:b"] {
            assert!(parse_cursor(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(hex_bytes("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(hex_bytes("0"), None);
        assert_eq!(hex_bytes("zz"), None);
    }
}
