//! Fixtures for tests (feature `testing`, and this crate's own tests):
//! records with sensible defaults and stable identifiers, so that a test
//! spells out only what it is about.
//!
//! Change a default only with care: tests across the workspace build on
//! them. Override a field with struct update syntax:
//!
//! ```
//! # use app_core::testing;
//! # use app_core::domain::{LogStatus, ServiceLog};
//! let log = ServiceLog {
//!     status: LogStatus::Draft,
//!     ..testing::service_log(testing::user_id(1), Some(testing::team_id(1)), testing::village())
//! };
//! assert_eq!(log.farmers_served, 12);
//! ```

use crate::domain::{
    ActivityType, Channel, Consultation, ConsultationId, ConsultationStatus, DecisionId, DeviceId,
    DocId, DuplicateMark, FarmerContact, LogStatus, Review, ServiceLog, ServiceLogId,
    ServiceLogInput, TeamId, Timestamp, UserId, Verdict, VillageCode,
};

/// 2026-11-29 08:00 China time (UTC+8): the time fixtures are made at.
pub const T0: Timestamp = Timestamp::from_millis(1_795_910_400_000);

/// 正安县 (Zheng'an county, Zunyi, Guizhou), a national key county.
pub const ZHENGAN: &str = "520324";
/// 北苑社区, 凤仪街道, 正安县.
pub const ZHENGAN_VILLAGE: &str = "520324001001";

/// A village of 正安县 ([`ZHENGAN_VILLAGE`]).
pub fn village() -> VillageCode {
    VillageCode::parse(ZHENGAN_VILLAGE).expect("a valid village code")
}

fn stable(tag: u32, n: u8) -> uuid::Uuid {
    uuid::Uuid::from_u128(
        0x0192_f000_0000_7000_8000_0000_0000_0000 | (u128::from(tag) << 8) | u128::from(n),
    )
}

/// User number `n`: `0192f000-0000-7000-8000-0000000000{n:02x}`.
pub fn user_id(n: u8) -> UserId {
    UserId::from_uuid(stable(0, n))
}

/// Team number `n`: `0192f000-0000-7000-8000-00000000aa{n:02x}`.
pub fn team_id(n: u8) -> TeamId {
    TeamId::from_uuid(stable(0xaa, n))
}

/// Device number `n`: `0192f000-0000-7000-8000-00000000dd{n:02x}`.
pub fn device_id(n: u8) -> DeviceId {
    DeviceId::from_uuid(stable(0xdd, n))
}

/// A submitted technical-guidance log on tea: 12 farmers served on
/// 2026-11-28, one technology promoted, made at [`T0`], with a fixed ID.
pub fn service_log(author: UserId, team: Option<TeamId>, village: VillageCode) -> ServiceLog {
    ServiceLog {
        id: ServiceLogId::from_uuid(stable(0x0bbb, 0xbb)),
        author,
        team,
        date: "2026-11-28".parse().expect("a valid date"),
        start_time: None,
        end_time: None,
        village,
        location: None,
        activity: ActivityType::TechnicalGuidance,
        industry: "茶叶".into(),
        farmers_served: 12,
        trainees: None,
        served: vec![],
        technologies: vec!["茶园绿色防控".into()],
        varieties: vec![],
        description: "指导茶农修剪茶树".into(),
        photos: vec![],
        status: LogStatus::Submitted,
        review: Review::default(),
        created_at: T0,
        reviews: vec![],
        resolutions: vec![],
        duplicate: None,
    }
}

/// An open consultation by phone about yellowing tea leaves, asked and made
/// at [`T0`], with a fixed ID.
pub fn consultation(author: UserId, team: Option<TeamId>, village: VillageCode) -> Consultation {
    Consultation {
        id: ConsultationId::from_uuid(stable(0x0ccc, 0xcc)),
        author,
        team,
        farmer: FarmerContact {
            name: "王大伯".into(),
            phone: String::new(),
            village,
        },
        subject: "茶树".into(),
        problem: "叶片发黄".into(),
        channel: Channel::Phone,
        asked_at: T0,
        advice: String::new(),
        first_answered_at: None,
        status: ConsultationStatus::Open,
        follow_ups: vec![],
        photos: vec![],
        created_at: T0,
        resolutions: vec![],
        duplicate: None,
    }
}

/// `log` with `by`'s decision appended (covering its content as it stands,
/// made at [`T0`], a comment when it returns) and mirrored in the status and
/// the review: what a lead's device writes. Append again after editing the
/// content to make it "approved again".
pub fn decided(mut log: ServiceLog, by: UserId, verdict: Verdict) -> ServiceLog {
    let n = log.reviews.len() as u8;
    let comment = match verdict {
        Verdict::Approved => "",
        Verdict::Returned => "请补充现场照片",
    };
    log.decide(
        DecisionId::from_uuid(stable(0x0dd0, n)),
        verdict,
        by,
        T0,
        comment,
        vec!["ab".repeat(32)],
    )
    .expect("a well-formed decision");
    log
}

/// A duplicate mark by `by` naming `of` as the record kept, made at [`T0`].
pub fn duplicate_of(of: impl Into<DocId>, by: UserId) -> DuplicateMark {
    DuplicateMark {
        of: of.into(),
        by,
        at: T0,
    }
}

/// What a form sends for [`service_log`]'s record: valid, in `village`.
pub fn service_log_input(village: VillageCode) -> ServiceLogInput {
    ServiceLog {
        village,
        ..service_log(user_id(1), None, village)
    }
    .to_input()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_stable_and_distinct() {
        assert_eq!(
            user_id(1).to_string(),
            "0192f000-0000-7000-8000-000000000001"
        );
        assert_eq!(
            team_id(2).to_string(),
            "0192f000-0000-7000-8000-00000000aa02"
        );
        assert_eq!(
            device_id(3).to_string(),
            "0192f000-0000-7000-8000-00000000dd03"
        );
        assert_ne!(
            service_log(user_id(1), None, village()).id.to_string(),
            consultation(user_id(1), None, village()).id.to_string()
        );
    }

    #[test]
    fn decided_logs_have_the_state_their_decisions_give() {
        use crate::domain::ReviewState;
        let log = service_log(user_id(1), Some(team_id(1)), village());
        let approved = decided(log.clone(), user_id(5), Verdict::Approved);
        assert_eq!(approved.review_state(), ReviewState::Approved);
        assert_eq!(approved.status, LogStatus::Approved);
        let mut changed = approved.clone();
        changed.farmers_served += 1;
        assert_eq!(changed.review_state(), ReviewState::ChangedSinceApproval);
        let again = decided(changed, user_id(5), Verdict::Approved);
        assert_eq!(again.review_state(), ReviewState::Approved);
        assert_ne!(again.reviews[0].id, again.reviews[1].id);
        let returned = decided(log.clone(), user_id(5), Verdict::Returned);
        assert_eq!(returned.review_state(), ReviewState::Returned);
        assert_eq!(duplicate_of(log.id, user_id(1)).of, DocId::from(log.id));
    }

    #[test]
    fn the_input_validates_back_to_the_same_log() {
        use crate::domain::validate::{Context, NoRegister};
        let log = service_log(user_id(1), None, village());
        let ctx = Context {
            now: T0,
            register: &NoRegister,
            mint: &uuid::Uuid::nil,
        };
        let checked = service_log_input(village())
            .into_new(log.id, log.author, log.team, true, &ctx)
            .unwrap();
        assert_eq!(checked.value, log);
    }
}
