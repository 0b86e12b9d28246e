//! Statistics (统计): the figures of the admin's area for a period (this
//! year, last year, this month, or chosen dates) as the server computes
//! them (docs/statistics.md), a row per county, prefecture, team or
//! commissioner with the area's total, villages covered out of the
//! register and the share; the scores under each carried assessment
//! scheme with the breakdown per indicator on a tap (the team lead's
//! [`ScoresView`]); the 832 / 160 county filters and a county picker for a
//! provincial admin, narrowing the figures, the scores and the export;
//! and the annual sheet exported as XLSX or CSV into the data directory's
//! `exports/` (the lead's [`ExportPanel`]), with the files written shown;
//! the workbook's scores sheet is the scheme shown on screen.
//! What the admin chose lives in the console's state, so it is kept when
//! the server cannot be reached or the admin leaves the section.

use app_core::api::{AdminStatsExport, AdminStatsQuery};
use app_core::domain::{CountyCode, CountyTag};
use app_core::stats::assess::ScoreSheet;
use app_core::stats::{Answer, Figures, Period, StatsSubject};
use app_core::team::{ExportFormat, TeamScores};
use chrono::{Datelike, NaiveDate};
use yew::prelude::*;

use super::common::ready;
use super::{ConsoleAction, ConsoleContext};
use crate::components::field::{TextField, event_value};
use crate::components::notice::ErrorLine;
use crate::hooks::use_fetch;
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc;
use crate::pages::lead::report::{ExportPanel, ExportState, ScoresView};
use crate::state::{AppContext, Remote};

/// The period chips.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatsSpan {
    /// 今年.
    #[default]
    ThisYear,
    /// 去年.
    LastYear,
    /// 本月.
    ThisMonth,
    /// 自定义: the dates chosen.
    Custom,
}

impl StatsSpan {
    /// Every chip, in order.
    pub const ALL: [StatsSpan; 4] = [
        StatsSpan::ThisYear,
        StatsSpan::LastYear,
        StatsSpan::ThisMonth,
        StatsSpan::Custom,
    ];

    fn key(self) -> Key {
        match self {
            StatsSpan::ThisYear => Key::ThisYear,
            StatsSpan::LastYear => Key::AdmStatsLastYear,
            StatsSpan::ThisMonth => Key::ThisMonth,
            StatsSpan::Custom => Key::CustomPeriod,
        }
    }

    fn id(self) -> &'static str {
        match self {
            StatsSpan::ThisYear => "this-year",
            StatsSpan::LastYear => "last-year",
            StatsSpan::ThisMonth => "this-month",
            StatsSpan::Custom => "custom",
        }
    }
}

/// Which rows the table lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RowLevel {
    /// A row per prefecture (市): a provincial admin's.
    Prefectures,
    /// A row per county (县).
    #[default]
    Counties,
    /// A row per team (团队).
    Teams,
    /// A row per commissioner (特派员).
    Commissioners,
}

impl RowLevel {
    fn key(self) -> Key {
        match self {
            RowLevel::Prefectures => Key::AdmStatsByPrefecture,
            RowLevel::Counties => Key::AdmStatsByCounty,
            RowLevel::Teams => Key::AdmStatsByTeam,
            RowLevel::Commissioners => Key::AdmStatsByCommissioner,
        }
    }

    fn id(self) -> &'static str {
        match self {
            RowLevel::Prefectures => "prefectures",
            RowLevel::Counties => "counties",
            RowLevel::Teams => "teams",
            RowLevel::Commissioners => "commissioners",
        }
    }

    /// The levels an admin may list: a provincial admin's prefectures too.
    pub fn choices(provincial: bool) -> Vec<RowLevel> {
        let mut v = Vec::with_capacity(4);
        if provincial {
            v.push(RowLevel::Prefectures);
        }
        v.extend([RowLevel::Counties, RowLevel::Teams, RowLevel::Commissioners]);
        v
    }
}

