//! The figures (统计指标) of one group over one period, and the catalogue of
//! named figures that assessment schemes and spreadsheets refer to. Each
//! definition is written out in docs/statistics.md; the engine
//! ([`super::engine`]) is the only code that fills these in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The figures of one group (a commissioner, a team, a county, a prefecture,
/// a province, or everything selected) over one period.
///
/// Figures that need the village register are `None` when no register was
/// given; figures of an area (`register_*` totals and coverage shares) are
/// `None` for commissioners and teams, which have no area. A share or an
/// average over nothing is `None`, never 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// 活跃特派员 (人): distinct authors with at least one counted log.
    pub active_commissioners: u32,
    /// 服务团队 (个): distinct teams recorded on counted logs.
    pub teams: u32,
    /// 服务天数 / 有服务的天数 (天): distinct work dates of counted logs. For a
    /// commissioner, their service days; for a group, the days on which
    /// anyone in it served.
    pub service_days: u32,
    /// 服务人天 (人天): the sum over commissioners of their service days in
    /// the group (distinct commissioner–date pairs).
    pub person_days: u32,
    /// 服务次数 (次): counted logs.
    pub visits: u32,
    /// 审核通过 (次): counted logs whose status is approved.
    pub approved_logs: u32,
    /// 审核通过率 (%, as a fraction 0–1): approved / counted logs.
    pub approval_share: Option<f64>,
    /// 服务农户 (人次): farmers served, summed over counted logs.
    pub farmers_served: u64,
    /// 培训场次 (次): counted logs whose activity is training.
    pub trainings: u32,
    /// 培训人次 (人次): trainees summed over those trainings (none given = 0).
    pub trainees: u64,
    /// 未填人次的培训 (次): trainings without a number of trainees.
    pub trainings_without_trainees: u32,
    /// 达标培训场次 (次): for each threshold the request asked for, trainings
    /// with at least that many trainees.
    pub trainings_with_min_trainees: BTreeMap<u32, u32>,
    /// 示范推广 (次): counted logs whose activity is demonstration.
    pub demonstrations: u32,
    /// 覆盖行政村 (个): distinct village codes of counted logs.
    pub villages_covered: u32,
    /// 覆盖乡镇 (个): distinct township codes of counted logs.
    pub townships_covered: u32,
    /// 覆盖登记行政村 (个): covered villages that are in the register.
    pub register_villages_covered: Option<u32>,
    /// 登记行政村 (个): villages in the register for the area.
    pub register_villages: Option<u32>,
    /// 行政村覆盖率 (%, as a fraction 0–1): register villages covered / register villages.
    pub village_coverage: Option<f64>,
    /// 覆盖登记乡镇 (个): register townships holding a covered register village.
    pub register_townships_covered: Option<u32>,
    /// 登记乡镇 (个): townships in the register for the area.
    pub register_townships: Option<u32>,
    /// 乡镇覆盖率 (%, as a fraction 0–1).
    pub township_coverage: Option<f64>,
    /// 登记外村日志 (次): counted logs whose village is not in the register.
    pub logs_outside_register: Option<u32>,
    /// 推广新技术 (个): distinct normalised technology names.
    pub technologies: u32,
    /// 推广新品种 (个): distinct normalised variety names.
    pub varieties: u32,
    /// 服务企业 (个): distinct normalised names of enterprises served.
    pub enterprises: u32,
    /// 服务合作社 (个): distinct normalised names of cooperatives served.
    pub cooperatives: u32,
    /// 照片 (个): photos on counted logs.
    pub photos: u64,
    /// 每条日志照片数 (个): photos / counted logs.
    pub photos_per_log: Option<f64>,
    /// 咨询数 (次): consultations asked in the period, duplicates excluded.
    pub consultations: u32,
    /// 已答复 (次): of those, with a first answer.
    pub consultations_answered: u32,
    /// 答复早于提问 (次): answered, but the answer's time is before the
    /// question's (a wrong clock): counted as answered, left out of the median.
    pub answers_before_asked: u32,
    /// 首次答复用时中位数 (分钟, decimal): the median over all answered
    /// consultations of the group with a known time; an even count takes the
    /// mean of the two middle values.
    pub median_minutes_to_first_answer: Option<f64>,
}

