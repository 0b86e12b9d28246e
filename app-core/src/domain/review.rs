//! Review (审核): the team lead's decisions on a service log, the content
//! stamp a decision covers, and the review state derived from both.
//!
//! A log keeps every decision in an append-only list ([`Decision`]); the
//! last one in list order is the one that counts. A decision covers the
//! content the lead saw ([`content_stamp`]), so an approval stays an
//! approval only while the content is what was approved: content edited
//! after the decision (or concurrently with it, offline) brings the log back
//! to the queue as [`ReviewState::ChangedSinceApproval`], and a returned log
//! that its author edits is [`ReviewState::Submitted`] again. All of it is a
//! pure function of the record ([`review_state`]), so every replica that
//! holds the same changes shows the same state, whatever the order of sync.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::service_log::MAX_DESCRIPTION_CHARS;
use super::validate::{self, FieldError, ValidationError};
use super::{
    DecisionId, GeoPoint, LogStatus, PartyKind, PhotoMeta, Review, ServedParty, ServiceLog,
    Timestamp, UserId,
};

code_enum! {
    /// What a team lead decided (审核结论).
    pub enum Verdict {
        /// 通过.
        Approved = ("approved", "通过"),
        /// 退回: with a comment saying what to fix.
        Returned = ("returned", "退回"),
    }
}

impl Verdict {
    /// The status a log takes when this decision is made.
    pub const fn status(self) -> LogStatus {
        match self {
            Verdict::Approved => LogStatus::Approved,
            Verdict::Returned => LogStatus::Returned,
        }
    }
}

/// One review decision (审核记录): who decided what, when, with which
/// comment, on which content. Entries of a log's review history are never
/// edited or removed; the list is keyed by `id` so concurrent decisions both
/// stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "doc", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Decision {
    /// Stable ID of this decision (UUIDv7).
    #[cfg_attr(feature = "doc", key)]
    pub id: DecisionId,
    /// Approved or returned.
    pub verdict: Verdict,
    /// Who decided (the team lead, or a sync admin).
    pub by: UserId,
    /// When, by the decider's device clock (evidence, not order).
    pub at: Timestamp,
    /// 审核意见: required to return; a plain string, written once.
    pub comment: String,
    /// The [`content_stamp`] of the log as the decider saw it.
    pub covers: String,
    /// The document's heads (hex) as the decider saw it: reading the
    /// document there shows the version that was decided on.
    pub heads: Vec<String>,
}

/// Length of a content stamp in hex digits (16 bytes of SHA-256).
pub const STAMP_HEX_LEN: usize = 32;
/// Length of an Automerge change hash in hex digits.
pub const HEAD_HEX_LEN: usize = 64;

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Decision {
    /// Whether the decision is well formed: a stamp and heads in their hex
    /// forms, at least one head, and a comment when it returns the log.
    pub fn is_well_formed(&self) -> bool {
        is_lower_hex(&self.covers, STAMP_HEX_LEN)
            && !self.heads.is_empty()
            && self.heads.iter().all(|h| is_lower_hex(h, HEAD_HEX_LEN))
            && (self.verdict == Verdict::Approved || !self.comment.trim().is_empty())
    }
}

code_enum! {
    /// Where a log stands in review (审核状态), derived from its status and
    /// its review history by [`review_state`]. The queue, badges and
    /// statistics read this, not the stored status.
    pub enum ReviewState {
        /// 草稿: not handed in.
        Draft = ("draft", "草稿"),
        /// 待审核: handed in (or handed in again after a return).
        Submitted = ("submitted", "待审核"),
        /// 已通过: approved, and the content is what was approved.
        Approved = ("approved", "已通过"),
        /// 已退回: returned, and not edited since.
        Returned = ("returned", "已退回"),
        /// 审核后已修改: approved, then the content changed (after the
        /// approval, or concurrently with it on another device); back in the
        /// queue.
        ChangedSinceApproval = ("changed_since_approval", "审核后已修改"),
    }
}

impl ReviewState {
    /// Whether a log in this state waits for the team lead (审核队列).
    pub const fn awaits_review(self) -> bool {
        matches!(
            self,
            ReviewState::Submitted | ReviewState::ChangedSinceApproval
        )
    }
}