/// What the admin chose on the statistics screen (kept in the console).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsChoice {
    /// The period chip.
    pub span: StatsSpan,
    /// The chosen dates (for [`StatsSpan::Custom`]).
    pub custom: Option<Period>,
    /// Which rows.
    pub rows: RowLevel,
    /// Only counties with every one of these tags.
    pub tags: Vec<CountyTag>,
    /// One county of a provincial admin's area (the whole area when none).
    pub county: Option<CountyCode>,
    /// The counties of a provincial admin's area with their names, as the
    /// last answer for the whole area listed them: the county picker's
    /// choices, kept while the figures are narrowed to one.
    pub counties: Vec<(CountyCode, String)>,
    /// The assessment scheme shown (by id); the first carried when none.
    pub scheme: Option<String>,
}

impl StatsChoice {
    /// The period of the chip around `today`.
    pub fn period(&self, today: NaiveDate) -> Period {
        let year = |y: i32| Period::year(y).unwrap_or(Period::new(today, today));
        match self.span {
            StatsSpan::ThisYear => year(today.year()),
            StatsSpan::LastYear => year(today.year() - 1),
            StatsSpan::ThisMonth => {
                let from = today.with_day(1).unwrap_or(today);
                let next = if today.month() == 12 {
                    NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(today.year(), today.month() + 1, 1)
                };
                Period::new(from, next.and_then(|d| d.pred_opt()).unwrap_or(today))
            }
            StatsSpan::Custom => self.custom.unwrap_or(year(today.year())),
        }
    }

    /// The question to the shell for `period`.
    pub fn query(&self, period: Period) -> AdminStatsQuery {
        AdminStatsQuery {
            from: period.from,
            to: period.to,
            subject: self.county.map(StatsSubject::County),
            tags: self.tags.clone(),
            scheme: None,
        }
    }

    /// The scheme of the workbook's scores sheet: the one shown on screen
    /// when `sheets` carries it, else the first of `sheets`.
    pub fn export_scheme(&self, sheets: &[ScoreSheet]) -> Option<String> {
        self.scheme
            .as_ref()
            .filter(|id| sheets.iter().any(|s| s.scheme_id == **id))
            .or(sheets.first().map(|s| &s.scheme_id))
            .cloned()
    }

    /// The choice after an answer for the whole area: a province's answer
    /// gives the county picker its choices.
    pub fn with_counties_of(&self, answer: &Answer) -> Option<StatsChoice> {
        if self.county.is_some() || !provincial(answer) {
            return None;
        }
        let counties: Vec<(CountyCode, String)> = answer
            .report
            .counties
            .iter()
            .map(|r| {
                let code = r.key.to_string();
                let name = answer.divisions.get(&code).cloned().unwrap_or(code);
                (r.key, name)
            })
            .collect();
        (counties != self.counties).then(|| StatsChoice {
            counties,
            ..self.clone()
        })
    }
}

/// Whether an answer is a province's (a provincial admin's area).
fn provincial(answer: &Answer) -> bool {
    answer.subject.starts_with("province:")
}

