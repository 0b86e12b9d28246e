//! The tables handed in (报表), as cells: the annual sheet (年度统计表) with a
//! row per county and city and province subtotals, a sheet per level, the
//! villages not yet covered, and scores. Pure data, so the same tables feed
//! the XLSX and CSV writers (`export`, native) and could be shown on screen.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::assess::ScoreSheet;
use super::engine::{Report, Row};
use super::figures::{Figure, Figures, Unit};
use super::register::Register;
use crate::domain::{CountyCode, DivisionLevel, PrefectureCode, ProvinceCode, TeamId, UserId};

/// How a column's numbers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Text (names, codes: a 12-digit code stays text).
    Text,
    /// Whole numbers.
    Integer,
    /// Decimals, shown with two places (the value is kept whole in XLSX).
    Decimal,
    /// Shares stored as fractions, shown as percent with two places.
    Percent,
}

/// A column: its Chinese header and kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The header (表头), e.g. `服务人天（人天）`.
    pub header: String,
    /// How its cells are written.
    pub kind: ColumnKind,
}

/// A cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Cell {
    /// Nothing: a figure that is not known (no register, nothing to average).
    Empty,
    /// Text.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A decimal number (minutes, photos per log).
    Decimal(f64),
    /// A share as a fraction (0–1).
    Percent(f64),
}

/// One sheet: a header row and rows of cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The sheet's name (at most 31 characters), e.g. `年度统计`.
    pub name: String,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows, each as long as `columns`.
    pub rows: Vec<Vec<Cell>>,
}

/// Names of people and teams for the sheets (the report only knows ids).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    /// Users' display names.
    pub users: BTreeMap<UserId, String>,
    /// Teams' names.
    pub teams: BTreeMap<TeamId, String>,
}

/// The figures of the annual sheet and the per-division sheets, in order.
/// [`Figure::ServiceDays`] is headed 有服务的天数 there.
pub const ANNUAL_FIGURES: &[Figure] = &[
    Figure::ActiveCommissioners,
    Figure::Teams,
    Figure::PersonDays,
    Figure::ServiceDays,
    Figure::Visits,
    Figure::RegisterVillagesCovered,
    Figure::RegisterVillages,
    Figure::VillageCoverage,
    Figure::RegisterTownshipsCovered,
    Figure::RegisterTownships,
    Figure::TownshipCoverage,
    Figure::FarmersServed,
    Figure::Trainings,
    Figure::Trainees,
    Figure::Demonstrations,
    Figure::Technologies,
    Figure::Varieties,
    Figure::Enterprises,
    Figure::Cooperatives,
    Figure::Consultations,
    Figure::ConsultationsAnswered,
    Figure::MedianMinutesToFirstAnswer,
    Figure::LogsOutsideRegister,
];

/// The figures of the team sheet.
pub const TEAM_FIGURES: &[Figure] = &[
    Figure::ActiveCommissioners,
    Figure::PersonDays,
    Figure::ServiceDays,
    Figure::Visits,
    Figure::VillagesCovered,
    Figure::TownshipsCovered,
    Figure::FarmersServed,
    Figure::Trainings,
    Figure::Trainees,
    Figure::Demonstrations,
    Figure::Technologies,
    Figure::Varieties,
    Figure::Enterprises,
    Figure::Cooperatives,
    Figure::Consultations,
    Figure::ConsultationsAnswered,
    Figure::MedianMinutesToFirstAnswer,
    Figure::ApprovedLogs,
    Figure::ApprovalShare,
    Figure::PhotosPerLog,
];

/// The figures of the commissioner sheet.
pub const COMMISSIONER_FIGURES: &[Figure] = &[
    Figure::ServiceDays,
    Figure::Visits,
    Figure::VillagesCovered,
    Figure::TownshipsCovered,
    Figure::FarmersServed,
    Figure::Trainings,
    Figure::Trainees,
    Figure::Demonstrations,
    Figure::Technologies,
    Figure::Varieties,
    Figure::Enterprises,
    Figure::Cooperatives,
    Figure::Consultations,
    Figure::ConsultationsAnswered,
    Figure::MedianMinutesToFirstAnswer,
    Figure::ApprovedLogs,
    Figure::ApprovalShare,
    Figure::PhotosPerLog,
];

/// The column kind of a figure.
pub fn kind_of(figure: Figure) -> ColumnKind {
    match figure.unit() {
        Unit::Percent => ColumnKind::Percent,
        Unit::Minutes => ColumnKind::Decimal,
        _ if figure == Figure::PhotosPerLog => ColumnKind::Decimal,
        _ => ColumnKind::Integer,
    }
}