/// The review state of a log: the last decision in list order decides when
/// it covers the current content; otherwise an approval becomes
/// [`ReviewState::ChangedSinceApproval`] and a return becomes
/// [`ReviewState::Submitted`] (or [`ReviewState::Draft`] when the author set
/// it back to draft). A log without decisions (schema 1, or never reviewed)
/// is its stored status: a schema-1 approval or return counts as covering the
/// content it stands on.
pub fn review_state(log: &ServiceLog) -> ReviewState {
    let Some(last) = log.reviews.last() else {
        return match log.status {
            LogStatus::Draft => ReviewState::Draft,
            LogStatus::Submitted => ReviewState::Submitted,
            LogStatus::Approved => ReviewState::Approved,
            LogStatus::Returned => ReviewState::Returned,
        };
    };
    let covered = last.covers == content_stamp(log);
    match (last.verdict, covered) {
        (Verdict::Approved, true) => ReviewState::Approved,
        (Verdict::Returned, true) => ReviewState::Returned,
        (Verdict::Approved, false) => ReviewState::ChangedSinceApproval,
        (Verdict::Returned, false) if log.status == LogStatus::Draft => ReviewState::Draft,
        (Verdict::Returned, false) => ReviewState::Submitted,
    }
}

/// The fields of a service log that a decision covers: what the
/// commissioner recorded. Not its identity, team, status, review, history or
/// duplicate mark.
pub const LOG_CONTENT_FIELDS: &[&str] = &[
    "date",
    "start_time",
    "end_time",
    "village",
    "location",
    "activity",
    "industry",
    "farmers_served",
    "trainees",
    "served",
    "technologies",
    "varieties",
    "description",
    "photos",
];

/// A canonical, versioned byte encoding of a log's content: every field in a
/// fixed order, each value length-prefixed, so that two logs encode alike
/// exactly when their content is alike. Independent of serde and of any
/// map ordering, so the stamp is the same on every platform and version.
struct Canonical(Sha256);

