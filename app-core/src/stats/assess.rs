//! Assessment (考核): scores from a scheme (考核方案) that is data, not code.
//!
//! A scheme lists indicators (考核指标), each reading one named [`Figure`] of
//! a commissioner and turning it into points: so many points per unit above a
//! threshold, or tiers (档次); capped (封顶) and weighted (权重). Provinces
//! differ, so schemes are TOML files (format in data/schemes/README.md); the
//! app carries two ([`SEED_SCHEME`], [`PROVINCIAL_POINTS_SCHEME`]).
//! [`Scheme::parse`] (feature `assess`) refuses a malformed scheme with the
//! line, column and field at fault. Scoring is pure and needs no feature.

use serde::{Deserialize, Serialize};

use super::Period;
use super::engine::{Filter, Report, StatsRequest};
use super::figures::{Figure, Figures};
use crate::domain::UserId;

/// The scheme built from the seed policy's indicators (国科发农〔2021〕368号).
pub const SEED_SCHEME: &str = include_str!("../../../data/schemes/seed_2021.toml");
/// A provincial-style points sheet (积分制).
pub const PROVINCIAL_POINTS_SCHEME: &str =
    include_str!("../../../data/schemes/provincial_points.toml");

/// Which days a scheme assesses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SchemePeriod {
    /// A calendar year, chosen when scoring (`period = "calendar_year"`).
    CalendarYear,
    /// Fixed days (`period = { from = 2026-01-01, to = 2026-12-31 }`).
    Fixed {
        /// The days.
        period: Period,
    },
}

/// A tier's condition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The value is at least this (more is better).
    AtLeast(f64),
    /// The value is at most this (less is better, e.g. minutes to answer).
    AtMost(f64),
}

impl Bound {
    /// Whether `value` meets the condition.
    pub fn holds(self, value: f64) -> bool {
        match self {
            Bound::AtLeast(b) => value >= b,
            Bound::AtMost(b) => value <= b,
        }
    }
}

/// One tier (档次): points when the value meets the bound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    /// The condition.
    pub bound: Bound,
    /// Points when it holds.
    pub points: f64,
}

/// How an indicator turns a value into points (before cap and weight).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// `points × units`, where units = value − above (never below 0); with
    /// `per`, whole steps only: ⌊(value − above) / per⌋.
    PerUnit {
        /// Points per unit (per step when `per` is set).
        points: f64,
        /// Only the part of the value above this counts.
        above: f64,
        /// Size of a step, e.g. 100 for "1 point per 100 人次".
        per: Option<f64>,
    },
    /// The most points among the tiers whose bound the value meets; 0 if none.
    Tiers {
        /// The tiers.
        tiers: Vec<Tier>,
    },
}

impl Rule {
    /// Points for `value`, before cap and weight.
    pub fn points(&self, value: f64) -> f64 {
        match self {
            Rule::PerUnit { points, above, per } => {
                let over = (value - above).max(0.0);
                let units = match per {
                    Some(p) => (over / p).floor(),
                    None => over,
                };
                units * points
            }
            Rule::Tiers { tiers } => tiers
                .iter()
                .filter(|t| t.bound.holds(value))
                .map(|t| t.points)
                .fold(0.0, f64::max),
        }
    }
}

/// One indicator (考核指标) of a scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// Stable id within the scheme.
    pub id: String,
    /// Name shown on the score sheet.
    pub name: String,
    /// The figure it reads.
    pub figure: Figure,
    /// For `trainings`: count only trainings with at least this many trainees.
    pub min_trainees: Option<u32>,
    /// How the value becomes points.
    pub rule: Rule,
    /// Most points the indicator can give (封顶), before the weight.
    pub cap: Option<f64>,
    /// Multiplies the (capped) points.
    pub weight: f64,
}

impl Indicator {
    /// The value this indicator reads from `f`, in the figure's unit (shares
    /// in percent). `None` when unknown, or when `f` was computed without the
    /// training size this indicator needs.
    pub fn value(&self, f: &Figures) -> Option<f64> {
        match self.min_trainees {
            Some(n) => f.trainings_with_min_trainees.get(&n).map(|v| f64::from(*v)),
            None => self.figure.value(f),
        }
    }

