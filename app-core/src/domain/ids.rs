//! Identifiers: UUIDv7 newtypes, one per kind of thing, so that a team ID can
//! never be passed where a user ID is wanted.
//!
//! UUIDv7 sorts by creation time, which keeps SQLite's B-trees append-mostly.
//! The time part comes from the injected clock ([`crate::clock`]); a device
//! whose clock is wrong makes IDs that sort oddly but are still unique, because
//! 74 of the 128 bits are random.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "store")]
use super::Timestamp;

/// An identifier that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {value:?} is not a valid identifier")]
pub struct IdError {
    /// Which kind of identifier was expected.
    pub kind: &'static str,
    /// The text that was given.
    pub value: String,
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh identifier whose time part is `at`.
            #[cfg(feature = "store")]
            pub fn new(at: Timestamp) -> Self {
                let millis = u64::try_from(at.as_millis()).unwrap_or(0);
                let ts = uuid::Timestamp::from_unix(
                    uuid::NoContext,
                    millis / 1000,
                    u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
                );
                $name(Uuid::new_v7(ts))
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                $name(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The 16 bytes of the UUID, as stored in SQLite.
            pub fn to_bytes(self) -> [u8; 16] {
                *self.0.as_bytes()
            }

            /// From the 16 bytes stored in SQLite.
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                $name(Uuid::from_bytes(bytes))
            }

            /// From a slice that must hold exactly 16 bytes.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, IdError> {
                Uuid::from_slice(bytes).map($name).map_err(|_| IdError {
                    kind: stringify!($name),
                    value: format!("{} bytes", bytes.len()),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.hyphenated())
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Uuid::parse_str(s).map($name).map_err(|_| IdError {
                    kind: stringify!($name),
                    value: s.to_string(),
                })
            }
        }

        doc_as_string!($name);
    };
}

id_type!(
    /// A user account (用户): a commissioner, team lead or sync admin.
    UserId
);
id_type!(
    /// A team (科技特派团).
    TeamId
);
id_type!(
    /// An enrolled device (设备): a phone or tablet with its own token.
    DeviceId
);
id_type!(
    /// A service log (服务日志).
    ServiceLogId
);
id_type!(
    /// A farmer consultation (农户咨询).
    ConsultationId
);
id_type!(
    /// A follow-up note (回访记录) within a consultation.
    FollowUpId
);
id_type!(
    /// A named farmer, cooperative or enterprise served (服务对象) within a log.
    PartyId
);
id_type!(
    /// A team lead's review decision (审核记录) within a log's review history.
    DecisionId
);
id_type!(
    /// A conflict resolution (冲突处理记录) within a record's history.
    ResolutionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_bytes() {
        let id = ServiceLogId::new(Timestamp::from_millis(1_795_883_400_000));
        let text = id.to_string();
        assert_eq!(text.parse::<ServiceLogId>().unwrap(), id);
        assert_eq!(ServiceLogId::from_bytes(id.to_bytes()), id);
        assert_eq!(id.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn ids_sort_by_the_clock_they_were_made_with() {
        let a = UserId::new(Timestamp::from_millis(1_000_000));
        let b = UserId::new(Timestamp::from_millis(2_000_000));
        assert!(a < b);
    }

    #[test]
    fn a_bad_id_names_its_kind() {
        let err = "not-a-uuid".parse::<TeamId>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "TeamId \"not-a-uuid\" is not a valid identifier"
        );
    }
}
