//! My statistics (我的统计) for a period: service days, visits, villages and
//! townships covered, farmers, trainings and trainees, technologies and
//! varieties, questions answered and the median time to the first answer.

use app_core::api::Period;
use app_core::stats::WorkStats;
use chrono::{Datelike, NaiveDate};
use yew::prelude::*;

use crate::components::field::TextField;
use crate::components::notice::ErrorLine;
use crate::components::page_header::PageHeader;
use crate::hooks::use_fetch;
use crate::i18n::{Key, Lang, t};
use crate::ipc;
use crate::pages::consultation_detail::human_minutes;
use crate::state::{AppContext, Remote};

/// A quick choice of period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quick {
    /// 本月.
    Month,
    /// 本季度.
    Quarter,
    /// 今年.
    Year,
}

impl Quick {
    /// The period containing `today`.
    pub fn period(self, today: NaiveDate) -> Period {
        let (from_month, to_month) = match self {
            Quick::Month => (today.month(), today.month()),
            Quick::Quarter => {
                let first = (today.month() - 1) / 3 * 3 + 1;
                (first, first + 2)
            }
            Quick::Year => (1, 12),
        };
        let from = NaiveDate::from_ymd_opt(today.year(), from_month, 1).unwrap_or(today);
        let next = if to_month == 12 {
            NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(today.year(), to_month + 1, 1)
        };
        let to = next.and_then(|d| d.pred_opt()).unwrap_or(today);
        Period { from, to }
    }

    fn key(self) -> Key {
        match self {
            Quick::Month => Key::ThisMonth,
            Quick::Quarter => Key::ThisQuarter,
            Quick::Year => Key::ThisYear,
        }
    }
}

/// The statistics page.
#[component]
pub fn StatsPage() -> Html {
    let app = use_context::<AppContext>().expect("StatsPage is rendered inside App");
    let lang = app.lang;
    let period = use_state(|| None::<Period>);
    let quick = use_state(|| Some(Quick::Month));
    {
        let period = period.clone();
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                let today = ipc::get_now().await.ok().and_then(|n| n.date.parse().ok());
                if let Some(today) = today {
                    period.set(Some(Quick::Month.period(today)));
                }
            });
        });
    }
    let stats = use_fetch((*period, app.revision), |(p, _)| async move {
        match p {
            Some(p) => ipc::get_my_stats(p).await.map(Some),
            None => Ok(None),
        }
    });
    let pick = |q: Quick| {
        let (period, quick) = (period.clone(), quick.clone());
        Callback::from(move |_| {
            let (period, quick) = (period.clone(), quick.clone());
            yew::platform::spawn_local(async move {
                if let Some(today) = ipc::get_now().await.ok().and_then(|n| n.date.parse().ok()) {
                    period.set(Some(q.period(today)));
                    quick.set(Some(q));
                }
            });
        })
    };
    let set_bound = |from: bool| {
        let (period, quick) = (period.clone(), quick.clone());
        Callback::from(move |v: String| {
            if let (Some(mut p), Ok(d)) = (*period, v.parse::<NaiveDate>()) {
                if from {
                    p.from = d
                } else {
                    p.to = d
                }
                period.set(Some(p));
                quick.set(None);
            }
        })
    };
    html! {
        <section class="stats" data-testid="stats-page">
            <PageHeader title={t(lang, Key::StatsTitle)} />
            <div class="chips">
                { for [Quick::Month, Quick::Quarter, Quick::Year].into_iter().map(|q| html! {
                    <button type="button" class={classes!("chip", (*quick == Some(q)).then_some("chosen"))}
                        data-testid={format!("period-{q:?}").to_lowercase()} onclick={pick(q)}>{ t(lang, q.key()) }</button>
                }) }
            </div>
            if let Some(p) = *period {
                <div class="row">
                    <TextField {lang} label={Key::PeriodFrom} kind="date" value={p.from.to_string()} on_change={set_bound(true)} test_id="period-from" />
                    <TextField {lang} label={Key::PeriodTo} kind="date" value={p.to.to_string()} on_change={set_bound(false)} test_id="period-to" />
                </div>
            }
            { match &*stats {
                Remote::Ready(Some(s)) => html! { <StatsView {lang} stats={s.clone()} /> },
                Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
                _ => html! { <p class="muted">{ t(lang, Key::Loading) }</p> },
            } }
        </section>
    }
}

