//! Instants in time as the product records them.
//!
//! A [`Timestamp`] is milliseconds since the Unix epoch, UTC. Calendar dates and
//! times of day in records are China Standard Time (UTC+8, no daylight saving),
//! the only zone the product serves; [`Timestamp::china_date`] converts.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// Seconds east of UTC for China Standard Time.
pub const CHINA_OFFSET_SECS: i32 = 8 * 3600;

/// An instant: milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `millis` after the epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded down).
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// The instant at China Standard Time midnight starting `date`, plus a time of day.
    pub fn from_china_local(at: NaiveDateTime) -> Self {
        let offset = FixedOffset::east_opt(CHINA_OFFSET_SECS).expect("valid offset");
        match at.and_local_timezone(offset) {
            chrono::LocalResult::Single(dt) => Timestamp(dt.timestamp_millis()),
            _ => Timestamp(at.and_utc().timestamp_millis() - i64::from(CHINA_OFFSET_SECS) * 1000),
        }
    }

    /// This instant as a UTC date-time, if in chrono's range.
    pub fn to_utc(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.0)
    }

    /// This instant in China Standard Time.
    pub fn to_china(self) -> Option<DateTime<FixedOffset>> {
        let offset = FixedOffset::east_opt(CHINA_OFFSET_SECS)?;
        Some(self.to_utc()?.with_timezone(&offset))
    }

    /// The calendar date in China Standard Time.
    pub fn china_date(self) -> Option<NaiveDate> {
        Some(self.to_china()?.date_naive())
    }

    /// Milliseconds from `earlier` to `self` (negative when `earlier` is later).
    pub const fn millis_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This instant moved by `millis`.
    pub const fn add_millis(self, millis: i64) -> Self {
        Timestamp(self.0.saturating_add(millis))
    }
}

impl std::fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_china() {
            Some(dt) => write!(f, "Timestamp({})", dt.format("%Y-%m-%dT%H:%M:%S%.3f%:z")),
            None => write!(f, "Timestamp({}ms)", self.0),
        }
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_china() {
            Some(dt) => write!(f, "{}", dt.format("%Y-%m-%d %H:%M")),
            None => write!(f, "{}ms", self.0),
        }
    }
}

#[cfg(feature = "doc")]
impl autosurgeon::Reconcile for Timestamp {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: autosurgeon::Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
        r.timestamp(self.0)
    }
}

#[cfg(feature = "doc")]
impl autosurgeon::Hydrate for Timestamp {
    fn hydrate_timestamp(t: i64) -> Result<Self, autosurgeon::HydrateError> {
        Ok(Timestamp(t))
    }
    fn hydrate_int(t: i64) -> Result<Self, autosurgeon::HydrateError> {
        Ok(Timestamp(t))
    }
}

/// Calendar dates stored in documents as `YYYY-MM-DD`.
#[cfg(feature = "doc")]
pub(crate) mod doc_date {
    use autosurgeon::{Hydrate, HydrateError, Prop, ReadDoc, Reconciler};
    use chrono::NaiveDate;

    pub(crate) fn reconcile<R: Reconciler>(d: &NaiveDate, mut r: R) -> Result<(), R::Error> {
        r.str(d.format("%Y-%m-%d").to_string())
    }

    pub(crate) fn hydrate<D: ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<NaiveDate, HydrateError> {
        let s = String::hydrate(doc, obj, prop)?;
        NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map_err(|_| HydrateError::unexpected("a date as YYYY-MM-DD", s))
    }
}

/// Optional times of day stored in documents as `HH:MM`.
#[cfg(feature = "doc")]
pub(crate) mod doc_time_opt {
    use autosurgeon::{Hydrate, HydrateError, Prop, ReadDoc, Reconciler};
    use chrono::NaiveTime;

    pub(crate) fn reconcile<R: Reconciler>(
        t: &Option<NaiveTime>,
        mut r: R,
    ) -> Result<(), R::Error> {
        match t {
            Some(t) => r.str(t.format("%H:%M").to_string()),
            None => r.none(),
        }
    }

    pub(crate) fn hydrate<D: ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<Option<NaiveTime>, HydrateError> {
        match Option::<String>::hydrate(doc, obj, prop)? {
            None => Ok(None),
            Some(s) => NaiveTime::parse_from_str(&s, "%H:%M")
                .map(Some)
                .map_err(|_| HydrateError::unexpected("a time as HH:MM", s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_date_crosses_midnight_eight_hours_before_utc() {
        // 2026-11-28T16:30Z is 2026-11-29 00:30 in Beijing.
        let t = Timestamp::from_millis(1_795_883_400_000);
        assert_eq!(
            t.to_utc().unwrap().to_rfc3339(),
            "2026-11-28T16:30:00+00:00"
        );
        assert_eq!(t.china_date().unwrap().to_string(), "2026-11-29");
    }

    #[test]
    fn china_local_round_trips() {
        let at = NaiveDate::from_ymd_opt(2026, 3, 5)
            .unwrap()
            .and_hms_opt(9, 15, 0)
            .unwrap();
        let t = Timestamp::from_china_local(at);
        assert_eq!(t.to_china().unwrap().naive_local(), at);
    }
}
