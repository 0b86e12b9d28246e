//! Statistics (工作统计 / 年度统计) and assessment (考核): the one
//! implementation of every figure in docs/statistics.md, used by the device
//! and the server alike.
//!
//! The computation is pure (no I/O) and compiles to wasm. Callers feed
//! *facts* — the few fields of a record the figures need ([`LogFact`],
//! [`ConsultationFact`]) — into a [`ReportBuilder`] (or [`compute`]), which
//! counts them for one [`Period`] and [`Filter`] into [`Figures`] per
//! commissioner, team, county, prefecture and province. Distinct counts
//! (villages, days, technologies, …) carry their sets up the levels and are
//! counted at each level; medians are taken over all values of the group.
//! Nothing is a sum of distinct counts or a median of medians.
//!
//! - [`facts`]: the inputs and what counts ([`FactStatus`], name normalisation).
//! - [`figures`]: the outputs and the catalogue of named figures ([`Figure`]).
//! - [`register`]: the village register that coverage is measured against.
//! - [`engine`]: the roll-up.
//! - [`assess`]: assessment schemes (考核方案) as data, and scores.
//! - [`sheet`]: the annual sheet (年度统计表) and other tables, as cells.
//! - `export` (feature `export`): those tables as XLSX and CSV files.
//! - [`wire`]: the server's statistics endpoints' questions and answer.
//!
//! The device computes its own figures from its projection tables through the
//! same engine (`store::stats`), so device and server agree by construction.

pub mod assess;
pub mod engine;
#[cfg(feature = "export")]
pub mod export;
pub mod facts;
pub mod figures;
mod hash;
pub mod register;
pub mod sheet;
pub mod wire;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::{CountyCode, TeamId, Timestamp, UserId};

pub use engine::{Area, Filter, Levels, Report, ReportBuilder, Row, StatsRequest, compute};
pub use facts::{ConsultationFact, FactStatus, ItemKind, LogEntry, LogFact, normalise_name};
pub use figures::{Figure, Figures, Unit};
pub use register::Register;
pub use wire::{Answer, StatsParams, StatsSubject};

/// A statistical period (统计期): whole days in China time (UTC+8), both ends
/// inclusive. A log belongs to it by its work date; a consultation by the
/// instant it was asked, from `from` 00:00:00.000 to `to` 23:59:59.999 China
/// time. A period whose end is before its start contains nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// First day, inclusive.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
}

impl Period {
    /// The period from `from` to `to`, both inclusive.
    pub const fn new(from: NaiveDate, to: NaiveDate) -> Self {
        Period { from, to }
    }

    /// The calendar year `year` (1 January to 31 December), if chrono can
    /// represent it.
    pub fn year(year: i32) -> Option<Self> {
        Some(Period {
            from: NaiveDate::from_ymd_opt(year, 1, 1)?,
            to: NaiveDate::from_ymd_opt(year, 12, 31)?,
        })
    }

    /// Whether the period contains no day (its end is before its start).
    pub fn is_empty(&self) -> bool {
        self.to < self.from
    }

    /// Whether work done on `date` belongs to the period.
    pub fn contains_date(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// The instants the period covers: from the China-time midnight starting
    /// `from` (inclusive) to the China-time midnight ending `to` (exclusive).
    pub fn instants(&self) -> (Timestamp, Timestamp) {
        let start = Timestamp::from_china_local(self.from.and_time(chrono::NaiveTime::MIN));
        let last_midnight = Timestamp::from_china_local(self.to.and_time(chrono::NaiveTime::MIN));
        (start, last_midnight.add_millis(86_400_000))
    }

    /// Whether an instant (a consultation's question) belongs to the period.
    pub fn contains_instant(&self, at: Timestamp) -> bool {
        let (start, end) = self.instants();
        start <= at && at < end
    }

    /// Days in the period (0 when empty).
    pub fn days(&self) -> u32 {
        if self.is_empty() {
            0
        } else {
            (self.to.num_days_from_ce() - self.from.num_days_from_ce() + 1) as u32
        }
    }
}

/// Whose work, over which days: the device's question (我的统计, the team's
/// figures on a lead's tablet).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsQuery {
    /// Only this author's records.
    pub author: Option<UserId>,
    /// Only the records made for this team.
    pub team: Option<TeamId>,
    /// Only records in this county.
    pub county: Option<CountyCode>,
    /// First day, inclusive (China time).
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
}

impl StatsQuery {
    /// The query's period.
    pub fn period(&self) -> Period {
        Period::new(self.from, self.to)
    }

    /// The query's filter.
    pub fn filter(&self) -> Filter {
        Filter {
            author: self.author,
            team: self.team,
            area: self.county.map(Area::County),
            counties: None,
        }
    }
}

/// The figures of a period as the device shows them (我的统计): the same
/// [`Figures`] the server rolls up, for the records the query selects.
pub type WorkStats = Figures;
