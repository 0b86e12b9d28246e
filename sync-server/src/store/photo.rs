//! What announcing a photo upload does, decided once for both backends
//! from the row as it stands ([`PhotoStart::decide`]).

use app_core::domain::{DeviceId, Timestamp};

use super::{PhotoRecord, PhotoStart};

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
}
