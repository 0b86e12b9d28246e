//! Work statistics (工作统计) as the assessment and annual statistics read
//! them: the figures for one commissioner, a team or a county over a period.
//! The types here are plain serde for the interface; the store computes them
//! from the projections (`store::stats`), never from Automerge documents.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{CountyCode, TeamId, UserId};

/// Whose work, over which days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsQuery {
    /// Only this author's records.
    pub author: Option<UserId>,
    /// Only this team's records.
    pub team: Option<TeamId>,
    /// Only records in this county.
    pub county: Option<CountyCode>,
    /// First day, inclusive (China time).
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
}

/// The figures of a period. Drafts do not count; submitted, approved and
/// returned logs do (`approved_logs` says how many passed review).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkStats {
    /// 服务天数: distinct days with at least one log.
    pub service_days: u32,
    /// 服务次数: logs.
    pub visits: u32,
    /// Logs approved by the team lead.
    pub approved_logs: u32,
    /// 覆盖行政村: distinct villages served.
    pub villages_covered: u32,
    /// 覆盖乡镇: distinct townships served.
    pub townships_covered: u32,
    /// 服务农户: farmers served, summed over logs.
    pub farmers_served: u64,
    /// 培训场次: training logs.
    pub trainings: u32,
    /// 培训人次: trainees, summed over trainings.
    pub trainees: u64,
    /// 推广新技术: distinct technologies promoted.
    pub technologies: u32,
    /// 推广新品种: distinct varieties promoted.
    pub varieties: u32,
    /// 服务企业: distinct enterprises served.
    pub enterprises: u32,
    /// 服务合作社: distinct cooperatives served.
    pub cooperatives: u32,
    /// Photos per log, on average.
    pub photos_per_log: f64,
    /// 农户咨询: consultations asked in the period.
    pub consultations: u32,
    /// Of those, answered.
    pub consultations_answered: u32,
    /// Median minutes from question to first answer, over answered ones.
    pub median_minutes_to_first_answer: Option<u32>,
}