/// The statistics screen.
#[component]
pub fn StatsSection() -> Html {
    let app = use_context::<AppContext>().expect("inside App");
    let console = use_context::<ConsoleContext>().expect("inside the console");
    let lang = app.lang;
    let choice = console.stats.clone();
    let today = console
        .now
        .and_then(|n| n.to_china())
        .map(|t| t.date_naive());
    let period = today.map(|d| choice.period(d));
    let query = period.map(|p| choice.query(p));
    let retry = use_state(|| 0u32);
    let deps = (query.clone(), console.revision, *retry);
    let report = use_fetch(deps.clone(), |(q, _, _)| async move {
        match q {
            Some(q) => ipc::admin::stats_report(q).await.map(Some),
            None => Ok(None),
        }
    });
    let scores = use_fetch(deps, |(q, _, _)| async move {
        match q {
            Some(q) => ipc::admin::stats_scores(q).await.map(Some),
            None => Ok(None),
        }
    });
    {
        // The console's link light follows this screen's answers too.
        let console = console.clone();
        let failed = match &*report {
            Remote::Failed(e) => Some(ipc::admin::is_offline(e)),
            Remote::Ready(_) => Some(false),
            Remote::Loading => None,
        };
        use_effect_with(failed, move |f| {
            if let Some(offline) = *f {
                console.dispatch(ConsoleAction::Online(!offline));
            }
        });
    }
    {
        // A province's answer lists the counties the picker offers.
        let console = console.clone();
        let answered = match &*report {
            Remote::Ready(Some(a)) => choice.with_counties_of(a),
            _ => None,
        };
        use_effect_with(answered, move |next| {
            if let Some(next) = next.clone() {
                console.dispatch(ConsoleAction::Stats(next));
            }
        });
    }
    let export = use_state(|| ExportState::Idle);
    let scheme = match &*scores {
        Remote::Ready(Some(sheets)) => choice.export_scheme(sheets),
        _ => None,
    };
    let on_export = {
        let (export, query) = (export.clone(), query.clone());
        Callback::from(move |format: ExportFormat| {
            let Some(q) = query.clone() else { return };
            if *export == ExportState::Busy {
                return;
            }
            export.set(ExportState::Busy);
            let export = export.clone();
            let scheme = scheme.clone();
            yew::platform::spawn_local(async move {
                let input = AdminStatsExport {
                    query: AdminStatsQuery { scheme, ..q },
                    format,
                };
                export.set(match ipc::admin::export_stats(input).await {
                    Ok(done) => ExportState::Done(done),
                    Err(e) => ExportState::Failed(e.code),
                });
            });
        })
    };
    let choose = {
        let console = console.clone();
        move |change: Box<dyn Fn(&mut StatsChoice)>| {
            let mut next = console.stats.clone();
            change(&mut next);
            console.dispatch(ConsoleAction::Stats(next));
        }
    };
    let pick = |s: StatsSpan| {
        let choose = choose.clone();
        Callback::from(move |_| {
            choose(Box::new(move |c: &mut StatsChoice| {
                if s == StatsSpan::Custom && c.custom.is_none() {
                    c.custom = period;
                }
                c.span = s;
            }))
        })
    };
    let set_bound = |from: bool| {
        let choose = choose.clone();
        Callback::from(move |v: String| {
            if let (Some(mut p), Ok(d)) = (period, v.parse::<NaiveDate>()) {
                if from {
                    p.from = d;
                } else {
                    p.to = d;
                }
                choose(Box::new(move |c: &mut StatsChoice| {
                    c.custom = Some(p);
                    c.span = StatsSpan::Custom;
                }))
            }
        })
    };
    let on_choice = {
        let console = console.clone();
        Callback::from(move |c: StatsChoice| console.dispatch(ConsoleAction::Stats(c)))
    };
    let on_retry = {
        let retry = retry.clone();
        Callback::from(move |_| retry.set(retry.wrapping_add(1)))
    };
    let is_provincial = match &*report {
        Remote::Ready(Some(a)) => provincial(a) || choice.county.is_some(),
        _ => !choice.tags.is_empty() || choice.county.is_some(),
    };
    let on_scheme = {
        let console = console.clone();
        Callback::from(move |id: String| {
            let mut next = console.stats.clone();
            next.scheme = Some(id);
            console.dispatch(ConsoleAction::Stats(next));
        })
    };
    let answer: Remote<Answer> = match &*report {
        Remote::Ready(Some(a)) => Remote::Ready(a.clone()),
        Remote::Failed(e) => Remote::Failed(e.clone()),
        _ => Remote::Loading,
    };
    html! {
        <div class="console-page stats-page" data-testid="stats-section">
            <div class="period-bar">
                <div class="chips">
                    { for StatsSpan::ALL.into_iter().map(|s| html! {
                        <button type="button" class={classes!("chip", (choice.span == s).then_some("chosen"))}
                            data-testid={format!("stats-span-{}", s.id())} onclick={pick(s)}>{ t(lang, s.key()) }</button>
                    }) }
                </div>
                if let Some(p) = period {
                    <div class="row dates">
                        <TextField {lang} label={Key::PeriodFrom} kind="date" value={p.from.to_string()} on_change={set_bound(true)} test_id="stats-from" />
                        <TextField {lang} label={Key::PeriodTo} kind="date" value={p.to.to_string()} on_change={set_bound(false)} test_id="stats-to" />
                    </div>
                }
            </div>
            <StatsFilters {lang} choice={choice.clone()} provincial={is_provincial} on_change={on_choice} />
            <h2>{ t(lang, Key::AdmStatsFiguresTitle) }</h2>
            <StatsTable {lang} remote={answer.clone()} rows={choice.rows} on_retry={on_retry.clone()} />
            <h2>{ t(lang, Key::ScoresTitle) }</h2>
            { match &*scores {
                Remote::Ready(Some(sheets)) => {
                    let scores = match &answer {
                        Remote::Ready(a) => named_scores(sheets.clone(), a),
                        _ => TeamScores { sheets: sheets.clone(), names: Vec::new() },
                    };
                    html! { <ScoresView {lang} {scores} chosen={choice.scheme.clone()} on_choose={on_scheme} /> }
                }
                Remote::Failed(e) if ipc::admin::is_offline(e) => html! {},
                Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
                _ => html! { <p class="muted">{ t(lang, Key::Loading) }</p> },
            } }
            <ExportPanel {lang} state={(*export).clone()} {on_export} />
        </div>
    }
}

