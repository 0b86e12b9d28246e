//! What announcing a photo upload does, decided once for both backends
//! from the row as it stands ([`PhotoStart::decide`]) and the bytes the
//! device and its user hold in other unfinished uploads
//! ([`PhotoStart::within_quota`]); and the photos a stored document names,
//! for the backfill of `photo_refs` ([`photos_of_snapshot`]).

use app_core::doc::RecordDoc;
use app_core::domain::{DeviceId, DocId, PhotoHash, Timestamp};

use super::{PhotoRecord, PhotoStart, UploadQuota, UploadsHeld};
use crate::sync::{hydrate, record_photos};

/// The photos a stored document (its Automerge save) names, for the
/// backfill; `None`, logged, when it does not load or read.
pub(crate) fn photos_of_snapshot(doc: DocId, snapshot: &[u8]) -> Option<Vec<PhotoHash>> {
    let read = RecordDoc::load(snapshot)
        .map_err(|e| e.to_string())
        .and_then(|d| hydrate(&d).map_err(|e| e.to_string()));
    match read {
        Ok(record) => Some(record_photos(&record)),
        Err(why) => {
            tracing::error!(%doc, ?why, "stored document left out of the photo references");
            None
        }
    }
}

impl PhotoStart {
    /// An unfinished upload untouched by its device for this long (a day)
    /// may be started afresh by another.
    pub const ABANDONED_MILLIS: i64 = 24 * 60 * 60 * 1000;

    /// The answer to an upload of `length` bytes announced while the
    /// upload's row is `existing`: a stored photo is [`PhotoStart::Complete`];
    /// an unfinished upload of the same length is [`PhotoStart::Resumed`]
    /// from its offset; anything else is [`PhotoStart::Created`], and the
    /// store then (re)writes the row as a fresh upload at offset 0 —
    /// `restarted` when an unfinished upload of another length is dropped.
    /// An unfinished upload of another device is [`PhotoStart::Taken`]
    /// until it is [`PhotoStart::ABANDONED_MILLIS`] old; then the
    /// announcing device starts it afresh as its own.
    pub fn decide(
        existing: Option<PhotoRecord>,
        length: u64,
        device: DeviceId,
        now: Timestamp,
    ) -> PhotoStart {
        match existing {
            Some(p) if p.complete => PhotoStart::Complete(p),
            Some(p) if !p.open_to(device) => {
                if now.as_millis() - p.created_at.as_millis() < Self::ABANDONED_MILLIS {
                    PhotoStart::Taken
                } else {
                    PhotoStart::Created { restarted: true }
                }
            }
            Some(p) if p.length == length => PhotoStart::Resumed(p),
            other => PhotoStart::Created {
                restarted: other.is_some(),
            },
        }
    }

    /// The oldest announcement that still counts as alive at `now`: an
    /// unfinished upload announced before it is abandoned (others may take
    /// it over, it no longer counts against a quota, the sweep deletes it).
    pub fn alive_since(now: Timestamp) -> Timestamp {
        Timestamp::from_millis(now.as_millis() - Self::ABANDONED_MILLIS + 1)
    }

    /// This answer, unless it writes a fresh upload of `length` bytes that
    /// would take the device or its user past `quota` given what they
    /// `held` already: then [`PhotoStart::OverQuota`].
    pub fn within_quota(self, length: u64, held: UploadsHeld, quota: UploadQuota) -> PhotoStart {
        if self.writes_fresh_row()
            && (held.device + length > quota.device_bytes || held.user + length > quota.user_bytes)
        {
            PhotoStart::OverQuota
        } else {
            self
        }
    }

    /// Whether the store writes a fresh upload row for this answer.
    pub fn writes_fresh_row(&self) -> bool {
        matches!(self, PhotoStart::Created { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::domain::{DeviceId, PhotoHash, Timestamp};

    fn row(length: u64, offset: u64, complete: bool) -> PhotoRecord {
        PhotoRecord {
            hash: PhotoHash::from_bytes([7; 32]),
            length,
            offset,
            complete,
            created_at: Timestamp::from_millis(1),
            uploader: None,
        }
    }

    #[test]
    fn an_announcement_creates_resumes_restarts_or_finds_the_photo() {
        let cases = [
            (
                "nothing yet",
                None,
                PhotoStart::Created { restarted: false },
            ),
            (
                "unfinished, same length",
                Some(row(100, 40, false)),
                PhotoStart::Resumed(row(100, 40, false)),
            ),
            (
                "unfinished, another length",
                Some(row(90, 40, false)),
                PhotoStart::Created { restarted: true },
            ),
            (
                "stored",
                Some(row(100, 100, true)),
                PhotoStart::Complete(row(100, 100, true)),
            ),
            (
                "stored, announced with another length",
                Some(row(90, 90, true)),
                PhotoStart::Complete(row(90, 90, true)),
            ),
        ];
        for (label, existing, expected) in cases {
            let start = PhotoStart::decide(
                existing,
                100,
                DeviceId::from_uuid(uuid::Uuid::nil()),
                Timestamp::from_millis(2),
            );
            assert_eq!(start, expected, "{label}");
            assert_eq!(
                start.writes_fresh_row(),
                matches!(expected, PhotoStart::Created { .. }),
                "{label}"
            );
        }
    }

    #[test]
    fn a_fresh_upload_past_either_cap_is_over_quota() {
        let quota = UploadQuota {
            device_bytes: 100,
            user_bytes: 150,
        };
        let held = |device, user| UploadsHeld { device, user };
        let fresh = PhotoStart::Created { restarted: false };
        // (answer, length, held, over quota)
        let cases = [
            (fresh, 100, held(0, 0), false),
            (fresh, 101, held(0, 0), true),
            (fresh, 40, held(60, 60), false),
            (fresh, 41, held(60, 60), true),
            (fresh, 50, held(0, 100), false),
            (fresh, 51, held(0, 100), true),
            (
                PhotoStart::Created { restarted: true },
                41,
                held(60, 60),
                true,
            ),
            // Resuming or finding a stored photo holds nothing new.
            (
                PhotoStart::Resumed(row(100, 40, false)),
                100,
                held(100, 150),
                false,
            ),
            (
                PhotoStart::Complete(row(100, 100, true)),
                100,
                held(100, 150),
                false,
            ),
        ];
        for (start, length, held, over) in cases {
            assert_eq!(
                start.within_quota(length, held, quota) == PhotoStart::OverQuota,
                over,
                "{start:?} of {length} with {held:?}"
            );
        }
    }

    #[test]
    fn an_upload_is_alive_for_a_day_after_it_is_announced() {
        let now = Timestamp::from_millis(10 * PhotoStart::ABANDONED_MILLIS);
        let since = PhotoStart::alive_since(now);
        let announced = |ago: i64| Timestamp::from_millis(now.as_millis() - ago);
        // The same line as the takeover: alive exactly while `decide`
        // keeps another device out.
        for ago in [
            0,
            1,
            PhotoStart::ABANDONED_MILLIS - 1,
            PhotoStart::ABANDONED_MILLIS,
        ] {
            let alive = announced(ago) >= since;
            let mut p = row(100, 40, false);
            p.created_at = announced(ago);
            p.uploader = Some(DeviceId::from_uuid(uuid::Uuid::from_u128(1)));
            let taken = PhotoStart::decide(
                Some(p),
                100,
                DeviceId::from_uuid(uuid::Uuid::from_u128(2)),
                now,
            ) == PhotoStart::Taken;
            assert_eq!(alive, taken, "announced {ago} ms ago");
        }
    }
}