/// The header of a figure's column in a group's sheet.
pub fn group_header(figure: Figure) -> String {
    if figure == Figure::ServiceDays {
        "有服务的天数（天）".to_string()
    } else {
        figure.header_zh()
    }
}

/// A figure's cell.
pub fn figure_cell(figure: Figure, f: &Figures) -> Cell {
    match (figure.raw(f), kind_of(figure)) {
        (None, _) => Cell::Empty,
        (Some(v), ColumnKind::Percent) => Cell::Percent(v),
        (Some(v), ColumnKind::Decimal) => Cell::Decimal(v),
        (Some(v), _) => Cell::Integer(v as i64),
    }
}

fn text(header: &str) -> Column {
    Column {
        header: header.to_string(),
        kind: ColumnKind::Text,
    }
}

fn figure_columns(figures: &[Figure], header: fn(Figure) -> String) -> Vec<Column> {
    figures
        .iter()
        .map(|f| Column {
            header: header(*f),
            kind: kind_of(*f),
        })
        .collect()
}

/// The row label of each kind of division row.
const COUNTY: &str = "县";
const PREFECTURE_SUBTOTAL: &str = "市小计";
const PROVINCE_TOTAL: &str = "省合计";
const PREFECTURE: &str = "市";
const PROVINCE: &str = "省";

fn division_row(level: &str, code: String, name: Option<&str>, f: &Figures) -> Vec<Cell> {
    let mut row = vec![
        Cell::Text(level.to_string()),
        Cell::Text(code.clone()),
        Cell::Text(name.map_or(code, str::to_string)),
    ];
    row.extend(ANNUAL_FIGURES.iter().map(|fig| figure_cell(*fig, f)));
    row
}

fn division_columns() -> Vec<Column> {
    let mut c = vec![text("级别"), text("代码"), text("名称")];
    c.extend(figure_columns(ANNUAL_FIGURES, group_header));
    c
}

/// The annual sheet (年度统计): a row per county; after each prefecture's
/// counties its subtotal (市小计), after each province its total (省合计).
/// Subtotals are the report's own prefecture and province rows (distinct
/// counts and medians over all their facts), never sums of the rows above.
pub fn annual_table(report: &Report, register: &Register) -> Table {
    let mut rows = Vec::new();
    for prov in &report.provinces {
        for pref in report
            .prefectures
            .iter()
            .filter(|p| p.key.province() == prov.key)
        {
            for county in report
                .counties
                .iter()
                .filter(|c| c.key.prefecture() == pref.key)
            {
                rows.push(division_row(
                    COUNTY,
                    county.key.to_string(),
                    register.county_name(county.key),
                    &county.figures,
                ));
            }
            rows.push(division_row(
                PREFECTURE_SUBTOTAL,
                pref.key.to_string(),
                register.prefecture_name(pref.key),
                &pref.figures,
            ));
        }
        rows.push(division_row(
            PROVINCE_TOTAL,
            prov.key.to_string(),
            register.province_name(prov.key),
            &prov.figures,
        ));
    }
    Table {
        name: "年度统计".into(),
        columns: division_columns(),
        rows,
    }
}

fn level_table<K: Copy>(
    name: &str,
    level: &str,
    rows: &[Row<K>],
    code: impl Fn(K) -> String,
    label: impl Fn(K) -> Option<String>,
) -> Table {
    Table {
        name: name.into(),
        columns: division_columns(),
        rows: rows
            .iter()
            .map(|r| division_row(level, code(r.key), label(r.key).as_deref(), &r.figures))
            .collect(),
    }
}

/// One sheet per division level: counties (县), prefectures (市), provinces (省).
pub fn division_tables(report: &Report, register: &Register) -> Vec<Table> {
    vec![
        level_table(
            "县",
            COUNTY,
            &report.counties,
            |c: CountyCode| c.to_string(),
            |c| register.county_name(c).map(str::to_string),
        ),
        level_table(
            "市",
            PREFECTURE,
            &report.prefectures,
            |c: PrefectureCode| c.to_string(),
            |c| register.prefecture_name(c).map(str::to_string),
        ),
        level_table(
            "省",
            PROVINCE,
            &report.provinces,
            |c: ProvinceCode| c.to_string(),
            |c| register.province_name(c).map(str::to_string),
        ),
    ]
}