/// The unit of a figure (单位).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// 人: people.
    People,
    /// 个: things (villages, names, teams, photos).
    Count,
    /// 次: occurrences (logs, trainings, consultations).
    Times,
    /// 天: days.
    Days,
    /// 人天: person-days.
    PersonDays,
    /// 人次: person-times.
    PersonTimes,
    /// 分钟: minutes.
    Minutes,
    /// %: a share.
    Percent,
}

impl Unit {
    /// The unit as written in Chinese.
    pub const fn label_zh(self) -> &'static str {
        match self {
            Unit::People => "人",
            Unit::Count => "个",
            Unit::Times => "次",
            Unit::Days => "天",
            Unit::PersonDays => "人天",
            Unit::PersonTimes => "人次",
            Unit::Minutes => "分钟",
            Unit::Percent => "%",
        }
    }
}

macro_rules! figures {
    ($( $(#[$m:meta])* $variant:ident = ($code:literal, $zh:literal, $unit:ident, |$f:ident| $value:expr), )+) => {
        /// A named figure (统计指标), as schemes and sheets refer to it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Figure {
            $( $(#[$m])* $variant, )+
        }

        impl Figure {
            /// Every named figure, in the order of docs/statistics.md.
            pub const ALL: &'static [Figure] = &[ $( Figure::$variant, )+ ];

            /// The stable name schemes use (`service_days`).
            pub const fn code(self) -> &'static str {
                match self { $( Figure::$variant => $code, )+ }
            }

            /// The Chinese name (服务天数).
            pub const fn label_zh(self) -> &'static str {
                match self { $( Figure::$variant => $zh, )+ }
            }

            /// The unit.
            pub const fn unit(self) -> Unit {
                match self { $( Figure::$variant => Unit::$unit, )+ }
            }

            /// Parses a stable name.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $( $code => Some(Figure::$variant), )+ _ => None }
            }

            /// The figure's value as stored: counts as numbers, minutes as
            /// decimal minutes, shares as fractions (0–1). `None` when the
            /// figure is not known (no register, nothing to average).
            pub fn raw(self, figures: &Figures) -> Option<f64> {
                match self { $( Figure::$variant => { let $f = figures; $value } )+ }
            }
        }
    };
}

fn n<T: Into<f64>>(v: T) -> Option<f64> {
    Some(v.into())
}

