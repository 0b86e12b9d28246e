//! Pulls, written once for both backends: the filter a caller's scope puts
//! on documents ([`ReadFilter`]) and cutting the rows a backend read into a
//! page at its limits ([`cut_page`]).

use app_core::domain::Scope;
use app_core::scope::Principal;

use super::{PullPage, Result, StoredChange};

/// Largest pull page in bytes of change data (at least one change is sent).
pub const MAX_PULL_BYTES: usize = 4 * 1024 * 1024;

/// The pull filter's parameters: `author = user OR team = team OR county in
/// [lo, hi]`, with the unused alternatives made impossible. The same
/// semantics as [`app_core::scope::can_read`].
pub(crate) struct ReadFilter {
    pub user: uuid::Uuid,
    pub team: Option<uuid::Uuid>,
    pub county_lo: i64,
    pub county_hi: i64,
}

impl ReadFilter {
    pub(crate) fn of(who: &Principal) -> ReadFilter {
        let none = (-1, -1);
        let (team, (lo, hi)) = match who.scope {
            Scope::Own => (None, none),
            Scope::Team(t) => (Some(*t.as_uuid()), none),
            Scope::County(c) => (None, (c.as_int() as i64, c.as_int() as i64)),
            Scope::Province(p) => {
                let base = p.as_int() as i64 * 10_000;
                (None, (base, base + 9_999))
            }
        };
        ReadFilter {
            user: *who.user.as_uuid(),
            team,
            county_lo: lo,
            county_hi: hi,
        }
    }
}

/// How many rows a backend reads for a page of `limit`: one more, so that
/// [`cut_page`] knows whether more wait.
pub(crate) fn rows_for(limit: u32) -> i64 {
    i64::from(limit) + 1
}

/// A page from the rows in scope after the cursor, in `seq` order (at most
/// [`rows_for`] of them): at most `limit` changes and [`MAX_PULL_BYTES`] of
/// change data, but always at least one change; `more` when any row was
/// left out.
pub(crate) fn cut_page(
    rows: impl IntoIterator<Item = Result<StoredChange>>,
    limit: u32,
    high_water: i64,
) -> Result<PullPage> {
    cut_page_at(rows, limit, MAX_PULL_BYTES, high_water)
}

fn cut_page_at(
    rows: impl IntoIterator<Item = Result<StoredChange>>,
    limit: u32,
    max_bytes: usize,
    high_water: i64,
) -> Result<PullPage> {
    let mut changes: Vec<StoredChange> = Vec::new();
    let mut bytes = 0usize;
    let mut more = false;
    for row in rows {
        let change = row?;
        if changes.len() == limit as usize
            || (!changes.is_empty() && bytes + change.bytes.len() > max_bytes)
        {
            more = true;
            break;
        }
        bytes += change.bytes.len();
        changes.push(change);
    }
    Ok(PullPage {
        changes,
        more,
        high_water,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::domain::DocId;

    fn rows(sizes: &[usize]) -> Vec<Result<StoredChange>> {
        let doc = DocId::from_uuid(uuid::Uuid::from_u128(7));
        sizes
            .iter()
            .zip(1..)
            .map(|(n, seq)| {
                Ok(StoredChange {
                    seq,
                    doc,
                    bytes: vec![0; *n],
                })
            })
            .collect()
    }

    fn cut(sizes: &[usize], limit: u32, max_bytes: usize) -> (Vec<i64>, bool) {
        let page = cut_page_at(rows(sizes), limit, max_bytes, 99).unwrap();
        assert_eq!(page.high_water, 99);
        (page.changes.iter().map(|c| c.seq).collect(), page.more)
    }

    #[test]
    fn a_page_stops_at_its_count_or_its_bytes() {
        // (row sizes, limit, byte limit) → (seqs in the page, more)
        type Case<'a> = (&'a [usize], u32, usize, &'a [i64], bool);
        let cases: &[Case<'_>] = &[
            (&[], 3, 100, &[], false),
            (&[10, 10], 3, 100, &[1, 2], false),
            (&[10, 10, 10], 3, 100, &[1, 2, 3], false),
            (&[10, 10, 10, 10], 3, 100, &[1, 2, 3], true),
            (&[40, 40, 40], 3, 100, &[1, 2], true),
            (&[40, 60], 3, 100, &[1, 2], false),
            (&[40, 60, 1], 3, 100, &[1, 2], true),
            (&[40, 61], 3, 100, &[1], true),
            (&[500, 1], 3, 100, &[1], true),
            (&[500], 3, 100, &[1], false),
            (&[10], 0, 100, &[], true),
        ];
        for (sizes, limit, max, seqs, more) in cases {
            assert_eq!(
                cut(sizes, *limit, *max),
                (seqs.to_vec(), *more),
                "sizes {sizes:?}, limit {limit}, {max} bytes"
            );
        }
    }

    #[test]
    fn a_row_that_does_not_decode_fails_the_page() {
        let mut rows = rows(&[1, 1]);
        rows.insert(1, Err(super::super::StoreError::Corrupt("seq".into())));
        assert!(cut_page_at(rows, 10, 100, 0).is_err());
    }
}