/// The team sheet (团队).
pub fn team_table(report: &Report, names: &Names) -> Table {
    let mut columns = vec![text("团队"), text("团队编号")];
    columns.extend(figure_columns(TEAM_FIGURES, group_header));
    let rows = report
        .teams
        .iter()
        .map(|r| {
            let mut row = vec![
                Cell::Text(names.teams.get(&r.key).cloned().unwrap_or_default()),
                Cell::Text(r.key.to_string()),
            ];
            row.extend(TEAM_FIGURES.iter().map(|f| figure_cell(*f, &r.figures)));
            row
        })
        .collect();
    Table {
        name: "团队".into(),
        columns,
        rows,
    }
}

/// The commissioner sheet (特派员).
pub fn commissioner_table(report: &Report, names: &Names) -> Table {
    let mut columns = vec![text("特派员"), text("用户编号")];
    columns.extend(figure_columns(COMMISSIONER_FIGURES, Figure::header_zh));
    let rows = report
        .commissioners
        .iter()
        .map(|r| {
            let mut row = vec![
                Cell::Text(names.users.get(&r.key).cloned().unwrap_or_default()),
                Cell::Text(r.key.to_string()),
            ];
            row.extend(
                COMMISSIONER_FIGURES
                    .iter()
                    .map(|f| figure_cell(*f, &r.figures)),
            );
            row
        })
        .collect();
    Table {
        name: "特派员".into(),
        columns,
        rows,
    }
}

/// The villages not yet covered (未覆盖行政村), in code order.
pub fn uncovered_table(report: &Report, register: &Register) -> Table {
    let columns = ["县代码", "县", "乡镇代码", "乡镇", "行政村代码", "行政村"]
        .into_iter()
        .map(text)
        .collect();
    let name = |level, code: u64| {
        Cell::Text(
            register
                .name(level, code)
                .map(str::to_string)
                .unwrap_or_default(),
        )
    };
    let rows = report
        .uncovered_villages
        .iter()
        .map(|v| {
            let (t, c) = (v.township(), v.county());
            vec![
                Cell::Text(c.to_string()),
                name(DivisionLevel::County, c.as_int()),
                Cell::Text(t.to_string()),
                name(DivisionLevel::Township, t.as_int()),
                Cell::Text(v.to_string()),
                name(DivisionLevel::Village, v.as_int()),
            ]
        })
        .collect();
    Table {
        name: "未覆盖行政村".into(),
        columns,
        rows,
    }
}

/// The scores (考核得分): rank, commissioner, then per indicator its value
/// and its score, then the total.
pub fn score_table(sheet: &ScoreSheet, names: &Names) -> Table {
    let mut columns = vec![
        Column {
            header: "排名".into(),
            kind: ColumnKind::Integer,
        },
        text("特派员"),
        text("用户编号"),
    ];
    for (_, name) in &sheet.indicators {
        columns.push(Column {
            header: format!("{name}（数值）"),
            kind: ColumnKind::Decimal,
        });
        columns.push(Column {
            header: format!("{name}（得分）"),
            kind: ColumnKind::Decimal,
        });
    }
    columns.push(Column {
        header: "总分".into(),
        kind: ColumnKind::Decimal,
    });
    let rows = sheet
        .scores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut row = vec![
                Cell::Integer(i as i64 + 1),
                Cell::Text(
                    names
                        .users
                        .get(&s.commissioner)
                        .cloned()
                        .unwrap_or_default(),
                ),
                Cell::Text(s.commissioner.to_string()),
            ];
            for ind in &s.indicators {
                row.push(ind.value.map_or(Cell::Empty, Cell::Decimal));
                row.push(Cell::Decimal(ind.score));
            }
            row.push(Cell::Decimal(s.total));
            row
        })
        .collect();
    Table {
        name: "考核得分".into(),
        columns,
        rows,
    }
}

/// Every sheet of the annual workbook, in order: 年度统计, 县, 市, 省, 团队,
/// 特派员, 未覆盖行政村, and 考核得分 when scores are given.
pub fn annual_workbook(
    report: &Report,
    register: &Register,
    names: &Names,
    scores: Option<&ScoreSheet>,
) -> Vec<Table> {
    let mut tables = vec![annual_table(report, register)];
    tables.extend(division_tables(report, register));
    tables.push(team_table(report, names));
    tables.push(commissioner_table(report, names));
    tables.push(uncovered_table(report, register));
    if let Some(s) = scores {
        tables.push(score_table(s, names));
    }
    tables
}
