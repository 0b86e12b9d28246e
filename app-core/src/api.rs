//! The types the interface and the shell exchange: queries, list rows,
//! pickers, identities. Plain serde with no I/O, so they compile to wasm for
//! `app-ui` (with default features off) and the store fills them natively.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{
    ActivityType, ConsultationId, ConsultationStatus, LogStatus, ServiceLogId, TeamId, Timestamp,
    UserId, VillageCode,
};

/// A page of service logs to list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LogQuery {
    /// Only this author's logs.
    pub author: Option<UserId>,
    /// Only this team's logs.
    pub team: Option<TeamId>,
    /// Only logs in this status.
    pub status: Option<LogStatus>,
    /// From this date, inclusive.
    pub from: Option<NaiveDate>,
    /// To this date, inclusive.
    pub to: Option<NaiveDate>,
    /// Text that must appear in industry, description, names, technologies,
    /// or the village or township name.
    pub text: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
}

/// A service log as a list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogSummary {
    /// The log.
    pub id: ServiceLogId,
    /// Its author.
    pub author: UserId,
    /// The day.
    pub date: NaiveDate,
    /// Start time, `HH:MM`.
    pub start_time: Option<String>,
    /// The village.
    pub village: VillageCode,
    /// The village's name, when the register is loaded.
    pub village_name: Option<String>,
    /// The township's name, when the register is loaded.
    pub township_name: Option<String>,
    /// Activity type.
    pub activity: ActivityType,
    /// Industry.
    pub industry: String,
    /// Farmers served.
    pub farmers_served: u32,
    /// Trainees.
    pub trainees: Option<u32>,
    /// Photos attached.
    pub photo_count: u32,
    /// Review status.
    pub status: LogStatus,
    /// Whether a field has concurrent values to resolve.
    pub has_conflicts: bool,
    /// Start of the description.
    pub summary: String,
}

/// A page of consultations to list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConsultationQuery {
    /// Only this author's.
    pub author: Option<UserId>,
    /// Only this team's.
    pub team: Option<TeamId>,
    /// Only in this status.
    pub status: Option<ConsultationStatus>,
    /// Text in the farmer's name, subject, problem, advice or notes.
    pub text: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
}

/// A consultation as a list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsultationSummary {
    /// The consultation.
    pub id: ConsultationId,
    /// Its author.
    pub author: UserId,
    /// The farmer's name.
    pub farmer_name: String,
    /// The farmer's village.
    pub village: VillageCode,
    /// The village's name, when the register is loaded.
    pub village_name: Option<String>,
    /// Crop or livestock.
    pub subject: String,
    /// When asked.
    pub asked_at: Timestamp,
    /// When first answered.
    pub first_answered_at: Option<Timestamp>,
    /// Status.
    pub status: ConsultationStatus,
    /// Number of follow-ups.
    pub follow_up_count: u32,
    /// Whether a field has concurrent values to resolve.
    pub has_conflicts: bool,
    /// Start of the problem.
    pub summary: String,
}

/// A division for a picker: its code (all digits) and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Division {
    /// The code, zero-padded to its level's length.
    pub code: String,
    /// The official name.
    pub name: String,
}

/// Who is acting on this device: the signed-in user and their team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The user.
    pub user: UserId,
    /// Their team, if any.
    pub team: Option<TeamId>,
}

/// How much is waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxStats {
    /// Changes waiting.
    pub changes: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Records they belong to.
    pub records: u64,
}

/// A team lead's decision on a submitted log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// 通过.
    Approve,
    /// 退回, with a comment saying what to fix.
    Return,
}
