//! The facts the figures are computed from: for each record, only the fields
//! the definitions in docs/statistics.md read. The device reads them from its
//! projection tables, the server from its own; both hand them to the same
//! engine.
//!
//! [`LogFact`] and [`ConsultationFact`] are small `Copy` values; a log's named
//! items (technologies, varieties, parties served) travel beside it as
//! borrowed `(ItemKind, &str)` pairs, so feeding a million rows allocates
//! nothing per row.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{
    ActivityType, Consultation, ConsultationId, LogStatus, PartyKind, ReviewState, ServiceLog,
    ServiceLogId, TeamId, Timestamp, UserId, VillageCode,
};

/// The effective review status of a log (审核状态) as the figures see it:
/// the review state derived from the log's decisions
/// ([`crate::domain::review::review_state`]), including
/// [`FactStatus::ChangedSinceApproval`] (审核后已修改, waiting for re-review).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactStatus {
    /// 草稿: not handed in. Does not count.
    Draft,
    /// 已提交: waiting for review. Counts.
    Submitted,
    /// 已通过: approved. Counts, and counts as approved.
    Approved,
    /// 已退回: returned to the author. Does not count until handed in again.
    Returned,
    /// 审核后已修改: approved, then edited; waiting for re-review. Counts, but
    /// not as approved.
    ChangedSinceApproval,
}

impl FactStatus {
    /// Every status.
    pub const ALL: [FactStatus; 5] = [
        FactStatus::Draft,
        FactStatus::Submitted,
        FactStatus::Approved,
        FactStatus::Returned,
        FactStatus::ChangedSinceApproval,
    ];

    /// Whether a log in this status is a counted log (计入统计的日志).
    pub const fn counts(self) -> bool {
        matches!(
            self,
            FactStatus::Submitted | FactStatus::Approved | FactStatus::ChangedSinceApproval
        )
    }

    /// The stable code (as in SQL and on the wire).
    pub const fn code(self) -> &'static str {
        match self {
            FactStatus::Draft => "draft",
            FactStatus::Submitted => "submitted",
            FactStatus::Approved => "approved",
            FactStatus::Returned => "returned",
            FactStatus::ChangedSinceApproval => "changed_since_approval",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        FactStatus::ALL.into_iter().find(|s| s.code() == code)
    }
}

impl From<ReviewState> for FactStatus {
    fn from(s: ReviewState) -> Self {
        match s {
            ReviewState::Draft => FactStatus::Draft,
            ReviewState::Submitted => FactStatus::Submitted,
            ReviewState::Approved => FactStatus::Approved,
            ReviewState::Returned => FactStatus::Returned,
            ReviewState::ChangedSinceApproval => FactStatus::ChangedSinceApproval,
        }
    }
}

impl From<LogStatus> for FactStatus {
    fn from(s: LogStatus) -> Self {
        match s {
            LogStatus::Draft => FactStatus::Draft,
            LogStatus::Submitted => FactStatus::Submitted,
            LogStatus::Approved => FactStatus::Approved,
            LogStatus::Returned => FactStatus::Returned,
        }
    }
}

/// The kind of a named item on a log whose distinct names are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// 新技术: a technology promoted.
    Technology,
    /// 新品种: a variety promoted.
    Variety,
    /// 企业: an enterprise served.
    Enterprise,
    /// 合作社: a cooperative served.
    Cooperative,
}

impl ItemKind {
    /// Every kind.
    pub const ALL: [ItemKind; 4] = [
        ItemKind::Technology,
        ItemKind::Variety,
        ItemKind::Enterprise,
        ItemKind::Cooperative,
    ];