/// Properties of [`StatsFilters`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct StatsFiltersProps {
    /// Interface language.
    pub lang: Lang,
    /// What is chosen.
    pub choice: StatsChoice,
    /// Whether the admin's area is a province (prefecture rows, county tags).
    pub provincial: bool,
    /// The new choice.
    pub on_change: Callback<StatsChoice>,
}

/// Which rows, and for a provincial admin one county of the area and the
/// 832 / 160 county filters.
#[component]
pub fn StatsFilters(props: &StatsFiltersProps) -> Html {
    let lang = props.lang;
    let choice = &props.choice;
    let set_rows = {
        let (choice, on_change) = (choice.clone(), props.on_change.clone());
        Callback::from(move |e: Event| {
            let rows = match event_value(&e).as_str() {
                "prefectures" => RowLevel::Prefectures,
                "teams" => RowLevel::Teams,
                "commissioners" => RowLevel::Commissioners,
                _ => RowLevel::Counties,
            };
            on_change.emit(StatsChoice {
                rows,
                ..choice.clone()
            })
        })
    };
    let set_county = {
        let (choice, on_change) = (choice.clone(), props.on_change.clone());
        Callback::from(move |e: Event| {
            on_change.emit(StatsChoice {
                county: event_value(&e).parse().ok(),
                ..choice.clone()
            })
        })
    };
    let toggle_tag = |tag: CountyTag| {
        let (choice, on_change) = (choice.clone(), props.on_change.clone());
        Callback::from(move |_: Event| {
            let mut next = choice.clone();
            if let Some(i) = next.tags.iter().position(|t| *t == tag) {
                next.tags.remove(i);
            } else {
                next.tags.push(tag);
            }
            on_change.emit(next)
        })
    };
    html! {
        <div class="filters">
            <label class="filter">
                <span>{ t(lang, Key::AdmStatsRowsBy) }</span>
                <select data-testid="stats-rows" onchange={set_rows}>
                    { for RowLevel::choices(props.provincial).into_iter().map(|r| html! {
                        <option value={r.id()} selected={choice.rows == r}>{ t(lang, r.key()) }</option>
                    }) }
                </select>
            </label>
            if props.provincial && !choice.counties.is_empty() {
                <label class="filter">
                    <span>{ t(lang, Key::AdmStatsCounty) }</span>
                    <select data-testid="stats-county" onchange={set_county}>
                        <option value="" selected={choice.county.is_none()}>{ t(lang, Key::AdmStatsAllCounties) }</option>
                        { for choice.counties.iter().map(|(code, name)| html! {
                            <option value={code.to_string()} selected={choice.county == Some(*code)}>{ name.clone() }</option>
                        }) }
                    </select>
                </label>
            }
            if props.provincial {
                { for [(CountyTag::PovertyAlleviated, Key::AdmStatsTagPoverty, "stats-tag-832"),
                       (CountyTag::NationalKey, Key::AdmStatsTagKey, "stats-tag-160")].into_iter().map(|(tag, key, id)| html! {
                    <label class="check filter-check">
                        <input type="checkbox" data-testid={id} checked={choice.tags.contains(&tag)} onchange={toggle_tag(tag)} />
                        <span>{ t(lang, key) }</span>
                    </label>
                }) }
            }
        </div>
    }
}

