//! The team dashboard (团队): for a period (本周, 本月, 本年, or chosen
//! dates), a row per member (service days, visits, villages and townships,
//! farmers, trainings and trainees, questions open and answered, the last
//! log and the last sync, silent members marked), the team's totals, a
//! chart of logs per week per member, village coverage against the county
//! register (per township, with the villages not served yet), and the
//! questions waiting too long for a first answer. Every figure is the
//! statistics engine's, from the records on the tablet, so it works
//! offline; names and last syncs come from the roster the server last gave.
//! A tap on a member or a township opens their logs.

use app_core::domain::{Timestamp, UserId};
use app_core::stats::Period;
use app_core::team::{BucketUnit, DashboardQuery, MemberRow, TeamDashboard};
use chrono::{Datelike, NaiveDate};
use yew::prelude::*;

use crate::components::charts::{ActivityRow, CoverageBar, SvgChart, activity_svg, coverage_svg};
use crate::components::field::TextField;
use crate::components::notice::ErrorLine;
use crate::components::page_header::PageHeader;
use crate::hooks::use_fetch;
use crate::i18n::labels::short_place;
use crate::i18n::{Key, Lang, Mark, t, tf};
use crate::ipc;
use crate::state::{Action, AppContext, Connectivity, LogFilter, Page, Remote};

/// The period chips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    /// 本周: Monday to Sunday.
    Week,
    /// 本月.
    Month,
    /// 本年.
    Year,
    /// 自定义: the dates typed.
    Custom,
}

impl Span {
    /// The period around `today` (custom keeps what it has).
    pub fn period(self, today: NaiveDate, custom: Period) -> Period {
        match self {
            Span::Week => app_core::team::week_of(today),
            Span::Month => {
                let from = today.with_day(1).unwrap_or(today);
                let next = if today.month() == 12 {
                    NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(today.year(), today.month() + 1, 1)
                };
                Period::new(from, next.and_then(|d| d.pred_opt()).unwrap_or(today))
            }
            Span::Year => Period::year(today.year()).unwrap_or(Period::new(today, today)),
            Span::Custom => custom,
        }
    }

    fn key(self) -> Key {
        match self {
            Span::Week => Key::ThisWeek,
            Span::Month => Key::ThisMonth,
            Span::Year => Key::ThisYearShort,
            Span::Custom => Key::CustomPeriod,
        }
    }

    fn id(self) -> &'static str {
        match self {
            Span::Week => "week",
            Span::Month => "month",
            Span::Year => "year",
            Span::Custom => "custom",
        }
    }
}

/// The dashboard page.
#[component]
pub fn TeamPage() -> Html {
    let app = use_context::<AppContext>().expect("TeamPage is rendered inside App");
    let lang = app.lang;
    let today = use_state(|| None::<NaiveDate>);
    let span = use_state(|| Span::Month);
    let custom = use_state(|| None::<Period>);
    {
        let today = today.clone();
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                if let Some(d) = ipc::get_now().await.ok().and_then(|n| n.date.parse().ok()) {
                    today.set(Some(d));
                }
            });
        });
    }
    // Online: the roster (names, last syncs) fresh from the server.
    {
        let app = app.clone();
        let online = app.connectivity == Connectivity::Online;
        use_effect_with(online, move |online| {
            if *online {
                yew::platform::spawn_local(async move {
                    if let Ok(Some(_)) = ipc::refresh_team().await {
                        app.dispatch(Action::RecordsChanged);
                    }
                });
            }
        });
    }
    let period = today.map(|d| {
        let c = (*custom).unwrap_or_else(|| Span::Month.period(d, Period::new(d, d)));
        span.period(d, c)
    });
    let data = use_fetch((period, app.revision), |(p, _)| async move {
        match p {
            Some(p) => ipc::get_team_dashboard(DashboardQuery {
                from: p.from,
                to: p.to,
            })
            .await
            .map(Some),
            None => Ok(None),
        }
    });
    let pick = |s: Span| {
        let (span, custom) = (span.clone(), custom.clone());
        Callback::from(move |_| {
            if s == Span::Custom && custom.is_none() {
                custom.set(period);
            }
            span.set(s);
        })
    };
    let set_bound = |from: bool| {
        let (span, custom) = (span.clone(), custom.clone());
        Callback::from(move |v: String| {
            if let (Some(mut p), Ok(d)) = (period, v.parse::<NaiveDate>()) {
                if from {
                    p.from = d;
                } else {
                    p.to = d;
                }
                custom.set(Some(p));
                span.set(Span::Custom);
            }
        })
    };
    html! {
        <section class="team wide-page" data-testid="team-page">
            <PageHeader title={t(lang, Key::TeamTitle)} />
            <div class="period-bar">
                <div class="chips">
                    { for [Span::Week, Span::Month, Span::Year, Span::Custom].into_iter().map(|s| html! {
                        <button type="button" class={classes!("chip", (*span == s).then_some("chosen"))}
                            data-testid={format!("span-{}", s.id())} onclick={pick(s)}>{ t(lang, s.key()) }</button>
                    }) }
                </div>
                if let Some(p) = period {
                    <div class="row dates">
                        <TextField {lang} label={Key::PeriodFrom} kind="date" value={p.from.to_string()} on_change={set_bound(true)} test_id="team-from" />
                        <TextField {lang} label={Key::PeriodTo} kind="date" value={p.to.to_string()} on_change={set_bound(false)} test_id="team-to" />
                    </div>
                }
            </div>
            { match &*data {
                Remote::Ready(Some(d)) => html! { <DashboardView {lang} data={d.clone()} /> },
                Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
                _ => html! { <p class="muted">{ t(lang, Key::Loading) }</p> },
            } }
        </section>
    }
}