/// Properties of [`StatsView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct StatsViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The figures.
    pub stats: WorkStats,
}

/// The figures as big numbers.
#[component]
pub fn StatsView(props: &StatsViewProps) -> Html {
    let lang = props.lang;
    let s = &props.stats;
    let tile = |key: Key, value: String, id: &'static str| {
        html! {
            <div class="tile">
                <span class="tile-value" data-testid={id}>{ value }</span>
                <span class="tile-label">{ t(lang, key) }</span>
            </div>
        }
    };
    html! {
        <div class="tiles" data-testid="stats">
            { tile(Key::StatServiceDays, s.service_days.to_string(), "stat-days") }
            { tile(Key::StatVisits, s.visits.to_string(), "stat-visits") }
            { tile(Key::StatVillages, s.villages_covered.to_string(), "stat-villages") }
            { tile(Key::StatTownships, s.townships_covered.to_string(), "stat-townships") }
            { tile(Key::StatFarmers, s.farmers_served.to_string(), "stat-farmers") }
            { tile(Key::StatTrainings, s.trainings.to_string(), "stat-trainings") }
            { tile(Key::StatTrainees, s.trainees.to_string(), "stat-trainees") }
            { tile(Key::StatTechnologies, s.technologies.to_string(), "stat-technologies") }
            { tile(Key::StatVarieties, s.varieties.to_string(), "stat-varieties") }
            { tile(Key::StatConsultations, format!("{} / {}", s.consultations_answered, s.consultations), "stat-consultations") }
            { tile(Key::StatMedianAnswer, s.median_minutes_to_first_answer
                .map(|m| human_minutes(lang, m.round() as i64))
                .unwrap_or_else(|| t(lang, Key::NoAnswerYet).to_owned()), "stat-median") }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{render, signed_in};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn quick_periods_cover_whole_months_quarters_and_years() {
        assert_eq!(
            Quick::Month.period(d("2026-11-29")),
            Period {
                from: d("2026-11-01"),
                to: d("2026-11-30")
            }
        );
        assert_eq!(
            Quick::Month.period(d("2028-02-10")).to,
            d("2028-02-29"),
            "leap year"
        );
        assert_eq!(
            Quick::Quarter.period(d("2026-11-29")),
            Period {
                from: d("2026-10-01"),
                to: d("2026-12-31")
            }
        );
        assert_eq!(
            Quick::Quarter.period(d("2026-02-03")),
            Period {
                from: d("2026-01-01"),
                to: d("2026-03-31")
            }
        );
        assert_eq!(
            Quick::Year.period(d("2026-11-29")),
            Period {
                from: d("2026-01-01"),
                to: d("2026-12-31")
            }
        );
    }

    #[test]
    fn shows_every_assessed_figure() {
        let stats = WorkStats {
            service_days: 14,
            visits: 21,
            villages_covered: 9,
            townships_covered: 4,
            farmers_served: 310,
            trainings: 3,
            trainees: 145,
            consultations: 8,
            consultations_answered: 7,
            median_minutes_to_first_answer: Some(150.0),
            ..WorkStats::default()
        };
        let html = render(
            signed_in(Lang::ZhCn),
            html! { <StatsView lang={Lang::ZhCn} {stats} /> },
        );
        for text in [
            "服务天数",
            "14",
            "服务次数",
            "21",
            "覆盖行政村",
            "覆盖乡镇",
            "培训场次",
            "培训人次",
            "145",
            "答复咨询",
            "7 / 8",
            "首次答复中位用时",
            "2 小时",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        let none = render(
            signed_in(Lang::ZhCn),
            html! { <StatsView lang={Lang::ZhCn} stats={WorkStats::default()} /> },
        );
        assert!(none.contains("暂无"));
    }
}