/// One line of the table: a name and figures.
fn line(name: String, f: &Figures, division: bool, lang: Lang, total: bool) -> Html {
    let dash = || "—".to_owned();
    let villages = if division {
        match (f.register_villages_covered, f.register_villages) {
            (Some(c), Some(n)) => format!("{c} / {n}"),
            _ => f.villages_covered.to_string(),
        }
    } else {
        f.villages_covered.to_string()
    };
    let share = f
        .village_coverage
        .filter(|_| division)
        .map(|s| format!("{:.1}%", s * 100.0))
        .unwrap_or_else(dash);
    html! {
        <tr class={classes!(total.then_some("total"))} data-testid={if total { "stats-total" } else { "stats-row" }}>
            <th scope="row">{ if total { t(lang, Key::AdmStatsTotal).to_owned() } else { name } }</th>
            <td class="num">{ f.active_commissioners }</td>
            <td class="num">{ f.person_days }</td>
            <td class="num">{ f.visits }</td>
            <td class="num">{ f.farmers_served }</td>
            <td class="num">{ format!("{} / {}", f.trainings, f.trainees) }</td>
            <td class="num" data-testid="stats-villages">{ villages }</td>
            <td class="num" data-testid="stats-share">{ share }</td>
            <td class="num">{ format!("{} / {}", f.consultations_answered, f.consultations) }</td>
        </tr>
    }
}

/// Properties of [`StatsTable`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct StatsTableProps {
    /// Interface language.
    pub lang: Lang,
    /// The server's answer.
    pub remote: Remote<Answer>,
    /// Which rows.
    pub rows: RowLevel,
    /// Try again after a failure.
    pub on_retry: Callback<()>,
}

/// The figures: a row per division, team or commissioner, then the total.
#[component]
pub fn StatsTable(props: &StatsTableProps) -> Html {
    let lang = props.lang;
    let a = match ready(&props.remote, lang, &props.on_retry) {
        Ok(a) => a,
        Err(shown) => return shown,
    };
    let r = &a.report;
    let division = |code: String| a.divisions.get(&code).cloned().unwrap_or(code);
    let rows: Vec<Html> = match props.rows {
        RowLevel::Prefectures => r
            .prefectures
            .iter()
            .map(|row| {
                line(
                    division(row.key.to_string()),
                    &row.figures,
                    true,
                    lang,
                    false,
                )
            })
            .collect(),
        RowLevel::Counties => r
            .counties
            .iter()
            .map(|row| {
                line(
                    division(row.key.to_string()),
                    &row.figures,
                    true,
                    lang,
                    false,
                )
            })
            .collect(),
        RowLevel::Teams => r
            .teams
            .iter()
            .map(|row| {
                let name = a.names.teams.get(&row.key).cloned();
                let name = name.unwrap_or_else(|| super::common::short(row.key));
                line(name, &row.figures, false, lang, false)
            })
            .collect(),
        RowLevel::Commissioners => r
            .commissioners
            .iter()
            .map(|row| {
                let name = a.names.users.get(&row.key).cloned();
                let name = name.unwrap_or_else(|| super::common::short(row.key));
                line(name, &row.figures, false, lang, false)
            })
            .collect(),
    };
    let empty = rows.is_empty();
    html! {
        <>
            <table class="console-table stats" data-testid="stats-table">
                <thead><tr>
                    <th>{ t(lang, props.rows.key()) }</th>
                    <th class="num">{ t(lang, Key::AdmStatsColActive) }</th>
                    <th class="num">{ t(lang, Key::PersonDays) }</th>
                    <th class="num">{ t(lang, Key::ColVisits) }</th>
                    <th class="num">{ t(lang, Key::ColFarmers) }</th>
                    <th class="num">{ t(lang, Key::AdmStatsColTrainings) }</th>
                    <th class="num">{ t(lang, Key::AdmStatsColVillages) }</th>
                    <th class="num">{ t(lang, Key::AdmStatsColShare) }</th>
                    <th class="num">{ t(lang, Key::AdmStatsColQuestions) }</th>
                </tr></thead>
                <tbody>
                    { for rows }
                    { line(String::new(), &r.total, true, lang, true) }
                </tbody>
            </table>
            if empty {
                <p class="muted empty" data-testid="stats-empty">{ t(lang, Key::AdmStatsNoRows) }</p>
            }
            if !r.uncovered_villages.is_empty() {
                <p class="muted" data-testid="stats-uncovered">{ tf(lang, Key::AdmStatsUncovered, r.uncovered_villages.len()) }</p>
            }
        </>
    }
}