/// A time as the dashboard shows it: today's as the hour, older ones as
/// the date.
fn when(at: Timestamp, today: NaiveDate) -> String {
    match at.to_china() {
        Some(t) if t.date_naive() == today => t.format("%H:%M").to_string(),
        Some(t) => t.format("%m-%d %H:%M").to_string(),
        None => String::new(),
    }
}

/// A column label of the activity chart.
fn column_label(unit: BucketUnit, p: &Period) -> String {
    match unit {
        BucketUnit::Day => p.from.format("%d").to_string(),
        BucketUnit::Week => p.from.format("%m-%d").to_string(),
    }
}

/// Properties of [`DashboardView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct DashboardViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The dashboard.
    pub data: TeamDashboard,
}

/// Everything below the period.
#[component]
pub fn DashboardView(props: &DashboardViewProps) -> Html {
    let app = use_context::<AppContext>().expect("DashboardView is rendered inside App");
    let lang = props.lang;
    let d = &props.data;
    let go = |page: Page| {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::Navigate(page)))
    };
    let logs_of = |author: Option<UserId>, township| LogFilter {
        author,
        township,
        from: Some(d.period.from),
        to: Some(d.period.to),
    };
    let name = |m: &MemberRow| {
        m.name
            .clone()
            .unwrap_or_else(|| t(lang, Key::UnknownMember).to_owned())
    };
    let f = &d.total;
    let tile = |key: Key, value: String, id: &'static str| {
        html! {
            <div class="tile">
                <span class="tile-value" data-testid={id}>{ value }</span>
                <span class="tile-label">{ t(lang, key) }</span>
            </div>
        }
    };
    let activity = activity_svg(
        &d.members
            .iter()
            .map(|m| ActivityRow {
                name: name(m),
                counts: m.activity.clone(),
                silent: m.silent,
            })
            .collect::<Vec<_>>(),
        &d.buckets
            .iter()
            .map(|b| column_label(d.unit, b))
            .collect::<Vec<_>>(),
    );
    let sep = t(lang, Mark::ListSeparator);
    html! {
        <div class="dashboard" data-testid="dashboard">
            <div class="dashboard-links">
                <p class="muted small" data-testid="roster-at">
                    { match d.roster_at {
                        Some(at) => tf(lang, Key::RosterAt, when(at, d.today)),
                        None => t(lang, Key::RosterNever).to_owned(),
                    } }
                </p>
                <button type="button" class="secondary-button" data-testid="open-my-stats" onclick={go(Page::Stats)}>{ t(lang, Key::StatsTitle) }</button>
                <button type="button" class="secondary-button" data-testid="open-team-report" onclick={go(Page::TeamReport)}>{ t(lang, Key::TeamReportButton) }</button>
            </div>

            <h2>{ t(lang, Key::TeamTotal) }</h2>
            <div class="tiles" data-testid="team-total">
                { tile(Key::PersonDays, f.person_days.to_string(), "total-person-days") }
                { tile(Key::StatVisits, f.visits.to_string(), "total-visits") }
                { tile(Key::StatVillages, f.villages_covered.to_string(), "total-villages") }
                { tile(Key::StatTownships, f.townships_covered.to_string(), "total-townships") }
                { tile(Key::StatFarmers, f.farmers_served.to_string(), "total-farmers") }
                { tile(Key::StatTrainings, f.trainings.to_string(), "total-trainings") }
                { tile(Key::StatTrainees, f.trainees.to_string(), "total-trainees") }
                { tile(Key::StatConsultations, format!("{} / {}", f.consultations_answered, f.consultations), "total-consultations") }
            </div>

            <h2>{ t(lang, Key::ColMember) }</h2>
            <p class="muted small">{ t(lang, Key::TapForLogs) }</p>
            <div class="table-wrap">
                <table class="table members" data-testid="members">
                    <thead><tr>
                        <th>{ t(lang, Key::ColMember) }</th>
                        <th class="num">{ t(lang, Key::ColDays) }</th>
                        <th class="num">{ t(lang, Key::ColVisits) }</th>
                        <th class="num">{ t(lang, Key::ColVillages) }</th>
                        <th class="num">{ t(lang, Key::ColTownships) }</th>
                        <th class="num">{ t(lang, Key::ColFarmers) }</th>
                        <th class="num">{ t(lang, Key::ColTrainings) }</th>
                        <th class="num">{ t(lang, Key::ColTrainees) }</th>
                        <th class="num">{ t(lang, Key::ColQuestions) }</th>
                        <th>{ t(lang, Key::ColLastLog) }</th>
                        <th>{ t(lang, Key::ColLastSync) }</th>
                    </tr></thead>
                    <tbody>
                        { for d.members.iter().map(|m| {
                            let open = go(Page::TeamLogs(logs_of(Some(m.user), None)));
                            let f = &m.figures;
                            let silent = if !m.silent {
                                html! {}
                            } else {
                                let text = match m.last_log {
                                    Some(last) => tf(lang, Key::SilentDays, (d.today - last).num_days()),
                                    None => t(lang, Key::SilentNever).to_owned(),
                                };
                                html! { <span class="badge state-returned" data-testid="silent">{ text }</span> }
                            };
                            html! {
                                <tr class={classes!(m.silent.then_some("silent"))} data-testid="member-row" onclick={open}>
                                    <th scope="row">
                                        <button type="button" class="link-button member-name" data-testid="member-name">{ name(m) }</button>
                                        { silent }
                                    </th>
                                    <td class="num">{ f.service_days }</td>
                                    <td class="num">{ f.visits }</td>
                                    <td class="num">{ f.villages_covered }</td>
                                    <td class="num">{ f.townships_covered }</td>
                                    <td class="num">{ f.farmers_served }</td>
                                    <td class="num">{ f.trainings }</td>
                                    <td class="num">{ f.trainees }</td>
                                    <td class="num">{ format!("{} / {}", m.open_consultations, f.consultations_answered) }</td>
                                    <td>{ m.last_log.map(|l| l.format("%m-%d").to_string()).unwrap_or_else(|| t(lang, Key::NeverValue).to_owned()) }</td>
                                    <td data-testid="last-sync">{ match (m.last_sync, d.roster_at) {
                                        (Some(at), _) => when(at, d.today),
                                        (None, Some(_)) if m.on_roster => t(lang, Key::NeverValue).to_owned(),
                                        _ => t(lang, Key::UnknownValue).to_owned(),
                                    } }</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            </div>

            <h2>{ t(lang, if d.unit == BucketUnit::Day { Key::ActivityDaily } else { Key::ActivityWeekly }) }</h2>
            <SvgChart svg={activity} label={t(lang, Key::ActivityWeekly)} test_id="activity-chart" />

            <section class="coverage-section" data-testid="coverage-section">
            <h2>{ t(lang, Key::CoverageTitle) }</h2>
            { match &d.coverage {
                None => html! { <p class="muted">{ t(lang, Key::NoRegisterHere) }</p> },
                Some(c) => html! {
                    <div class="coverage" data-testid="coverage">
                        <div class="tiles two">
                            { tile(Key::CoveredVillages, format!("{} / {}", c.villages_covered, c.villages), "covered-villages") }
                            { tile(Key::CoveredTownships, format!("{} / {}", c.townships_covered, c.townships), "covered-townships") }
                        </div>
                        <div class="coverage-grid">
                        <div>
                        <h3>{ t(lang, Key::CoverageByTownship) }</h3>
                        <SvgChart svg={coverage_svg(&c.by_township.iter().map(|t| CoverageBar {
                            name: t.name.clone(), covered: t.covered, villages: t.villages,
                        }).collect::<Vec<_>>())} label={t(lang, Key::CoverageByTownship)} test_id="coverage-chart" />
                        </div>
                        <div>
                        <h3>{ t(lang, Key::UncoveredTitle) }</h3>
                        <div class="uncovered" data-testid="uncovered">
                            { for c.by_township.iter().map(|tw| {
                                let open = go(Page::TeamLogs(logs_of(None, Some(tw.code))));
                                html! {
                                    <div class="uncovered-township" data-testid="uncovered-township">
                                        <button type="button" class="link-button" data-testid="township" onclick={open}>
                                            { format!("{}（{}/{}）", tw.name, tw.covered, tw.villages) }
                                        </button>
                                        <p class={classes!(tw.uncovered.is_empty().then_some("ok"))}>
                                            { if tw.uncovered.is_empty() {
                                                t(lang, Key::AllCovered).to_owned()
                                            } else {
                                                tw.uncovered.iter().map(|v| short_place(&v.name)).collect::<Vec<_>>().join(sep)
                                            } }
                                        </p>
                                    </div>
                                }
                            }) }
                        </div>
                        </div>
                        </div>
                    </div>
                },
            } }
            </section>

            <h2>{ t(lang, Key::WaitingTitle) }</h2>
            if d.waiting.is_empty() {
                <p class="muted" data-testid="none-waiting">{ t(lang, Key::NoneWaiting) }</p>
            } else {
                <div class="waiting" data-testid="waiting">
                    { for d.members.iter().filter(|m| d.waiting.iter().any(|w| w.author == m.user)).map(|m| html! {
                        <div class="waiting-member">
                            <h3>{ name(m) }</h3>
                            <ul class="plain">
                                { for d.waiting.iter().filter(|w| w.author == m.user).map(|w| {
                                    let open = go(Page::ConsultationDetail(w.id));
                                    html! {
                                        <li>
                                            <button type="button" class="link-button" data-testid="waiting-item" onclick={open}>
                                                { format!("{} · {} · {}", w.farmer_name, w.subject,
                                                    w.village_name.as_deref().map(short_place).unwrap_or_default()) }
                                            </button>
                                            <span class="badge state-returned">{ tf(lang, Key::WaitingDays, w.days) }</span>
                                        </li>
                                    }
                                }) }
                            </ul>
                        </div>
                    }) }
                </div>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use app_core::api::Division;
    use app_core::domain::{Role, TownshipCode};
    use app_core::stats::Figures;
    use app_core::team::{Coverage, TownshipCoverage, WaitingConsultation};

    use super::*;
    use crate::testing::{render, signed_in_as};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn member(
        n: u8,
        name: Option<&str>,
        visits: u32,
        last: Option<&str>,
        silent: bool,
    ) -> MemberRow {
        MemberRow {
            user: app_core::testing::user_id(n),
            name: name.map(str::to_owned),
            role: Some(Role::Commissioner),
            on_roster: name.is_some(),
            figures: Figures {
                visits,
                service_days: visits,
                villages_covered: 2,
                consultations: 3,
                consultations_answered: 2,
                ..Figures::default()
            },
            open_consultations: 1,
            last_log: last.map(d),
            last_sync: name.map(|_| Timestamp::from_millis(1_795_910_400_000)),
            silent,
            activity: vec![0, visits, 0],
        }
    }

    pub(crate) fn dashboard() -> TeamDashboard {
        TeamDashboard {
            period: Period::new(d("2026-11-01"), d("2026-11-30")),
            today: d("2026-11-29"),
            team: app_core::testing::team_id(1),
            team_name: Some("正安县科技特派团".into()),
            members: vec![
                member(1, Some("张三"), 9, Some("2026-11-28"), false),
                member(2, Some("王芳"), 1, Some("2026-11-05"), true),
                member(3, None, 0, None, true),
            ],
            total: Figures {
                visits: 10,
                person_days: 10,
                consultations: 6,
                consultations_answered: 4,
                ..Figures::default()
            },
            coverage: Some(Coverage {
                county: "520324".parse().unwrap(),
                county_name: Some("正安县".into()),
                villages_covered: 2,
                villages: 5,
                townships_covered: 1,
                townships: 2,
                by_township: vec![
                    TownshipCoverage {
                        code: TownshipCode::parse("520324001").unwrap(),
                        name: "凤仪街道".into(),
                        villages: 3,
                        covered: 2,
                        uncovered: vec![Division {
                            code: "520324001003".into(),
                            name: "凤山社区居民委员会".into(),
                        }],
                    },
                    TownshipCoverage {
                        code: TownshipCode::parse("520324101").unwrap(),
                        name: "瑞溪镇".into(),
                        villages: 2,
                        covered: 0,
                        uncovered: vec![
                            Division {
                                code: "520324101001".into(),
                                name: "瑞溪社区居民委员会".into(),
                            },
                            Division {
                                code: "520324101201".into(),
                                name: "尖峰村村民委员会".into(),
                            },
                        ],
                    },
                ],
            }),
            unit: BucketUnit::Week,
            buckets: vec![
                Period::new(d("2026-11-01"), d("2026-11-01")),
                Period::new(d("2026-11-02"), d("2026-11-08")),
                Period::new(d("2026-11-09"), d("2026-11-15")),
            ],
            waiting: vec![WaitingConsultation {
                id: "0192f000-0000-7000-8000-0000000000c1".parse().unwrap(),
                author: app_core::testing::user_id(2),
                farmer_name: "王德明".into(),
                subject: "茶树".into(),
                village_name: Some("北苑社区居民委员会".into()),
                asked_at: Timestamp::from_millis(1_795_400_000_000),
                days: 5,
            }],
            roster_at: Some(Timestamp::from_millis(1_795_910_400_000)),
        }
    }

    #[test]
    fn members_totals_charts_coverage_and_waiting_questions() {
        let html = render(
            signed_in_as(Lang::ZhCn, Role::TeamLead),
            html! { <DashboardView lang={Lang::ZhCn} data={dashboard()} /> },
        );
        for text in [
            "团队合计",
            "服务人天",
            "4 / 6",
            "张三",
            "王芳",
            "成员（名单未更新）",
            "24 天未记录",
            "尚无日志",
            "11-28",
            "08:00",
            "未知",
            "每周日志数（按成员）",
            "各乡镇覆盖情况",
            "2 / 5",
            "1 / 2",
            "凤仪街道（2/3）",
            "凤山社区",
            "瑞溪镇（0/2）",
            "瑞溪社区、尖峰村",
            "超过 3 天未答复的咨询",
            "王德明 · 茶树 · 北苑社区",
            "已等 5 天",
            "考核得分与年度统计导出",
            "我的统计",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert_eq!(html.matches(r#"data-testid="silent""#).count(), 2);
        assert!(html.contains(r#"data-testid="activity-chart""#) && html.contains("<svg"));
        assert!(html.contains(r#"data-testid="coverage-chart""#));
    }

    #[test]
    fn without_a_roster_or_register_it_says_so_in_english_too() {
        let mut data = dashboard();
        data.roster_at = None;
        data.coverage = None;
        data.waiting.clear();
        let html = render(
            signed_in_as(Lang::En, Role::TeamLead),
            html! { <DashboardView lang={Lang::En} data={data} /> },
        );
        for text in [
            "Member names come from the server once online",
            "sync to see coverage",
            "No question has waited too long",
            "Team total",
            "unknown",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }

    #[test]
    fn the_period_chips_cover_week_month_and_year() {
        let today = d("2026-11-29");
        let any = Period::new(today, today);
        assert_eq!(
            Span::Week.period(today, any),
            Period::new(d("2026-11-23"), d("2026-11-29"))
        );
        assert_eq!(
            Span::Month.period(today, any),
            Period::new(d("2026-11-01"), d("2026-11-30"))
        );
        assert_eq!(
            Span::Year.period(today, any),
            Period::new(d("2026-01-01"), d("2026-12-31"))
        );
        assert_eq!(Span::Custom.period(today, any), any);
    }
}