    /// The code the device's `record_items` table uses.
    pub const fn code(self) -> &'static str {
        match self {
            ItemKind::Technology => "technology",
            ItemKind::Variety => "variety",
            ItemKind::Enterprise => "enterprise",
            ItemKind::Cooperative => "cooperative",
        }
    }

    /// Parses a `record_items` kind; other kinds (farmers, family farms,
    /// village collectives, consultation subjects) are not counted by name.
    pub fn from_code(code: &str) -> Option<Self> {
        ItemKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The counted kind of a party served, if its kind is counted.
    pub const fn of_party(kind: PartyKind) -> Option<Self> {
        match kind {
            PartyKind::Enterprise => Some(ItemKind::Enterprise),
            PartyKind::Cooperative => Some(ItemKind::Cooperative),
            _ => None,
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// A service log as the figures see it (the log's own team and village,
/// never the author's current ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFact {
    /// The log.
    pub id: ServiceLogId,
    /// Its author (the commissioner).
    pub author: UserId,
    /// The team recorded on the log.
    pub team: Option<TeamId>,
    /// The village served; its township, county, prefecture and province are
    /// its code's prefixes.
    pub village: VillageCode,
    /// The work date (China time).
    pub date: NaiveDate,
    /// The kind of activity.
    pub activity: ActivityType,
    /// The effective review status.
    pub status: FactStatus,
    /// Marked as a duplicate of another log (重复记录): never counts.
    pub duplicate: bool,
    /// 服务农户数.
    pub farmers_served: u32,
    /// 培训人次, when given (read only on trainings).
    pub trainees: Option<u32>,
    /// Photos attached.
    pub photos: u32,
}

impl LogFact {
    /// Whether this log is a counted log: handed in (submitted, approved or
    /// changed since approval) and not a duplicate.
    pub const fn counts(&self) -> bool {
        self.status.counts() && !self.duplicate
    }

    /// The fact of a service log, in its derived review state; `duplicate`
    /// when it is marked as one (or the caller knows it is).
    pub fn of(log: &ServiceLog, duplicate: bool) -> Self {
        LogFact {
            id: log.id,
            author: log.author,
            team: log.team,
            village: log.village,
            date: log.date,
            activity: log.activity,
            status: log.review_state().into(),
            duplicate: duplicate || log.duplicate.is_some(),
            farmers_served: log.farmers_served,
            trainees: log.trainees,
            photos: log.photos.len() as u32,
        }
    }
}

/// A log's fact with its named items, owned: for tests, small callers and the
/// device's conversion of whole records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The scalar fact.
    pub fact: LogFact,
    /// Technologies, varieties, enterprises and cooperatives as written.
    pub items: Vec<(ItemKind, String)>,
}

impl LogEntry {
    /// The entry of a service log: its technologies, varieties, and the
    /// enterprises and cooperatives among the parties served.
    pub fn of(log: &ServiceLog, duplicate: bool) -> Self {
        let items = log
            .technologies
            .iter()
            .map(|t| (ItemKind::Technology, t.clone()))
            .chain(log.varieties.iter().map(|v| (ItemKind::Variety, v.clone())))
            .chain(
                log.served
                    .iter()
                    .filter_map(|p| Some((ItemKind::of_party(p.kind)?, p.name.clone()))),
            )
            .collect();
        LogEntry {
            fact: LogFact::of(log, duplicate),
            items,
        }
    }

    /// The items as the engine takes them.
    pub fn items(&self) -> impl Iterator<Item = (ItemKind, &str)> + '_ {
        self.items.iter().map(|(k, n)| (*k, n.as_str()))
    }
}

/// A farmer consultation as the figures see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationFact {
    /// The consultation.
    pub id: ConsultationId,
    /// Its author (the commissioner who took the question).
    pub author: UserId,
    /// The team recorded on it.
    pub team: Option<TeamId>,
    /// The farmer's village (decides the county).
    pub village: VillageCode,
    /// When the farmer asked.
    pub asked_at: Timestamp,
    /// When it was first answered, if it was.
    pub first_answered_at: Option<Timestamp>,
    /// Marked as a duplicate (重复记录): never counts.
    pub duplicate: bool,
}

impl ConsultationFact {
    /// The fact of a consultation; `duplicate` when it is marked as one (or
    /// the caller knows it is).
    pub fn of(c: &Consultation, duplicate: bool) -> Self {
        ConsultationFact {
            id: c.id,
            author: c.author,
            team: c.team,
            village: c.farmer.village,
            asked_at: c.asked_at,
            first_answered_at: c.first_answered_at,
            duplicate: duplicate || c.duplicate.is_some(),
        }
    }

    /// Milliseconds from question to first answer, when answered and the
    /// answer is not before the question (a wrong device clock makes the
    /// time unknown).
    pub fn answer_millis(&self) -> Option<i64> {
        let ms = self.first_answered_at?.millis_since(self.asked_at);
        (ms >= 0).then_some(ms)
    }
}

/// Normalises a name (of a technology, variety, enterprise or cooperative)
/// into `out`, which is cleared first. Two names are the same when their
/// normal forms are equal:
///
/// 1. full-width forms U+FF01–U+FF5E become their ASCII counterparts
///    (`１` → `1`, `Ａ` → `A`, `（` → `(`), and the ideographic space U+3000
///    becomes a space;
/// 2. ASCII letters are lower-cased;
/// 3. leading and trailing whitespace is removed and every inner run of
///    whitespace becomes one space.
///
/// An empty result means the name does not count.
pub fn normalise_name(raw: &str, out: &mut String) {
    out.clear();
    let mut pending_space = false;
    for c in raw.chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        };
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c.to_ascii_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut out = String::from("left over");
        normalise_name(s, &mut out);
        out
    }

    #[test]
    fn names_are_trimmed_folded_and_spaced_once() {
        assert_eq!(norm("  测土配方施肥 "), "测土配方施肥");
        assert_eq!(norm("\u{3000}黔茶１号\u{3000}"), "黔茶1号");
        assert_eq!(norm("Bt  棉\t抗虫"), "bt 棉 抗虫");
        assert_eq!(norm("ＡＢＣ"), "abc");
        assert_eq!(norm(" \u{3000}\t"), "");
        assert_eq!(
            norm("正安县白茶专业合作社（一社）"),
            "正安县白茶专业合作社(一社)"
        );
    }

    #[test]
    fn only_handed_in_logs_count() {
        let counted: Vec<_> = FactStatus::ALL.into_iter().filter(|s| s.counts()).collect();
        assert_eq!(
            counted,
            [
                FactStatus::Submitted,
                FactStatus::Approved,
                FactStatus::ChangedSinceApproval
            ]
        );
        for s in FactStatus::ALL {
            assert_eq!(FactStatus::from_code(s.code()), Some(s));
        }
    }
}