/// The scores with the names of the answer's commissioners, as the
/// lead's [`ScoresView`] shows them.
pub fn named_scores(sheets: Vec<ScoreSheet>, answer: &Answer) -> TeamScores {
    TeamScores {
        sheets,
        names: answer
            .names
            .users
            .iter()
            .map(|(id, n)| (*id, n.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use app_core::stats::assess::{CommissionerScore, IndicatorScore};
    use app_core::stats::sheet::Names;
    use app_core::stats::{Figure, Filter, Report, Row};
    use app_core::testing::{team_id, user_id};

    use super::super::testing::render;
    use super::*;
    use crate::ipc::IpcError;

    fn figures(visits: u32, covered: u32, villages: u32) -> Figures {
        Figures {
            active_commissioners: 2,
            person_days: 5,
            visits,
            farmers_served: 40,
            trainings: 1,
            trainees: 30,
            villages_covered: covered,
            register_villages_covered: Some(covered),
            register_villages: Some(villages),
            village_coverage: Some(f64::from(covered) / f64::from(villages)),
            consultations: 4,
            consultations_answered: 3,
            ..Figures::default()
        }
    }

    fn answer() -> Answer {
        let county = "520324".parse().unwrap();
        let year = Period::year(2026).unwrap();
        let team = Figures {
            register_villages_covered: None,
            register_villages: None,
            village_coverage: None,
            ..figures(7, 3, 120)
        };
        Answer {
            subject: "county:520324".into(),
            period: year,
            tags: Vec::new(),
            filter: Filter::default(),
            report: Report {
                period: year,
                total: figures(7, 3, 120),
                commissioners: vec![Row {
                    key: user_id(1),
                    figures: team.clone(),
                }],
                teams: vec![Row {
                    key: team_id(1),
                    figures: team,
                }],
                counties: vec![Row {
                    key: county,
                    figures: figures(7, 3, 120),
                }],
                prefectures: Vec::new(),
                provinces: Vec::new(),
                uncovered_villages: vec!["520324100201".parse().unwrap()],
            },
            names: Names {
                users: BTreeMap::from([(user_id(1), "张三".into())]),
                teams: BTreeMap::from([(team_id(1), "正安县科技特派团".into())]),
            },
            divisions: BTreeMap::from([("520324".into(), "正安县".into())]),
        }
    }

    fn table(remote: Remote<Answer>, rows: RowLevel) -> String {
        render(
            Lang::ZhCn,
            html! { <StatsTable lang={Lang::ZhCn} {remote} {rows} on_retry={Callback::noop()} /> },
        )
    }

    #[test]
    fn a_row_per_county_with_villages_covered_out_of_the_register_and_the_share() {
        let html = table(Remote::Ready(answer()), RowLevel::Counties);
        for text in [
            "县",
            "正安县",
            "活跃特派员",
            "3 / 120",
            "2.5%",
            "1 / 30",
            "3 / 4",
            "合计",
            "尚未覆盖的行政村 1 个",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert_eq!(html.matches(r#"data-testid="stats-row""#).count(), 1);
        assert_eq!(html.matches(r#"data-testid="stats-total""#).count(), 1);

        let teams = table(Remote::Ready(answer()), RowLevel::Teams);
        assert!(teams.contains("正安县科技特派团"), "{teams}");
        assert_eq!(
            teams.matches("2.5%").count(),
            1,
            "a team has no register share, the area's total has: {teams}"
        );
        let people = table(Remote::Ready(answer()), RowLevel::Commissioners);
        assert!(people.contains("张三"), "{people}");
        let html = render(
            Lang::En,
            html! { <StatsTable lang={Lang::En} remote={Remote::Ready(answer())}
            rows={RowLevel::Counties} on_retry={Callback::noop()} /> },
        );
        assert!(html.contains("Villages covered / register"), "{html}");
    }

    #[test]
    fn the_table_loads_then_says_when_the_server_cannot_be_reached() {
        let html = table(Remote::Loading, RowLevel::Counties);
        assert!(html.contains("正在加载"), "{html}");
        let html = table(
            Remote::Failed(IpcError::new("sync.network", "x")),
            RowLevel::Counties,
        );
        assert!(html.contains("连不上同步服务器"), "{html}");
        assert!(html.contains(r#"data-testid="retry""#), "{html}");
        let html = table(
            Remote::Failed(IpcError::new("sync.not_found", "x")),
            RowLevel::Counties,
        );
        assert!(html.contains("在您的管理范围内找不到"), "{html}");
    }

    #[test]
    fn the_section_offers_the_periods_and_the_export_while_it_loads() {
        let html = render(Lang::ZhCn, html! { <StatsSection /> });
        for text in [
            "今年",
            "去年",
            "本月",
            "自定义",
            "2026-01-01",
            "2026-12-31",
            "工作统计",
            "正在加载",
            "导出 Excel 表格",
            "导出 CSV 文件",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(
            !html.contains("stats-tag-832"),
            "a county admin has no tag filter"
        );
    }

    #[test]
    fn periods_follow_the_chip_and_provincial_admins_list_prefectures() {
        let today: NaiveDate = "2026-12-15".parse().unwrap();
        let mut c = StatsChoice::default();
        assert_eq!(c.period(today), Period::year(2026).unwrap());
        c.span = StatsSpan::LastYear;
        assert_eq!(c.period(today), Period::year(2025).unwrap());
        c.span = StatsSpan::ThisMonth;
        let month = Period::new("2026-12-01".parse().unwrap(), "2026-12-31".parse().unwrap());
        assert_eq!(c.period(today), month);
        c.span = StatsSpan::Custom;
        c.custom = Some(month);
        c.tags = vec![CountyTag::PovertyAlleviated];
        let q = c.query(c.period(today));
        assert_eq!((q.from, q.to), (month.from, month.to));
        assert_eq!(q.tags, vec![CountyTag::PovertyAlleviated]);
        assert_eq!(RowLevel::choices(true)[0], RowLevel::Prefectures);
        assert!(!RowLevel::choices(false).contains(&RowLevel::Prefectures));
    }

    #[test]
    fn a_provincial_admin_filters_by_the_832_and_160_county_tags() {
        let choice = StatsChoice {
            tags: vec![CountyTag::NationalKey],
            ..StatsChoice::default()
        };
        let filters = |provincial: bool| {
            render(
                Lang::ZhCn,
                html! { <StatsFilters lang={Lang::ZhCn} choice={choice.clone()} {provincial}
                on_change={Callback::noop()} /> },
            )
        };
        let html = filters(true);
        for text in [
            "只看 832 个脱贫县",
            "只看 160 个国家乡村振兴重点帮扶县",
            r#"value="prefectures""#,
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        let input = |id: &str| {
            let at = html.find(&format!(r#"data-testid="{id}""#)).unwrap();
            let start = html[..at].rfind("<input").unwrap();
            let end = at + html[at..].find('>').unwrap();
            html[start..end].to_owned()
        };
        assert!(input("stats-tag-160").contains("checked"), "{html}");
        assert!(!input("stats-tag-832").contains("checked"), "{html}");
        let county = filters(false);
        assert!(
            !county.contains("stats-tag-832") && !county.contains("prefectures"),
            "{county}"
        );
    }

    fn sheet(id: &str) -> ScoreSheet {
        ScoreSheet {
            scheme_id: id.into(),
            scheme_name: format!("方案 {id}"),
            indicators: Vec::new(),
            period: Period::year(2026).unwrap(),
            scores: Vec::new(),
        }
    }

    #[test]
    fn the_export_takes_the_scheme_shown_on_screen() {
        let sheets = vec![sheet("seed-2021"), sheet("provincial-points")];
        let mut c = StatsChoice::default();
        assert_eq!(c.export_scheme(&sheets).as_deref(), Some("seed-2021"));
        c.scheme = Some("provincial-points".into());
        assert_eq!(
            c.export_scheme(&sheets).as_deref(),
            Some("provincial-points")
        );
        c.scheme = Some("gone".into());
        assert_eq!(
            c.export_scheme(&sheets).as_deref(),
            Some("seed-2021"),
            "a scheme no longer carried falls back to the first"
        );
        assert_eq!(c.export_scheme(&[]), None);
        // The view shows the chosen scheme's table.
        let scores = TeamScores {
            sheets: sheets.clone(),
            names: Vec::new(),
        };
        let html = render(
            Lang::ZhCn,
            html! { <ScoresView lang={Lang::ZhCn} {scores} chosen={Some("provincial-points".to_owned())} /> },
        );
        let chip = |name: &str| {
            let at = html.find(name).unwrap();
            let start = html[..at].rfind("<button").unwrap();
            html[start..at].to_owned()
        };
        assert!(chip("方案 provincial-points").contains("chosen"), "{html}");
        assert!(!chip("方案 seed-2021").contains("chosen"), "{html}");
    }

    #[test]
    fn a_provincial_admin_narrows_to_one_county_of_the_area() {
        let mut province = answer();
        province.subject = "province:52".into();
        let c = StatsChoice::default();
        let listed = c.with_counties_of(&province).expect("the counties listed");
        assert_eq!(
            listed.counties,
            vec![("520324".parse().unwrap(), "正安县".to_owned())]
        );
        assert_eq!(listed.with_counties_of(&province), None, "unchanged");
        assert_eq!(c.with_counties_of(&answer()), None, "a county's answer");

        let narrowed = StatsChoice {
            county: Some("520324".parse().unwrap()),
            ..listed
        };
        let q = narrowed.query(Period::year(2026).unwrap());
        assert_eq!(
            q.subject,
            Some(StatsSubject::County("520324".parse().unwrap()))
        );
        assert_eq!(
            StatsChoice::default()
                .query(Period::year(2026).unwrap())
                .subject,
            None
        );
        assert_eq!(
            narrowed.with_counties_of(&province),
            None,
            "a narrowed answer keeps the picker's choices"
        );
        let filters = |choice: StatsChoice, provincial: bool| {
            render(
                Lang::ZhCn,
                html! { <StatsFilters lang={Lang::ZhCn} {choice} {provincial} on_change={Callback::noop()} /> },
            )
        };
        let html = filters(narrowed.clone(), true);
        for text in [
            "县（区）",
            "全省所有县",
            "正安县",
            r#"data-testid="stats-county""#,
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        let option = {
            let at = html.find(r#"value="520324""#).unwrap();
            let end = at + html[at..].find('>').unwrap();
            html[at..end].to_owned()
        };
        assert!(option.contains("selected"), "{html}");
        assert!(
            !filters(narrowed, false).contains("stats-county"),
            "a county admin has no county picker"
        );
    }

    #[test]
    fn scores_are_named_from_the_report_and_break_down_per_indicator() {
        let sheet = ScoreSheet {
            scheme_id: "seed-2021".into(),
            scheme_name: "科技特派员年度考核".into(),
            indicators: vec![("days".into(), "服务天数".into())],
            period: Period::year(2026).unwrap(),
            scores: vec![CommissionerScore {
                commissioner: user_id(1),
                total: 42.5,
                capped: false,
                indicators: vec![IndicatorScore {
                    id: "days".into(),
                    name: "服务天数".into(),
                    figure: Figure::ServiceDays,
                    value: Some(85.0),
                    raw_points: 42.5,
                    capped: false,
                    points: 42.5,
                    weight: 1.0,
                    score: 42.5,
                }],
            }],
        };
        let scores = named_scores(vec![sheet], &answer());
        let html = render(
            Lang::ZhCn,
            html! { <ScoresView lang={Lang::ZhCn} {scores} /> },
        );
        for text in ["科技特派员年度考核", "张三", "42.5", "得分明细"] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }
}