figures! {
    /// 活跃特派员.
    ActiveCommissioners = ("active_commissioners", "活跃特派员", People, |f| n(f.active_commissioners)),
    /// 服务团队.
    Teams = ("teams", "服务团队", Count, |f| n(f.teams)),
    /// 服务天数 (有服务的天数 for a group).
    ServiceDays = ("service_days", "服务天数", Days, |f| n(f.service_days)),
    /// 服务人天.
    PersonDays = ("person_days", "服务人天", PersonDays, |f| n(f.person_days)),
    /// 服务次数.
    Visits = ("visits", "服务次数", Times, |f| n(f.visits)),
    /// 审核通过.
    ApprovedLogs = ("approved_logs", "审核通过", Times, |f| n(f.approved_logs)),
    /// 审核通过率.
    ApprovalShare = ("approval_share", "审核通过率", Percent, |f| f.approval_share),
    /// 服务农户.
    FarmersServed = ("farmers_served", "服务农户", PersonTimes, |f| Some(f.farmers_served as f64)),
    /// 培训场次.
    Trainings = ("trainings", "培训场次", Times, |f| n(f.trainings)),
    /// 培训人次.
    Trainees = ("trainees", "培训人次", PersonTimes, |f| Some(f.trainees as f64)),
    /// 未填人次的培训.
    TrainingsWithoutTrainees = ("trainings_without_trainees", "未填人次的培训", Times, |f| n(f.trainings_without_trainees)),
    /// 示范推广.
    Demonstrations = ("demonstrations", "示范推广", Times, |f| n(f.demonstrations)),
    /// 覆盖行政村.
    VillagesCovered = ("villages_covered", "覆盖行政村", Count, |f| n(f.villages_covered)),
    /// 覆盖乡镇.
    TownshipsCovered = ("townships_covered", "覆盖乡镇", Count, |f| n(f.townships_covered)),
    /// 覆盖登记行政村.
    RegisterVillagesCovered = ("register_villages_covered", "覆盖登记行政村", Count, |f| f.register_villages_covered.map(f64::from)),
    /// 登记行政村.
    RegisterVillages = ("register_villages", "登记行政村", Count, |f| f.register_villages.map(f64::from)),
    /// 行政村覆盖率.
    VillageCoverage = ("village_coverage", "行政村覆盖率", Percent, |f| f.village_coverage),
    /// 覆盖登记乡镇.
    RegisterTownshipsCovered = ("register_townships_covered", "覆盖登记乡镇", Count, |f| f.register_townships_covered.map(f64::from)),
    /// 登记乡镇.
    RegisterTownships = ("register_townships", "登记乡镇", Count, |f| f.register_townships.map(f64::from)),
    /// 乡镇覆盖率.
    TownshipCoverage = ("township_coverage", "乡镇覆盖率", Percent, |f| f.township_coverage),
    /// 登记外村日志.
    LogsOutsideRegister = ("logs_outside_register", "登记外村日志", Times, |f| f.logs_outside_register.map(f64::from)),
    /// 推广新技术.
    Technologies = ("technologies", "推广新技术", Count, |f| n(f.technologies)),
    /// 推广新品种.
    Varieties = ("varieties", "推广新品种", Count, |f| n(f.varieties)),
    /// 服务企业.
    Enterprises = ("enterprises", "服务企业", Count, |f| n(f.enterprises)),
    /// 服务合作社.
    Cooperatives = ("cooperatives", "服务合作社", Count, |f| n(f.cooperatives)),
    /// 照片.
    Photos = ("photos", "照片", Count, |f| Some(f.photos as f64)),
    /// 每条日志照片数.
    PhotosPerLog = ("photos_per_log", "每条日志照片数", Count, |f| f.photos_per_log),
    /// 咨询数.
    Consultations = ("consultations", "咨询数", Times, |f| n(f.consultations)),
    /// 已答复.
    ConsultationsAnswered = ("consultations_answered", "已答复", Times, |f| n(f.consultations_answered)),
    /// 答复早于提问.
    AnswersBeforeAsked = ("answers_before_asked", "答复早于提问", Times, |f| n(f.answers_before_asked)),
    /// 首次答复用时中位数.
    MedianMinutesToFirstAnswer = ("median_minutes_to_first_answer", "首次答复用时中位数", Minutes, |f| f.median_minutes_to_first_answer),
}

impl Figure {
    /// The figure's value in its unit as schemes read it: like
    /// [`Figure::raw`], but shares **in percent** (0–100).
    pub fn value(self, figures: &Figures) -> Option<f64> {
        let v = self.raw(figures)?;
        Some(if self.unit() == Unit::Percent {
            v * 100.0
        } else {
            v
        })
    }

    /// The header a sheet gives this figure: `服务天数（天）`.
    pub fn header_zh(self) -> String {
        format!("{}（{}）", self.label_zh(), self.unit().label_zh())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_has_a_unique_code_that_parses_back() {
        let mut codes: Vec<_> = Figure::ALL.iter().map(|f| f.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Figure::ALL.len());
        for f in Figure::ALL {
            assert_eq!(Figure::from_code(f.code()), Some(*f));
        }
        assert_eq!(Figure::from_code("service_day"), None);
    }

    #[test]
    fn shares_are_read_in_percent_and_unknowns_stay_unknown() {
        let f = Figures {
            approval_share: Some(0.875),
            visits: 8,
            ..Figures::default()
        };
        assert_eq!(Figure::ApprovalShare.value(&f), Some(87.5));
        assert_eq!(Figure::Visits.value(&f), Some(8.0));
        assert_eq!(Figure::MedianMinutesToFirstAnswer.value(&f), None);
        assert_eq!(Figure::VillageCoverage.value(&f), None);
        assert_eq!(Figure::ServiceDays.header_zh(), "服务天数（天）");
    }
}
