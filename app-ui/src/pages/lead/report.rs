//! The team's assessment (考核得分) under each scheme the app carries, per
//! member with the breakdown per indicator, and the export of the team's
//! annual sheet (年度统计表) as XLSX or CSV into a folder the lead can find
//! (the data directory's `exports/`), with the files' paths shown.

use app_core::domain::UserId;
use app_core::stats::assess::ScoreSheet;
use app_core::team::{ExportFormat, ExportQuery, Exported, TeamScores};
use chrono::Datelike;
use yew::prelude::*;

use crate::components::notice::ErrorLine;
use crate::components::page_header::PageHeader;
use crate::hooks::use_fetch;
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc;
use crate::state::{AppContext, Remote};

/// What an export is doing.
#[derive(Clone, Debug, PartialEq)]
pub enum ExportState {
    /// Nothing asked.
    Idle,
    /// Writing.
    Busy,
    /// Written.
    Done(Exported),
    /// Failed, with the code.
    Failed(String),
}

/// The page.
#[component]
pub fn TeamReportPage() -> Html {
    let app = use_context::<AppContext>().expect("TeamReportPage is rendered inside App");
    let lang = app.lang;
    let year = use_state(|| None::<i32>);
    {
        let year = year.clone();
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                let now = ipc::get_now().await.ok();
                let y = now
                    .and_then(|n| n.date.parse::<chrono::NaiveDate>().ok())
                    .map(|d| d.year());
                year.set(y);
            });
        });
    }
    let scores = use_fetch((*year, app.revision), |(y, _)| async move {
        match y {
            Some(y) => ipc::get_team_scores(y).await.map(Some),
            None => Ok(None),
        }
    });
    let export = use_state(|| ExportState::Idle);
    let on_export = {
        let (export, year) = (export.clone(), year.clone());
        Callback::from(move |format: ExportFormat| {
            let Some(y) = *year else { return };
            if *export == ExportState::Busy {
                return;
            }
            export.set(ExportState::Busy);
            let export = export.clone();
            yew::platform::spawn_local(async move {
                let answer = ipc::export_team_sheet(ExportQuery { year: y, format }).await;
                export.set(match answer {
                    Ok(done) => ExportState::Done(done),
                    Err(e) => ExportState::Failed(e.code),
                });
            });
        })
    };
    let step = |by: i32| {
        let year = year.clone();
        Callback::from(move |_| year.set(year.map(|y| y + by)))
    };
    html! {
        <section class="team-report wide-page" data-testid="team-report">
            <PageHeader title={t(lang, Key::ScoresTitle)} back=true />
            if let Some(y) = *year {
                <div class="year-bar">
                    <button type="button" class="secondary-button" data-testid="year-prev" onclick={step(-1)}>{ "‹" }</button>
                    <strong data-testid="year">{ tf(lang, Key::ScoreYear, y) }</strong>
                    <button type="button" class="secondary-button" data-testid="year-next" onclick={step(1)}>{ "›" }</button>
                </div>
            }
            { match &*scores {
                Remote::Ready(Some(s)) => html! { <ScoresView {lang} scores={s.clone()} /> },
                Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
                _ => html! { <p class="muted">{ t(lang, Key::Loading) }</p> },
            } }
            <ExportPanel {lang} state={(*export).clone()} {on_export} />
        </section>
    }
}

/// Properties of [`ScoresView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ScoresViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The scores.
    pub scores: TeamScores,
    /// The scheme shown, by id, when the caller keeps the choice (the
    /// console, whose export follows it); the view keeps it otherwise.
    #[prop_or_default]
    pub chosen: Option<String>,
    /// Told the scheme's id when the user picks another scheme.
    #[prop_or_default]
    pub on_choose: Callback<String>,
}