impl Canonical {
    fn tag(&mut self, name: &str) {
        self.bytes(name.as_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.update((b.len() as u64).to_be_bytes());
        self.0.update(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn opt<T>(&mut self, v: Option<T>, f: impl FnOnce(&mut Self, T)) {
        match v {
            None => self.0.update([0]),
            Some(v) => {
                self.0.update([1]);
                f(self, v);
            }
        }
    }
    fn u32(&mut self, n: u32) {
        self.0.update(n.to_be_bytes());
    }
    fn f64(&mut self, x: f64) {
        // -0.0 and 0.0 are one position.
        let x = if x == 0.0 { 0.0 } else { x };
        self.0.update(x.to_bits().to_be_bytes());
    }
    fn count(&mut self, n: usize) {
        self.0.update((n as u64).to_be_bytes());
    }
}

/// Version of the canonical encoding, part of what is hashed.
const STAMP_VERSION: &str = "ketepai.log-content.v1";

/// The content stamp of a log: the first 16 bytes of the SHA-256 of its
/// content fields ([`LOG_CONTENT_FIELDS`]: named parties sorted by ID,
/// photos by hash and caption in order) in a canonical encoding, as 32 hex
/// digits. Equal content, equal stamp, on every device.
pub fn content_stamp(log: &ServiceLog) -> String {
    let mut c = Canonical(Sha256::new());
    c.str(STAMP_VERSION);
    c.tag("date");
    c.str(&log.date.format("%Y-%m-%d").to_string());
    c.tag("start_time");
    c.opt(log.start_time, |c, t| c.str(&t.format("%H:%M").to_string()));
    c.tag("end_time");
    c.opt(log.end_time, |c, t| c.str(&t.format("%H:%M").to_string()));
    c.tag("village");
    c.str(&log.village.to_string());
    c.tag("location");
    c.opt(log.location, |c, p: GeoPoint| {
        c.f64(p.lat);
        c.f64(p.lon);
        c.opt(p.accuracy_m, Canonical::f64);
    });
    c.tag("activity");
    c.str(log.activity.code());
    c.tag("industry");
    c.str(&log.industry);
    c.tag("farmers_served");
    c.u32(log.farmers_served);
    c.tag("trainees");
    c.opt(log.trainees, Canonical::u32);
    c.tag("served");
    let mut served: Vec<&ServedParty> = log.served.iter().collect();
    served.sort_by_key(|p| p.id);
    c.count(served.len());
    for p in served {
        c.str(&p.id.to_string());
        c.str(p.kind.code());
        c.str(&p.name);
    }
    c.tag("technologies");
    c.count(log.technologies.len());
    for t in &log.technologies {
        c.str(t);
    }
    c.tag("varieties");
    c.count(log.varieties.len());
    for v in &log.varieties {
        c.str(v);
    }
    c.tag("description");
    c.str(&log.description);
    c.tag("photos");
    c.count(log.photos.len());
    for p in &log.photos {
        c.str(&p.hash.to_string());
        c.str(&p.caption);
    }
    let digest = c.0.finalize();
    let mut out = String::with_capacity(STAMP_HEX_LEN);
    for b in &digest[..STAMP_HEX_LEN / 2] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// One content field that differs between two versions of a log (what
/// changed since a decision): the field's name and its values before and
/// after, as JSON for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field, as in [`LOG_CONTENT_FIELDS`].
    pub field: String,
    /// Its value in the earlier version.
    pub before: serde_json::Value,
    /// Its value now.
    pub after: serde_json::Value,
}

#[derive(Serialize)]
struct PartyView<'a> {
    id: String,
    kind: PartyKind,
    name: &'a str,
}

#[derive(Serialize)]
struct PhotoView<'a> {
    hash: String,
    caption: &'a str,
}

fn json<T: Serialize>(v: T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The content fields of a log as JSON, in [`LOG_CONTENT_FIELDS`] order, as
/// the stamp sees them (parties sorted by ID, photos by hash and caption).
pub fn content_json(log: &ServiceLog) -> Vec<(&'static str, serde_json::Value)> {
    let mut served: Vec<&ServedParty> = log.served.iter().collect();
    served.sort_by_key(|p| p.id);
    let served: Vec<PartyView<'_>> = served
        .into_iter()
        .map(|p| PartyView {
            id: p.id.to_string(),
            kind: p.kind,
            name: &p.name,
        })
        .collect();
    let photos: Vec<PhotoView<'_>> = log
        .photos
        .iter()
        .map(|p: &PhotoMeta| PhotoView {
            hash: p.hash.to_string(),
            caption: &p.caption,
        })
        .collect();
    vec![
        ("date", json(log.date)),
        (
            "start_time",
            json(log.start_time.map(|t| t.format("%H:%M").to_string())),
        ),
        (
            "end_time",
            json(log.end_time.map(|t| t.format("%H:%M").to_string())),
        ),
        ("village", json(log.village)),
        ("location", json(log.location)),
        ("activity", json(log.activity)),
        ("industry", json(&log.industry)),
        ("farmers_served", json(log.farmers_served)),
        ("trainees", json(log.trainees)),
        ("served", json(served)),
        ("technologies", json(&log.technologies)),
        ("varieties", json(&log.varieties)),
        ("description", json(&log.description)),
        ("photos", json(photos)),
    ]
}

/// The content fields that differ from `before` to `after`, in field order.
pub fn content_changes(before: &ServiceLog, after: &ServiceLog) -> Vec<FieldChange> {
    content_json(before)
        .into_iter()
        .zip(content_json(after))
        .filter(|((_, b), (_, a))| a != b)
        .map(|((field, before), (_, after))| FieldChange {
            field: field.to_string(),
            before,
            after,
        })
        .collect()
}

impl ServiceLog {
    /// The log's review state ([`review_state`]).
    pub fn review_state(&self) -> ReviewState {
        review_state(self)
    }

    /// The decision that counts: the last in the history.
    pub fn last_decision(&self) -> Option<&Decision> {
        self.reviews.last()
    }

    /// Records `by`'s decision on the log as it stands, having seen the
    /// document at `heads`: appends it to the history (covering the current
    /// content) and mirrors it in the status and the review, which schema-1
    /// readers show. Returning needs a comment (`comment` is required). The
    /// caller checks that the log is not a draft.
    pub fn decide(
        &mut self,
        id: DecisionId,
        verdict: Verdict,
        by: UserId,
        at: Timestamp,
        comment: &str,
        heads: Vec<String>,
    ) -> Result<(), ValidationError> {
        let comment = comment.trim();
        let mut errors = Vec::new();
        if verdict == Verdict::Returned && comment.is_empty() {
            errors.push(FieldError::Required {
                field: "comment".into(),
            });
        }
        validate::long_text("comment", comment, MAX_DESCRIPTION_CHARS, &mut errors);
        if !errors.is_empty() {
            return Err(ValidationError::new(errors));
        }
        self.reviews.push(Decision {
            id,
            verdict,
            by,
            at,
            comment: comment.to_string(),
            covers: content_stamp(self),
            heads,
        });
        self.status = verdict.status();
        self.review = Review {
            comment: comment.to_string(),
            by: Some(by),
            at: Some(at),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PhotoHash;
    use crate::testing::{self, user_id};

    fn log() -> ServiceLog {
        testing::service_log(user_id(1), Some(testing::team_id(1)), testing::village())
    }

    fn decision(verdict: Verdict, covers: String) -> Decision {
        Decision {
            id: DecisionId::from_uuid(uuid::Uuid::from_u128(7)),
            verdict,
            by: user_id(5),
            at: testing::T0,
            comment: "请补充照片".into(),
            covers,
            heads: vec!["ab".repeat(32)],
        }
    }

    /// The stamp of the fixture log, pinned: a change here means devices of
    /// different versions would disagree on what an approval covers.
    #[test]
    fn the_stamp_of_a_fixed_log_never_changes() {
        assert_eq!(content_stamp(&log()), "902ceba5b02133b89adbc30d4eec6cb9");
    }

    #[test]
    fn the_stamp_covers_content_and_nothing_else() {
        let base = content_stamp(&log());
        let mut l = log();
        l.status = LogStatus::Approved;
        l.review.comment = "好".into();
        l.reviews.push(decision(Verdict::Approved, base.clone()));
        l.created_at = Timestamp::from_millis(1);
        assert_eq!(content_stamp(&l), base, "review fields are not content");
        type Edit = fn(&mut ServiceLog);
        let edits: [(&str, Edit); 8] = [
            ("description", |l| l.description.push('。')),
            ("farmers_served", |l| l.farmers_served += 1),
            ("trainees", |l| l.trainees = Some(0)),
            ("industry", |l| l.industry = "白茶".into()),
            ("technologies", |l| l.technologies.push("x".into())),
            ("start_time", |l| l.start_time = "08:00".parse().ok()),
            ("location", |l| {
                l.location = Some(GeoPoint {
                    lat: 28.5,
                    lon: 107.4,
                    accuracy_m: None,
                })
            }),
            ("photos", |l| {
                l.photos.push(PhotoMeta {
                    hash: PhotoHash::from_bytes([1; 32]),
                    thumb: PhotoHash::from_bytes([2; 32]),
                    size_bytes: 1,
                    width: 1,
                    height: 1,
                    taken_at: None,
                    location: None,
                    caption: String::new(),
                })
            }),
        ];
        for (field, edit) in edits {
            let mut l = log();
            edit(&mut l);
            assert_ne!(content_stamp(&l), base, "{field} is content");
            let changes = content_changes(&log(), &l);
            assert_eq!(changes.len(), 1, "{field}: {changes:?}");
            assert_eq!(changes[0].field, field);
        }
    }

    #[test]
    fn the_state_follows_the_last_decision_and_the_content() {
        let mut l = log();
        assert_eq!(review_state(&l), ReviewState::Submitted);
        l.status = LogStatus::Draft;
        assert_eq!(review_state(&l), ReviewState::Draft);
        l.status = LogStatus::Approved;
        assert_eq!(
            review_state(&l),
            ReviewState::Approved,
            "a schema-1 approval"
        );

        let mut l = log();
        l.reviews
            .push(decision(Verdict::Approved, content_stamp(&l)));
        l.status = LogStatus::Approved;
        assert_eq!(review_state(&l), ReviewState::Approved);
        l.farmers_served = 99;
        assert_eq!(review_state(&l), ReviewState::ChangedSinceApproval);
        l.reviews
            .push(decision(Verdict::Approved, content_stamp(&l)));
        assert_eq!(review_state(&l), ReviewState::Approved, "approved again");

        let mut l = log();
        l.reviews
            .push(decision(Verdict::Returned, content_stamp(&l)));
        l.status = LogStatus::Returned;
        assert_eq!(review_state(&l), ReviewState::Returned);
        l.description.push_str("（已补充）");
        assert_eq!(
            review_state(&l),
            ReviewState::Submitted,
            "whatever the stored status says"
        );
        l.status = LogStatus::Draft;
        assert_eq!(review_state(&l), ReviewState::Draft);
    }

    #[test]
    fn decisions_are_well_formed_or_not() {
        let stamp = content_stamp(&log());
        assert!(decision(Verdict::Approved, stamp.clone()).is_well_formed());
        let mut silent = decision(Verdict::Returned, stamp.clone());
        silent.comment = "  ".into();
        assert!(!silent.is_well_formed(), "a return needs a comment");
        silent.verdict = Verdict::Approved;
        assert!(silent.is_well_formed(), "an approval does not");
        assert!(!decision(Verdict::Approved, "xyz".into()).is_well_formed());
        let mut headless = decision(Verdict::Approved, stamp);
        headless.heads.clear();
        assert!(!headless.is_well_formed());
    }
}