    /// The indicator's line of a score for `f`.
    pub fn score(&self, f: &Figures) -> IndicatorScore {
        let value = self.value(f);
        let raw = value.map_or(0.0, |v| self.rule.points(v));
        let points = self.cap.map_or(raw, |c| raw.min(c));
        IndicatorScore {
            id: self.id.clone(),
            name: self.name.clone(),
            figure: self.figure,
            value,
            raw_points: raw,
            capped: points < raw,
            points,
            weight: self.weight,
            score: points * self.weight,
        }
    }
}

/// An assessment scheme (考核方案), validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scheme {
    /// Stable id (`seed-2021`).
    pub id: String,
    /// Name (科技特派员年度考核).
    pub name: String,
    /// Free text: where the scheme comes from.
    pub description: Option<String>,
    /// The days it assesses.
    pub period: SchemePeriod,
    /// Most points in all (总分封顶), if capped.
    pub max_total: Option<f64>,
    /// The indicators, in sheet order.
    pub indicators: Vec<Indicator>,
}

/// One indicator's line in a commissioner's score (得分明细).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorScore {
    /// The indicator's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The figure read.
    pub figure: Figure,
    /// The value read (shares in percent); `None` when unknown, which scores 0.
    pub value: Option<f64>,
    /// Points from the rule, before the cap.
    pub raw_points: f64,
    /// Whether the cap cut the points.
    pub capped: bool,
    /// Points after the cap, before the weight.
    pub points: f64,
    /// The weight.
    pub weight: f64,
    /// `points × weight`: what the indicator adds to the total.
    pub score: f64,
}

/// A commissioner's score (考核得分) with its breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommissionerScore {
    /// Who.
    pub commissioner: UserId,
    /// Sum of the indicators' scores, capped by the scheme's `max_total`.
    pub total: f64,
    /// Whether `max_total` cut the sum.
    pub capped: bool,
    /// One line per indicator, in the scheme's order.
    pub indicators: Vec<IndicatorScore>,
}

/// The scores of a group of commissioners under one scheme for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSheet {
    /// The scheme's id.
    pub scheme_id: String,
    /// The scheme's name.
    pub scheme_name: String,
    /// The indicators' ids and names, in order (the sheet's columns).
    pub indicators: Vec<(String, String)>,
    /// The period scored.
    pub period: Period,
    /// Highest total first; ties in commissioner order.
    pub scores: Vec<CommissionerScore>,
}

impl Scheme {
    /// The days to assess: the fixed period, or the calendar year `year`.
    pub fn period_for(&self, year: i32) -> Option<Period> {
        match self.period {
            SchemePeriod::Fixed { period } => Some(period),
            SchemePeriod::CalendarYear => Period::year(year),
        }
    }