/// One table per scheme: rank, member, total; a tap shows the breakdown.
#[component]
pub fn ScoresView(props: &ScoresViewProps) -> Html {
    let lang = props.lang;
    let own = use_state(|| 0usize);
    let sheets = &props.scores.sheets;
    let chosen = match &props.chosen {
        Some(id) => sheets.iter().position(|s| s.scheme_id == *id).unwrap_or(0),
        None => *own,
    };
    let open = use_state(|| None::<UserId>);
    let names = &props.scores.names;
    let name = |u: UserId| {
        names
            .iter()
            .find(|(id, _)| *id == u)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| t(lang, Key::UnknownMember).to_owned())
    };
    let Some(sheet): Option<&ScoreSheet> = sheets.get(chosen).or(sheets.first()) else {
        return html! {};
    };
    html! {
        <div class="scores" data-testid="scores">
            <div class="chips">
                { for sheets.iter().enumerate().map(|(i, s)| {
                    let (own, on_choose, id) = (own.clone(), props.on_choose.clone(), s.scheme_id.clone());
                    let pick = Callback::from(move |_| {
                        own.set(i);
                        on_choose.emit(id.clone());
                    });
                    html! {
                        <button type="button" class={classes!("chip", (i == chosen).then_some("chosen"))}
                            data-testid="scheme" onclick={pick}>{ s.scheme_name.clone() }</button>
                    }
                }) }
            </div>
            <table class="table" data-testid="score-table">
                <thead><tr>
                    <th class="num">{ t(lang, Key::ScoreRank) }</th>
                    <th>{ t(lang, Key::ColMember) }</th>
                    <th class="num">{ t(lang, Key::ScoreTotal) }</th>
                    <th></th>
                </tr></thead>
                <tbody>
                    { for sheet.scores.iter().enumerate().map(|(i, s)| {
                        let who = s.commissioner;
                        let expanded = *open == Some(who);
                        let toggle = {
                            let open = open.clone();
                            Callback::from(move |_| open.set(if expanded { None } else { Some(who) }))
                        };
                        html! {
                            <>
                                <tr data-testid="score-row" onclick={toggle}>
                                    <td class="num">{ i + 1 }</td>
                                    <th scope="row">{ name(who) }</th>
                                    <td class="num strong">{ format!("{:.1}", s.total) }
                                        if s.capped { <span class="muted small">{ format!(" {}", t(lang, Key::ScoreCapped)) }</span> }
                                    </td>
                                    <td><button type="button" class="link-button">{ t(lang, Key::ShowBreakdown) }</button></td>
                                </tr>
                                if expanded {
                                    <tr class="breakdown" data-testid="breakdown"><td colspan="4">
                                        <table class="table inner">
                                            <thead><tr>
                                                <th>{ t(lang, Key::ChangeField) }</th>
                                                <th class="num">{ t(lang, Key::ScoreValue) }</th>
                                                <th class="num">{ t(lang, Key::ScorePoints) }</th>
                                            </tr></thead>
                                            <tbody>
                                                { for s.indicators.iter().map(|ind| html! {
                                                    <tr>
                                                        <th scope="row">{ ind.name.clone() }</th>
                                                        <td class="num">{ ind.value.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into()) }</td>
                                                        <td class="num">{ format!("{:.1}", ind.score) }
                                                            if ind.capped { <span class="muted small">{ format!(" {}", t(lang, Key::ScoreCapped)) }</span> }
                                                        </td>
                                                    </tr>
                                                }) }
                                            </tbody>
                                        </table>
                                    </td></tr>
                                }
                            </>
                        }
                    }) }
                </tbody>
            </table>
        </div>
    }
}

/// Properties of [`ExportPanel`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ExportPanelProps {
    /// Interface language.
    pub lang: Lang,
    /// Where the export stands.
    pub state: ExportState,
    /// Export in this format.
    pub on_export: Callback<ExportFormat>,
}

/// The two export buttons and where the files went.
#[component]
pub fn ExportPanel(props: &ExportPanelProps) -> Html {
    let lang = props.lang;
    let busy = props.state == ExportState::Busy;
    html! {
        <div class="export" data-testid="export">
            <h2>{ t(lang, Key::ExportTitle) }</h2>
            <div class="action-row">
                <button type="button" class="primary-button" data-testid="export-xlsx" disabled={busy}
                    onclick={props.on_export.reform(|_| ExportFormat::Xlsx)}>{ t(lang, Key::ExportXlsx) }</button>
                <button type="button" class="secondary-button wide" data-testid="export-csv" disabled={busy}
                    onclick={props.on_export.reform(|_| ExportFormat::Csv)}>{ t(lang, Key::ExportCsv) }</button>
            </div>
            { match &props.state {
                ExportState::Idle => html! {},
                ExportState::Busy => html! { <p class="muted">{ t(lang, Key::Exporting) }</p> },
                ExportState::Done(done) => html! {
                    <div class="exported" data-testid="exported">
                        <p class="ok">{ t(lang, Key::ExportedTo) }</p>
                        <ul class="plain">
                            { for done.files.iter().map(|f| html! { <li class="path" data-testid="exported-file">{ f.clone() }</li> }) }
                        </ul>
                    </div>
                },
                ExportState::Failed(code) => html! { <ErrorLine code={code.clone()} /> },
            } }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use app_core::domain::Role;
    use app_core::stats::Figure;
    use app_core::stats::Period;
    use app_core::stats::assess::{CommissionerScore, IndicatorScore};

    use super::*;
    use crate::testing::{render, signed_in_as};

    #[test]
    fn scores_rank_members_and_the_export_says_where_files_went() {
        let who = app_core::testing::user_id(1);
        let scores = TeamScores {
            sheets: vec![ScoreSheet {
                scheme_id: "seed-2021".into(),
                scheme_name: "科技特派员年度考核".into(),
                indicators: vec![("days".into(), "服务天数".into())],
                period: Period::year(2026).unwrap(),
                scores: vec![CommissionerScore {
                    commissioner: who,
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
            }],
            names: vec![(who, "张三".into())],
        };
        let state = signed_in_as(Lang::ZhCn, Role::TeamLead);
        let html = render(
            state.clone(),
            html! { <ScoresView lang={Lang::ZhCn} {scores} /> },
        );
        for text in ["科技特派员年度考核", "名次", "张三", "42.5", "得分明细"] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        let done = ExportState::Done(Exported {
            dir: "/data/exports".into(),
            files: vec!["/data/exports/正安县科技特派团-2026年度统计.xlsx".into()],
        });
        let html = render(
            state,
            html! {
                <ExportPanel lang={Lang::ZhCn} state={done} on_export={Callback::noop()} />
            },
        );
        for text in [
            "导出 Excel 表格",
            "导出 CSV 文件",
            "已导出到以下文件：",
            "/data/exports/正安县科技特派团-2026年度统计.xlsx",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }
}