    /// The trainee thresholds this scheme's indicators need.
    pub fn training_sizes(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .indicators
            .iter()
            .filter_map(|i| i.min_trainees)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The statistics request that gives every figure this scheme reads.
    pub fn stats_request(&self, period: Period, filter: Filter) -> StatsRequest {
        let mut r = StatsRequest::new(period);
        r.filter = filter;
        r.training_sizes = self.training_sizes();
        r
    }

    /// Scores one commissioner's figures.
    pub fn score(&self, commissioner: UserId, f: &Figures) -> CommissionerScore {
        let indicators: Vec<IndicatorScore> = self.indicators.iter().map(|i| i.score(f)).collect();
        let sum: f64 = indicators.iter().map(|s| s.score).sum();
        let total = self.max_total.map_or(sum, |m| sum.min(m));
        CommissionerScore {
            commissioner,
            total,
            capped: total < sum,
            indicators,
        }
    }

    /// Scores every commissioner of `report`, and every member of `roster`
    /// (with all figures zero when they recorded nothing). The report should
    /// come from [`Scheme::stats_request`], or indicators with `min_trainees`
    /// read nothing.
    pub fn score_report(&self, report: &Report, roster: &[UserId]) -> ScoreSheet {
        let empty = Figures::default();
        let mut ids: Vec<UserId> = report
            .commissioners
            .iter()
            .map(|r| r.key)
            .chain(roster.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut scores: Vec<CommissionerScore> = ids
            .into_iter()
            .map(|id| self.score(id, report.commissioner(id).unwrap_or(&empty)))
            .collect();
        scores.sort_by(|a, b| {
            b.total
                .total_cmp(&a.total)
                .then(a.commissioner.cmp(&b.commissioner))
        });
        ScoreSheet {
            scheme_id: self.id.clone(),
            scheme_name: self.name.clone(),
            indicators: self
                .indicators
                .iter()
                .map(|i| (i.id.clone(), i.name.clone()))
                .collect(),
            period: report.period,
            scores,
        }
    }
}

/// What is wrong with a scheme.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemeProblem {
    /// Not TOML, a wrong type, an unknown key, a missing key.
    #[error("{0}")]
    Syntax(String),
    /// `figure` names no figure.
    #[error("unknown figure {0:?}")]
    UnknownFigure(String),
    /// A number that must not be negative is.
    #[error("must not be negative (got {0})")]
    Negative(f64),
    /// A number that must be above zero is not.
    #[error("must be greater than zero (got {0})")]
    NotPositive(f64),
    /// Not a finite number.
    #[error("must be a finite number")]
    NotFinite,
    /// Not a whole number in range.
    #[error("must be a whole number from 0 to 4294967295 (got {0})")]
    NotCount(i64),
    /// An empty text.
    #[error("must not be empty")]
    Empty,
    /// Two indicators with one id.
    #[error("another indicator already has id {0:?}")]
    DuplicateId(String),
    /// Neither or both of `points_per_unit` and `tiers`.
    #[error("give exactly one of points_per_unit or tiers")]
    Rule,
    /// `above` or `per` without `points_per_unit`.
    #[error("only applies with points_per_unit")]
    OnlyPerUnit,
    /// A tier without exactly one bound.
    #[error("a tier needs exactly one of at_least or at_most")]
    TierBound,
    /// Tiers mixing at_least and at_most.
    #[error("tiers must be all at_least or all at_most")]
    MixedTiers,
    /// `min_trainees` on a figure other than trainings.
    #[error("min_trainees applies only to figure \"trainings\"")]
    MinTrainees,
    /// An unknown period name.
    #[error(
        "unknown period {0:?}: use \"calendar_year\" or {{ from = 2026-01-01, to = 2026-12-31 }}"
    )]
    UnknownPeriod(String),
    /// A date that does not parse.
    #[error("not a date as YYYY-MM-DD: {0:?}")]
    NotADate(String),
    /// A period ending before it starts.
    #[error("the period ends before it starts")]
    PeriodOrder,
    /// No indicators.
    #[error("a scheme needs at least one [[indicator]]")]
    NoIndicators,
}

/// A scheme refused, with where: the 1-based line and column, and the field
/// (`indicator[3].cap`: the third `[[indicator]]`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("scheme line {line}, column {column}, field `{field}`: {problem}")]
pub struct SchemeError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The field at fault.
    pub field: String,
    /// What is wrong.
    pub problem: SchemeProblem,
}

impl SchemeError {
    /// A stable code for the wire and the UI's translation.
    pub fn code(&self) -> &'static str {
        match self.problem {
            SchemeProblem::Syntax(_) => "scheme_syntax",
            SchemeProblem::UnknownFigure(_) => "scheme_unknown_figure",
            SchemeProblem::Negative(_) => "scheme_negative",
            SchemeProblem::NotPositive(_) => "scheme_not_positive",
            SchemeProblem::NotFinite => "scheme_not_finite",
            SchemeProblem::NotCount(_) => "scheme_not_count",
            SchemeProblem::Empty => "scheme_empty",
            SchemeProblem::DuplicateId(_) => "scheme_duplicate_id",
            SchemeProblem::Rule => "scheme_rule",
            SchemeProblem::OnlyPerUnit => "scheme_only_per_unit",
            SchemeProblem::TierBound => "scheme_tier_bound",
            SchemeProblem::MixedTiers => "scheme_mixed_tiers",
            SchemeProblem::MinTrainees => "scheme_min_trainees",
            SchemeProblem::UnknownPeriod(_) => "scheme_unknown_period",
            SchemeProblem::NotADate(_) => "scheme_not_a_date",
            SchemeProblem::PeriodOrder => "scheme_period_order",
            SchemeProblem::NoIndicators => "scheme_no_indicators",
        }
    }
}

#[cfg(feature = "assess")]
pub use parse::builtin_schemes;

#[cfg(feature = "assess")]
mod parse {
    //! The TOML reader: raw shapes with spans, then validation that names
    //! the line and field of each fault.

    use std::collections::HashSet;
    use std::ops::Range;

    use chrono::NaiveDate;
    use serde::Deserialize;
    use toml::Spanned;

    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawScheme {
        id: Spanned<String>,
        name: Spanned<String>,
        description: Option<String>,
        period: Spanned<toml::Value>,
        max_total: Option<Spanned<f64>>,
        #[serde(default, rename = "indicator")]
        indicators: Vec<Spanned<RawIndicator>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawIndicator {
        id: Spanned<String>,
        name: Option<Spanned<String>>,
        figure: Spanned<String>,
        min_trainees: Option<Spanned<i64>>,
        points_per_unit: Option<Spanned<f64>>,
        above: Option<Spanned<f64>>,
        per: Option<Spanned<f64>>,
        tiers: Option<Spanned<Vec<Spanned<RawTier>>>>,
        cap: Option<Spanned<f64>>,
        weight: Option<Spanned<f64>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawTier {
        at_least: Option<Spanned<f64>>,
        at_most: Option<Spanned<f64>>,
        points: Spanned<f64>,
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(src: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(src.len());
        let before = &src[..floor_char(src, offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, col)
    }

    fn floor_char(src: &str, mut i: usize) -> usize {
        while i > 0 && !src.is_char_boundary(i) {
            i -= 1;
        }
        i
    }

    fn is_key_char(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_' || c == '-'
    }

    /// The dotted path of the key at `offset`, for errors the TOML reader
    /// reports by position only: the current `[table]` or `[[array]]` (with
    /// its 1-based index), an open multi-line array's key, and the key on the
    /// line before the offending value (or at the offset, for an unknown key).
    fn path_at(src: &str, offset: usize) -> String {
        let offset = floor_char(src, offset.min(src.len()));
        let line_start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[offset..].find('\n').map_or(src.len(), |i| offset + i);
        // A fault reported at a table header belongs to that table.
        let scanned = if src[line_start..line_end].trim_start().starts_with('[') {
            line_end
        } else {
            line_start
        };
        let mut header = String::new();
        let mut counts: std::collections::HashMap<String, usize> = Default::default();
        let mut array_key: Option<String> = None;
        let mut depth: i32 = 0;
        for line in src[..scanned].lines() {
            let t = line.trim();
            if depth == 0 && t.starts_with("[[") {
                let name = t
                    .trim_start_matches('[')
                    .split(']')
                    .next()
                    .unwrap_or("")
                    .trim();
                let n = counts.entry(name.to_string()).or_default();
                *n += 1;
                header = format!("{name}[{n}]");
                continue;
            }
            if depth == 0 && t.starts_with('[') {
                header = t
                    .trim_start_matches('[')
                    .split(']')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .into();
                continue;
            }
            let before = depth;
            let mut in_str = false;
            for c in t.chars() {
                match c {
                    '"' => in_str = !in_str,
                    '#' if !in_str => break,
                    '[' if !in_str => depth += 1,
                    ']' if !in_str => depth -= 1,
                    _ => {}
                }
            }
            if before == 0 && depth > 0 {
                array_key = t.split('=').next().map(|k| k.trim().to_string());
            } else if depth <= 0 {
                depth = 0;
                array_key = None;
            }
        }
        let line = &src[line_start..];
        let line = line.split('\n').next().unwrap_or("");
        let col = offset - line_start;
        let prefix = &line[..col.min(line.len())];
        let rest = &line[col.min(line.len())..];
        let at_key: String = rest.chars().take_while(|c| is_key_char(*c)).collect();
        let key = if !at_key.is_empty() && rest[at_key.len()..].trim_start().starts_with('=') {
            // The offset is at a key (an unknown field).
            at_key
        } else {
            match prefix.rfind('=') {
                Some(eq) => prefix[..eq]
                    .trim_end()
                    .rsplit(|c: char| !is_key_char(c))
                    .next()
                    .unwrap_or("")
                    .to_string(),
                None => at_key,
            }
        };
        [header, array_key.unwrap_or_default(), key]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(".")
    }

    struct Ctx<'s> {
        src: &'s str,
    }

    impl Ctx<'_> {
        fn err(
            &self,
            span: Range<usize>,
            field: impl Into<String>,
            problem: SchemeProblem,
        ) -> SchemeError {
            let (line, column) = line_col(self.src, span.start);
            SchemeError {
                line,
                column,
                field: field.into(),
                problem,
            }
        }

        fn text(&self, v: &Spanned<String>, field: &str) -> Result<String, SchemeError> {
            let t = v.get_ref().trim();
            if t.is_empty() {
                return Err(self.err(v.span(), field, SchemeProblem::Empty));
            }
            Ok(t.to_string())
        }

        fn number(&self, v: &Spanned<f64>, field: &str) -> Result<f64, SchemeError> {
            let x = *v.get_ref();
            if !x.is_finite() {
                return Err(self.err(v.span(), field, SchemeProblem::NotFinite));
            }
            if x < 0.0 {
                return Err(self.err(v.span(), field, SchemeProblem::Negative(x)));
            }
            Ok(x)
        }

        fn date(
            &self,
            v: &toml::Value,
            span: Range<usize>,
            field: &str,
        ) -> Result<NaiveDate, SchemeError> {
            let text = match v {
                toml::Value::Datetime(d) => d.to_string(),
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map_err(|_| self.err(span, field, SchemeProblem::NotADate(text)))
        }

        fn period(&self, v: &Spanned<toml::Value>) -> Result<SchemePeriod, SchemeError> {
            match v.get_ref() {
                toml::Value::String(s) if s == "calendar_year" => Ok(SchemePeriod::CalendarYear),
                toml::Value::Table(t) => {
                    let get = |k: &str| {
                        t.get(k).ok_or_else(|| {
                            self.err(
                                v.span(),
                                format!("period.{k}"),
                                SchemeProblem::Syntax(format!("missing field `{k}`")),
                            )
                        })
                    };
                    if let Some(extra) = t.keys().find(|k| *k != "from" && *k != "to") {
                        return Err(self.err(
                            v.span(),
                            format!("period.{extra}"),
                            SchemeProblem::Syntax(format!(
                                "unknown field `{extra}`, expected `from` or `to`"
                            )),
                        ));
                    }
                    let from = self.date(get("from")?, v.span(), "period.from")?;
                    let to = self.date(get("to")?, v.span(), "period.to")?;
                    if to < from {
                        return Err(self.err(v.span(), "period", SchemeProblem::PeriodOrder));
                    }
                    Ok(SchemePeriod::Fixed {
                        period: Period::new(from, to),
                    })
                }
                other => Err(self.err(
                    v.span(),
                    "period",
                    SchemeProblem::UnknownPeriod(other.to_string().trim_matches('"').to_string()),
                )),
            }
        }

        fn indicator(
            &self,
            n: usize,
            raw: &Spanned<RawIndicator>,
        ) -> Result<Indicator, SchemeError> {
            let at = |f: &str| format!("indicator[{n}].{f}");
            let r = raw.get_ref();
            let id = self.text(&r.id, &at("id"))?;
            let code = r.figure.get_ref().trim();
            let figure = Figure::from_code(code).ok_or_else(|| {
                self.err(
                    r.figure.span(),
                    at("figure"),
                    SchemeProblem::UnknownFigure(code.to_string()),
                )
            })?;
            let name = match &r.name {
                Some(n) => self.text(n, &at("name"))?,
                None => figure.label_zh().to_string(),
            };
            let min_trainees = match &r.min_trainees {
                None => None,
                Some(m) => {
                    if figure != Figure::Trainings {
                        return Err(self.err(
                            m.span(),
                            at("min_trainees"),
                            SchemeProblem::MinTrainees,
                        ));
                    }
                    let v = *m.get_ref();
                    Some(u32::try_from(v).map_err(|_| {
                        self.err(m.span(), at("min_trainees"), SchemeProblem::NotCount(v))
                    })?)
                }
            };
            let rule = match (&r.points_per_unit, &r.tiers) {
                (Some(p), None) => {
                    let points = self.number(p, &at("points_per_unit"))?;
                    let above = match &r.above {
                        Some(a) => self.number(a, &at("above"))?,
                        None => 0.0,
                    };
                    let per = match &r.per {
                        Some(p) => {
                            let x = self.number(p, &at("per"))?;
                            if x == 0.0 {
                                return Err(self.err(
                                    p.span(),
                                    at("per"),
                                    SchemeProblem::NotPositive(x),
                                ));
                            }
                            Some(x)
                        }
                        None => None,
                    };
                    Rule::PerUnit { points, above, per }
                }
                (None, Some(tiers)) => {
                    for (field, v) in [("above", &r.above), ("per", &r.per)] {
                        if let Some(v) = v {
                            return Err(self.err(v.span(), at(field), SchemeProblem::OnlyPerUnit));
                        }
                    }
                    if tiers.get_ref().is_empty() {
                        return Err(self.err(tiers.span(), at("tiers"), SchemeProblem::Empty));
                    }
                    let mut out = Vec::new();
                    for (i, t) in tiers.get_ref().iter().enumerate() {
                        let tat = |f: &str| format!("indicator[{n}].tiers[{}].{f}", i + 1);
                        let tr = t.get_ref();
                        let bound = match (&tr.at_least, &tr.at_most) {
                            (Some(b), None) => Bound::AtLeast(self.number(b, &tat("at_least"))?),
                            (None, Some(b)) => Bound::AtMost(self.number(b, &tat("at_most"))?),
                            _ => {
                                return Err(self.err(
                                    t.span(),
                                    format!("indicator[{n}].tiers[{}]", i + 1),
                                    SchemeProblem::TierBound,
                                ));
                            }
                        };
                        let points = self.number(&tr.points, &tat("points"))?;
                        if let Some(first) = out.first().map(|t: &Tier| t.bound)
                            && std::mem::discriminant(&first) != std::mem::discriminant(&bound)
                        {
                            return Err(self.err(
                                t.span(),
                                format!("indicator[{n}].tiers[{}]", i + 1),
                                SchemeProblem::MixedTiers,
                            ));
                        }
                        out.push(Tier { bound, points });
                    }
                    Rule::Tiers { tiers: out }
                }
                (Some(p), Some(_)) => {
                    return Err(self.err(p.span(), at("points_per_unit"), SchemeProblem::Rule));
                }
                (None, None) => {
                    return Err(self.err(
                        raw.span(),
                        format!("indicator[{n}]"),
                        SchemeProblem::Rule,
                    ));
                }
            };
            let cap = match &r.cap {
                Some(c) => Some(self.number(c, &at("cap"))?),
                None => None,
            };
            let weight = match &r.weight {
                Some(w) => self.number(w, &at("weight"))?,
                None => 1.0,
            };
            Ok(Indicator {
                id,
                name,
                figure,
                min_trainees,
                rule,
                cap,
                weight,
            })
        }
    }

    impl Scheme {
        /// Reads and validates a scheme from TOML. Every fault names its line,
        /// column and field; nothing half-read is returned.
        pub fn parse(src: &str) -> Result<Scheme, SchemeError> {
            let raw: RawScheme = toml::from_str(src).map_err(|e| {
                let span = e.span().unwrap_or(0..0);
                let (line, column) = line_col(src, span.start);
                SchemeError {
                    line,
                    column,
                    field: path_at(src, span.start),
                    problem: SchemeProblem::Syntax(e.message().trim().to_string()),
                }
            })?;
            let cx = Ctx { src };
            let id = cx.text(&raw.id, "id")?;
            let name = cx.text(&raw.name, "name")?;
            let period = cx.period(&raw.period)?;
            let max_total = match &raw.max_total {
                Some(m) => Some(cx.number(m, "max_total")?),
                None => None,
            };
            if raw.indicators.is_empty() {
                return Err(SchemeError {
                    line: 1,
                    column: 1,
                    field: "indicator".into(),
                    problem: SchemeProblem::NoIndicators,
                });
            }
            let mut seen = HashSet::new();
            let mut indicators = Vec::with_capacity(raw.indicators.len());
            for (i, r) in raw.indicators.iter().enumerate() {
                let ind = cx.indicator(i + 1, r)?;
                if !seen.insert(ind.id.clone()) {
                    return Err(cx.err(
                        r.get_ref().id.span(),
                        format!("indicator[{}].id", i + 1),
                        SchemeProblem::DuplicateId(ind.id),
                    ));
                }
                indicators.push(ind);
            }
            Ok(Scheme {
                id,
                name,
                description: raw.description.map(|d| d.trim().to_string()),
                period,
                max_total,
                indicators,
            })
        }
    }

    /// The schemes the app carries (data/schemes/), parsed.
    pub fn builtin_schemes() -> Vec<Scheme> {
        [SEED_SCHEME, PROVINCIAL_POINTS_SCHEME]
            .into_iter()
            .map(|s| Scheme::parse(s).expect("carried schemes are valid (tested)"))
            .collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn paths_name_the_table_the_array_and_the_key() {
            let src = "id = \"x\"\n[[indicator]]\nid = \"a\"\n[[indicator]]\ntiers = [\n  { at_least = -1, points = 2 },\n]\n";
            let at = src.find("-1").unwrap();
            assert_eq!(path_at(src, at), "indicator[2].tiers.at_least");
            assert_eq!(line_col(src, at), (6, 16));
            let at = src.find("id = \"a\"").unwrap();
            assert_eq!(path_at(src, at), "indicator[1].id");
        }
    }
}
