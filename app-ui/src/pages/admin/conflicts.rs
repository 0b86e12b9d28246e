//! Conflicts (冲突): records of the admin's area whose fields hold values
//! written concurrently on different devices, by county, team and age.
//!
//! Online the list comes from the server (every record of the area, each
//! value with the device and person it came from); offline from this
//! device's store, saying so. Opening a record fetches the server's copy
//! into this device when it can (a provincial admin's device does not hold
//! every record) and shows each conflicted field's values side by side,
//! with the record around them and its history. The admin keeps one value
//! or types a new one; the resolution is an ordinary change written here,
//! offline if need be, and synced to every device; the record keeps who
//! resolved what. What is left of the record is shown after each step.

use app_core::admin::{ConflictListQuery, ConflictedRecord, Page, ValueSource};
use app_core::api::{
    Choice, ConflictDetail, ConflictQuery, FieldConflict, ListSource, RecordConflicts,
};
use app_core::domain::{CountyCode, DocId, RecordKind, Role, TeamId, Timestamp};
use yew::prelude::*;

use super::common::{
    Names, PAGE_SIZE, Pager, ago, field_name, field_value_words, json_text_words, ready_page,
    short, use_paged,
};
use super::record_facts::RecordFacts;
use super::{ConsoleAction, ConsoleContext};
use crate::components::field::event_value;
use crate::components::notice::ErrorLine;
use crate::i18n::labels::Label;
use crate::i18n::{Key, Lang, Mark, t, tf};
use crate::ipc::{self, IpcError};
use crate::state::{Action, AppContext, Remote};

const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// The list's filters, as the admin set them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConflictFilters {
    /// A county code (provincial admins), as typed.
    pub county: String,
    /// A team.
    pub team: Option<TeamId>,
    /// A kind of record.
    pub kind: Option<RecordKind>,
    /// Only records waiting longer than this many days.
    pub older_days: Option<u32>,
}

impl ConflictFilters {
    /// The server's query for these filters at `now`.
    pub fn query(&self, now: Option<Timestamp>, cursor: Option<String>) -> ConflictListQuery {
        ConflictListQuery {
            county: CountyCode::parse(self.county.trim()).ok(),
            team: self.team,
            kind: self.kind,
            before: self
                .older_days
                .zip(now)
                .map(|(d, now)| now.add_millis(-(i64::from(d) * DAY_MILLIS))),
            cursor,
            limit: Some(PAGE_SIZE),
        }
    }

    /// Whether a record this device lists passes the filters (offline, the
    /// device filters what its store gives).
    pub fn admits(&self, r: &RecordConflicts, now: Option<Timestamp>) -> bool {
        let q = self.query(now, None);
        q.county.is_none_or(|c| c == r.county)
            && q.team.is_none_or(|t| Some(t) == r.team)
            && q.before.is_none_or(|b| r.created_at < b)
    }
}

/// This device's records with conflicts as a page of the console's list;
/// the cursor is an offset.
async fn from_device(
    filters: ConflictFilters,
    now: Option<Timestamp>,
    cursor: Option<String>,
) -> Result<Page<ConflictedRecord>, IpcError> {
    let offset: u32 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
    let rows = ipc::list_conflicts(ConflictQuery {
        kind: filters.kind,
        limit: Some(PAGE_SIZE),
        offset: Some(offset),
    })
    .await?;
    let full = rows.len() as u32 == PAGE_SIZE;
    Ok(Page {
        items: rows
            .into_iter()
            .filter(|r| filters.admits(r, now))
            .map(ConflictedRecord::from)
            .collect(),
        next: full.then(|| (offset + PAGE_SIZE).to_string()),
    })
}

/// The conflicts screen.
#[component]
pub fn ConflictsSection() -> Html {
    let app = use_context::<AppContext>().expect("inside App");
    let console = use_context::<ConsoleContext>().expect("inside the console");
    let lang = app.lang;
    let filters = use_state(ConflictFilters::default);
    let source = use_state(|| ListSource::Server);
    let selected = use_state(|| None::<DocId>);
    let now = console.now;
    let paged = {
        let source = source.clone();
        use_paged(
            ((*filters).clone(), console.revision),
            move |(f, _), cursor: Option<String>| {
                let source = source.clone();
                async move {
                    match ipc::admin::list_conflicts(f.query(now, cursor.clone())).await {
                        Ok(page) => {
                            source.set(page.source);
                            Ok(Page {
                                items: page.items,
                                next: page.next,
                            })
                        }
                        Err(e) if ipc::admin::is_offline(&e) => {
                            source.set(ListSource::Device);
                            from_device(f, now, cursor.filter(|c| c.parse::<u32>().is_ok())).await
                        }
                        Err(e) => Err(e),
                    }
                }
            },
        )
    };
    let set = |f: fn(&mut ConflictFilters, String)| {
        let filters = filters.clone();
        Callback::from(move |e: Event| {
            let mut next = (*filters).clone();
            f(&mut next, event_value(&e));
            filters.set(next);
        })
    };
    let on_select = {
        let selected = selected.clone();
        Callback::from(move |id: DocId| selected.set(Some(id)))
    };
    let on_changed = {
        let (console, app) = (console.clone(), app.clone());
        Callback::from(move |_| {
            console.dispatch(ConsoleAction::Changed);
            app.dispatch(Action::RecordsChanged);
        })
    };
    let listed = match &paged.remote {
        Remote::Ready(page) => selected
            .and_then(|id| page.items.iter().find(|r| r.doc == id))
            .cloned(),
        _ => None,
    };
    html! {
        <div class="console-split" data-testid="conflicts-section">
            <div class="console-list">
                <div class="filters">
                    <label class="filter">
                        <span>{ t(lang, Key::AdmKind) }</span>
                        <select data-testid="filter-kind" onchange={set(|f, v| f.kind = RecordKind::from_code(&v))}>
                            <option value="" selected={filters.kind.is_none()}>{ t(lang, Key::AdmAll) }</option>
                            <option value="service_log" selected={filters.kind == Some(RecordKind::ServiceLog)}>{ t(lang, Key::AdmKindLog) }</option>
                            <option value="consultation" selected={filters.kind == Some(RecordKind::Consultation)}>{ t(lang, Key::AdmKindConsultation) }</option>
                        </select>
                    </label>
                    <label class="filter">
                        <span>{ t(lang, Key::AdmColTeam) }</span>
                        <select data-testid="filter-team" onchange={set(|f, v| f.team = v.parse().ok())}>
                            <option value="" selected={filters.team.is_none()}>{ t(lang, Key::AdmAll) }</option>
                            { for console.teams.iter().map(|tv| html! {
                                <option value={tv.team.id.to_string()} selected={filters.team == Some(tv.team.id)}>{ tv.team.name.clone() }</option>
                            }) }
                        </select>
                    </label>
                    <label class="filter">
                        <span>{ t(lang, Key::AdmCountyCode) }</span>
                        <input type="text" inputmode="numeric" data-testid="filter-county" value={filters.county.clone()}
                            onchange={set(|f, v| f.county = v)} />
                    </label>
                    <label class="filter">
                        <span>{ t(lang, Key::AdmWaitingLonger) }</span>
                        <select data-testid="filter-age" onchange={set(|f, v| f.older_days = v.parse().ok())}>
                            <option value="" selected={filters.older_days.is_none()}>{ t(lang, Key::AdmAnyAge) }</option>
                            { for [1u32, 3, 7, 30].into_iter().map(|d| html! {
                                <option value={d.to_string()} selected={filters.older_days == Some(d)}>{ tf(lang, Key::Days, d) }</option>
                            }) }
                        </select>
                    </label>
                </div>
                <p class={classes!("source-note", (*source == ListSource::Device).then_some("offline"))} data-testid="conflict-source">
                    { t(lang, if *source == ListSource::Device { Key::AdmConflictsFromDevice } else { Key::AdmConflictsFromServer }) }
                </p>
                <ConflictList {lang} {now} remote={paged.remote.clone()} selected={*selected} {on_select}
                    on_retry={paged.reload.clone()} />
                if let Remote::Ready(page) = &paged.remote {
                    <Pager {lang} number={paged.number} count={page.items.len()} has_next={page.next.is_some()}
                        on_prev={paged.prev.clone()} on_next={paged.next.clone()} />
                }
            </div>
            <div class="console-detail">
                if let Some(id) = *selected {
                    <ConflictPanel key={id.to_string()} {id} {listed} {on_changed} />
                } else {
                    <p class="muted placeholder">{ t(lang, Key::AdmPickRecord) }</p>
                }
            </div>
        </div>
    }
}

/// Properties of [`ConflictList`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ConflictListProps {
    /// Interface language.
    pub lang: Lang,
    /// The time, for ages.
    pub now: Option<Timestamp>,
    /// The page.
    pub remote: Remote<Page<ConflictedRecord>>,
    /// The record open on the right.
    pub selected: Option<DocId>,
    /// A record was chosen.
    pub on_select: Callback<DocId>,
    /// Try again after a failure.
    pub on_retry: Callback<()>,
}

/// The records with conflicts, as a table.
#[component]
pub fn ConflictList(props: &ConflictListProps) -> Html {
    let console = use_context::<ConsoleContext>().expect("inside the console");
    let lang = props.lang;
    let page = match ready_page(&props.remote, lang, &props.on_retry) {
        Ok(page) => page,
        Err(shown) => return shown,
    };
    html! {
        <table class="console-table" data-testid="conflict-list">
            <thead><tr>
                <th>{ t(lang, Key::AdmColRecord) }</th>
                <th>{ t(lang, Key::AdmColAuthor) }</th>
                <th>{ t(lang, Key::AdmColTeam) }</th>
                <th>{ t(lang, Key::AdmColWaiting) }</th>
            </tr></thead>
            <tbody>
            { for page.items.iter().map(|r| {
                let id = r.doc;
                let open = props.on_select.reform(move |_: MouseEvent| id);
                let author = r.author_name.clone().unwrap_or_else(|| console.name(r.author));
                let team = r.team_name.clone()
                    .or_else(|| r.team.and_then(|t| console.team_name(t)))
                    .unwrap_or_default();
                let since = r.since.unwrap_or(r.created_at);
                let fields: Vec<String> = r.fields.iter().map(|f| field_name(&f.path, lang)).collect();
                html! {
                    <tr class={classes!("clickable", (props.selected == Some(id)).then_some("selected"))}
                        data-testid="conflict-row" onclick={open}>
                        <td>
                            <strong>{ kind_words(r.kind, lang) }{ " · " }{ r.date.to_string() }</strong>
                            { " " }{ r.village_name.clone().unwrap_or_else(|| r.village.to_string()) }
                            <div class="row-sub">{ tf(lang, Key::AdmFieldsToResolve, r.fields.len()) }{ " · " }{ fields.join(t(lang, Mark::ListSeparator)) }</div>
                        </td>
                        <td>{ author }</td>
                        <td>{ team }<div class="row-sub">{ r.county.to_string() }</div></td>
                        <td>{ props.now.map(|n| ago(n, since, lang)).unwrap_or_else(|| since.to_string()) }</td>
                    </tr>
                }
            }) }
            </tbody>
        </table>
    }
}

/// A kind of record in words.
pub fn kind_words(kind: RecordKind, lang: Lang) -> &'static str {
    t(
        lang,
        match kind {
            RecordKind::ServiceLog => Key::AdmKindLog,
            RecordKind::Consultation => Key::AdmKindConsultation,
        },
    )
}

/// Properties of [`ConflictPanel`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ConflictPanelProps {
    /// The record.
    pub id: DocId,
    /// The record as the list gave it (with the server's value sources).
    pub listed: Option<ConflictedRecord>,
    /// A resolution was written.
    pub on_changed: Callback<()>,
}

/// One record's conflicts, opened.
#[component]
pub fn ConflictPanel(props: &ConflictPanelProps) -> Html {
    let app = use_context::<AppContext>().expect("inside App");
    let lang = app.lang;
    let detail = crate::hooks::use_fetch(props.id, ipc::admin::open_conflict);
    let error = use_state(|| None::<IpcError>);
    let on_resolve = {
        let (detail, error, changed, id) = (
            detail.clone(),
            error.clone(),
            props.on_changed.clone(),
            props.id,
        );
        Callback::from(move |(path, choice): (String, Choice)| {
            let (detail, error, changed) = (detail.clone(), error.clone(), changed.clone());
            yew::platform::spawn_local(async move {
                match ipc::resolve_conflict(id, path, choice).await {
                    Ok(left) => {
                        error.set(None);
                        if let Remote::Ready(d) = &*detail {
                            let mut d = d.clone();
                            d.fields = left;
                            // The history now holds the resolution.
                            if let Ok(h) = ipc::get_record_history(id).await {
                                d.history = h;
                            }
                            detail.set(Remote::Ready(d));
                        }
                        changed.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    match &*detail {
        Remote::Loading => html! { <p class="muted">{ t(lang, Key::Loading) }</p> },
        Remote::Failed(e) if e.code == "record.not_found" => {
            html! { <p class="console-alert" data-testid="not-on-device">{ t(lang, Key::AdmNotOnThisDevice) }</p> }
        }
        Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
        Remote::Ready(d) => html! {
            <ConflictDetailView {lang} detail={d.clone()} listed={props.listed.clone()}
                error={(*error).clone()} {on_resolve} />
        },
    }
}

/// Properties of [`ConflictDetailView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ConflictDetailViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The record opened.
    pub detail: ConflictDetail,
    /// The record as listed (the server's value sources).
    pub listed: Option<ConflictedRecord>,
    /// The last resolution's failure.
    #[prop_or_default]
    pub error: Option<IpcError>,
    /// A field's resolution: its path and the choice.
    pub on_resolve: Callback<(String, Choice)>,
}

/// The opened record: each conflicted field's values side by side, what is
/// left, the record and its history (plain props, what tests render).
#[component]
pub fn ConflictDetailView(props: &ConflictDetailViewProps) -> Html {
    let lang = props.lang;
    let d = &props.detail;
    let author = match &d.record {
        app_core::api::RecordView::ServiceLog { log, .. } => log.author,
        app_core::api::RecordView::Consultation { consultation, .. } => consultation.author,
    };
    let error = props.error.as_ref().map(|e| {
        if e.fields.iter().any(|f| f.code == "bad_value") {
            t(lang, Key::ErrBadValue).to_owned()
        } else {
            t(lang, crate::ipc::error_key(&e.code)).to_owned()
        }
    });
    html! {
        <section class="conflict-panel" data-testid="conflict-panel">
            if !d.fetched {
                <p class="source-note offline" data-testid="opened-offline">{ t(lang, Key::AdmOpenedOffline) }</p>
            }
            if let Some(e) = error {
                <p class="error" role="alert" data-testid="resolve-error">{ e }</p>
            }
            if d.fields.is_empty() {
                <p class="ok-box" data-testid="all-resolved">{ t(lang, Key::AdmAllResolved) }</p>
            } else {
                <p class="left-box" data-testid="fields-left">{ tf(lang, Key::AdmFieldsLeft, d.fields.len()) }</p>
            }
            { for d.fields.iter().map(|f| {
                let sources = props.listed.as_ref()
                    .and_then(|l| l.fields.iter().find(|lf| lf.path == f.path))
                    .map(|lf| lf.values.clone())
                    .unwrap_or_default();
                html! { <FieldConflictView {lang} field={f.clone()} {sources} {author}
                    on_resolve={props.on_resolve.clone()} /> }
            }) }
            <div class="panel-columns">
                <div>
                    <h3>{ t(lang, Key::AdmRecordAround) }</h3>
                    <RecordFacts {lang} record={d.record.clone()} />
                </div>
                <div>
                    <h3>{ t(lang, Key::AdmHistory) }</h3>
                    <HistoryList {lang} history={d.history.clone()} />
                </div>
            </div>
        </section>
    }
}

/// Properties of [`FieldConflictView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct FieldConflictViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The field, as this device can resolve it.
    pub field: FieldConflict,
    /// Where each value came from, as the server knows (may be empty).
    pub sources: Vec<ValueSource>,
    /// The record's author.
    pub author: app_core::domain::UserId,
    /// A resolution.
    pub on_resolve: Callback<(String, Choice)>,
}

/// One field: its values side by side, each with where it came from and a
/// button to keep it; a box to type a new value.
#[component]
pub fn FieldConflictView(props: &FieldConflictViewProps) -> Html {
    let console = use_context::<ConsoleContext>();
    let lang = props.lang;
    let typed = use_state(String::new);
    let typed_error = use_state(|| false);
    let f = &props.field;
    let path = f.path.clone();
    let name = |id: app_core::domain::UserId| match &console {
        Some(c) => c.name(id),
        None => short(id),
    };
    let save = {
        let (typed, typed_error, cb, path) = (
            typed.clone(),
            typed_error.clone(),
            props.on_resolve.clone(),
            path.clone(),
        );
        let like = f.values.first().map(|v| v.value.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match typed_value(&typed, like.as_ref()) {
                Some(value) => {
                    typed_error.set(false);
                    cb.emit((path.clone(), Choice::Value { value }));
                }
                None => typed_error.set(true),
            }
        })
    };
    let on_typed = {
        let typed = typed.clone();
        Callback::from(move |e: InputEvent| typed.set(event_value(&e)))
    };
    html! {
        <div class="conflict-field" data-testid="conflict-field" data-path={path.clone()}>
            <h3>{ field_name(&f.path, lang) }</h3>
            <div class="value-columns">
                { for f.values.iter().enumerate().map(|(i, v)| {
                    let source = props.sources.iter().find(|s| s.op == v.op);
                    let keep = {
                        let (cb, path, op) = (props.on_resolve.clone(), path.clone(), v.op.clone());
                        Callback::from(move |_: MouseEvent| cb.emit((path.clone(), Choice::Pick { op: op.clone() })))
                    };
                    let device = source.and_then(|s| match (&s.device_name, &s.platform) {
                        (Some(n), Some(p)) => Some(format!("{n} · {p}")),
                        (Some(n), None) => Some(n.clone()),
                        _ => None,
                    });
                    let person = source
                        .and_then(|s| s.display_name.clone())
                        .or_else(|| v.origin.author.map(|a| {
                            if a == props.author {
                                format!("{} · {}", name(a), t(lang, Key::AdmTheAuthor))
                            } else {
                                name(a)
                            }
                        }));
                    let at = source.and_then(|s| s.at).or(v.origin.at);
                    html! {
                        <div class={classes!("value-card", (i == 0).then_some("shown"))} data-testid="value-card">
                            if i == 0 {
                                <span class="badge">{ t(lang, Key::AdmShownNow) }</span>
                            }
                            <div class="value-big" data-testid="value">{ field_value_words(&f.path, &v.value, &Names::new(), lang) }</div>
                            <ul class="value-source">
                                if let Some(d) = device {
                                    <li data-testid="value-device">{ tf(lang, Key::AdmFromDevice, d) }</li>
                                } else {
                                    <li class="muted">{ t(lang, Key::AdmSourceUnknown) }</li>
                                }
                                if let Some(p) = person {
                                    <li data-testid="value-person">{ tf(lang, Key::AdmByPerson, p) }</li>
                                }
                                if let Some(at) = at {
                                    <li>{ tf(lang, Key::AdmWrittenAt, at) }</li>
                                }
                            </ul>
                            if f.may_resolve {
                                <button type="button" class="primary-small" data-testid="keep-value" onclick={keep}>
                                    { t(lang, Key::AdmKeepValue) }
                                </button>
                            }
                        </div>
                    }
                }) }
            </div>
            if f.may_resolve {
                <form class="new-value" onsubmit={save}>
                    <label class="filter grow">
                        <span>{ t(lang, Key::AdmTypeNewValue) }</span>
                        <input type="text" data-testid="new-value" value={(*typed).clone()} oninput={on_typed}
                            placeholder={t(lang, Key::AdmNewValueHint)} />
                    </label>
                    <button type="submit" class="ghost-button" data-testid="save-new-value">{ t(lang, Key::AdmSaveNewValue) }</button>
                    if *typed_error {
                        <p class="error">{ t(lang, Key::ErrNotANumber) }</p>
                    }
                </form>
            }
        </div>
    }
}

/// A typed value as JSON of the kind the field holds (`like`, one of its
/// values): a number for a number, yes/no for a flag, text otherwise.
/// `None` when a number was expected and the text is not one.
pub fn typed_value(text: &str, like: Option<&serde_json::Value>) -> Option<serde_json::Value> {
    use serde_json::Value;
    let text = text.trim();
    match like {
        Some(Value::Number(_)) => text.parse::<i64>().map(Value::from).ok().or_else(|| {
            text.parse::<f64>()
                .ok()
                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
        }),
        Some(Value::Bool(_)) => match text {
            "true" | "是" | "yes" => Some(Value::Bool(true)),
            "false" | "否" | "no" => Some(Value::Bool(false)),
            _ => None,
        },
        Some(Value::String(_)) | None => Some(Value::String(text.to_owned())),
        Some(_) => serde_json::from_str(text)
            .ok()
            .or_else(|| Some(Value::String(text.to_owned()))),
    }
}

/// Properties of [`HistoryList`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct HistoryListProps {
    /// Interface language.
    pub lang: Lang,
    /// The history.
    pub history: app_core::api::RecordHistory,
}

/// Who decided, resolved and marked what, oldest first.
#[component]
pub fn HistoryList(props: &HistoryListProps) -> Html {
    let console = use_context::<ConsoleContext>();
    let lang = props.lang;
    let h = &props.history;
    let name = |id| match &console {
        Some(c) => c.name(id),
        None => short(id),
    };
    if h.resolutions.is_empty() && h.reviews.is_empty() && h.duplicate.is_none() {
        return html! { <p class="muted">{ t(lang, Key::AdmNoHistory) }</p> };
    }
    let mut lines: Vec<(Timestamp, Html)> = Vec::new();
    for r in &h.resolutions {
        let who = format!("{} · {}", name(r.by), r.role.label(lang));
        let superseded: Vec<String> = r
            .superseded
            .iter()
            .map(|s| json_text_words(&r.path, s, lang))
            .collect();
        lines.push((
            r.at,
            html! {
                <li data-testid="history-resolution">
                    <span class="timeline-when">{ r.at.to_string() }</span>
                    <div>{ tf(lang, Key::AdmResolutionLine, who) }{ " · " }{ field_name(&r.path, lang) }</div>
                    <div>{ tf(lang, Key::AdmChosen, json_text_words(&r.path, &r.chosen, lang)) }</div>
                    <div class="muted">{ tf(lang, Key::AdmSuperseded, superseded.join(t(lang, Mark::ListSeparator))) }</div>
                </li>
            },
        ));
    }
    for d in &h.reviews {
        let verdict = match d.verdict {
            app_core::domain::Verdict::Approved => Key::AdmDecisionApproved,
            app_core::domain::Verdict::Returned => Key::AdmDecisionReturned,
        };
        lines.push((
            d.at,
            html! {
                <li>
                    <span class="timeline-when">{ d.at.to_string() }</span>
                    <div>{ name(d.by) }{ " · " }{ Role::TeamLead.label(lang) }{ " · " }{ t(lang, verdict) }</div>
                    if !d.comment.is_empty() { <div class="muted">{ d.comment.clone() }</div> }
                </li>
            },
        ));
    }
    if let Some(m) = &h.duplicate {
        lines.push((
            m.at,
            html! {
                <li>
                    <span class="timeline-when">{ m.at.to_string() }</span>
                    <div>{ name(m.by) }{ " · " }{ t(lang, Key::AdmFieldDuplicate) }{ " → " }{ short(m.of) }</div>
                </li>
            },
        ));
    }
    lines.sort_by_key(|(at, _)| *at);
    html! { <ul class="timeline" data-testid="history">{ for lines.into_iter().map(|(_, l)| l) }</ul> }
}

#[cfg(test)]
mod tests {
    use app_core::admin::ConflictedField;
    use app_core::api::{ConflictChoice, RecordHistory, RecordView, ValueOrigin};
    use app_core::domain::{Resolution, ServiceLog};
    use app_core::testing::{service_log, team_id, user_id, village};

    use super::super::testing::{NOW, render};
    use super::*;

    fn log() -> ServiceLog {
        service_log(user_id(1), Some(team_id(1)), village())
    }

    fn field() -> FieldConflict {
        FieldConflict {
            path: "farmers_served".into(),
            values: vec![
                ConflictChoice {
                    value: 35.into(),
                    op: "12@aa".into(),
                    origin: ValueOrigin {
                        actor: "aa".into(),
                        at: Some(NOW),
                        author: Some(user_id(1)),
                    },
                },
                ConflictChoice {
                    value: 40.into(),
                    op: "12@bb".into(),
                    origin: ValueOrigin {
                        actor: "bb".into(),
                        at: None,
                        author: None,
                    },
                },
            ],
            may_resolve: true,
        }
    }

    fn listed() -> ConflictedRecord {
        let l = log();
        ConflictedRecord {
            doc: l.id.into(),
            kind: RecordKind::ServiceLog,
            county: "520324".parse().unwrap(),
            team: Some(team_id(1)),
            team_name: Some("正安县科技特派团".into()),
            author: user_id(1),
            author_name: Some("张三".into()),
            village: village(),
            village_name: Some("北苑社区".into()),
            date: l.date,
            created_at: NOW.add_millis(-3 * DAY_MILLIS),
            since: Some(NOW.add_millis(-2 * DAY_MILLIS)),
            summary: "茶园修剪".into(),
            fields: vec![ConflictedField {
                path: "farmers_served".into(),
                values: field()
                    .values
                    .into_iter()
                    .zip(["张三的手机", "张三的平板"])
                    .map(|(v, device)| ValueSource {
                        value: v.value,
                        op: v.op,
                        actor: v.origin.actor,
                        at: v.origin.at,
                        device: None,
                        device_name: Some(device.into()),
                        platform: Some("android".into()),
                        user: Some(user_id(1)),
                        username: Some("zhengan-zhang".into()),
                        display_name: Some("张三".into()),
                    })
                    .collect(),
            }],
        }
    }

    fn detail(fields: Vec<FieldConflict>, fetched: bool) -> ConflictDetail {
        let l = log();
        ConflictDetail {
            history: RecordHistory {
                id: l.id.into(),
                kind: RecordKind::ServiceLog,
                reviews: vec![],
                resolutions: if fields.is_empty() {
                    vec![Resolution {
                        id: "0192f000-0000-7000-8000-0000000000f1".parse().unwrap(),
                        path: "farmers_served".into(),
                        chosen: "40".into(),
                        superseded: vec!["35".into(), "40".into()],
                        by: user_id(9),
                        role: Role::SyncAdmin,
                        at: NOW,
                    }]
                } else {
                    vec![]
                },
                duplicate: None,
            },
            record: RecordView::ServiceLog {
                log: l,
                village_name: Some("北苑社区".into()),
            },
            fields,
            fetched,
        }
    }

    #[test]
    fn the_list_reads_by_record_author_team_and_age() {
        let page = Page {
            items: vec![listed()],
            next: Some("x".into()),
        };
        let html = render(
            Lang::ZhCn,
            html! { <ConflictList lang={Lang::ZhCn} now={Some(NOW)} remote={Remote::Ready(page)}
            selected={None::<DocId>} on_select={Callback::noop()} on_retry={Callback::noop()} /> },
        );
        for text in [
            "服务日志 · ",
            "北苑社区",
            "1 个字段待解决",
            "服务农户数",
            "张三",
            "正安县科技特派团",
            "2 天前",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }

    #[test]
    fn an_unreachable_server_is_said_plainly_and_an_empty_list_too() {
        let failed = Remote::Failed(IpcError::new("sync.network", "x"));
        let html = render(
            Lang::ZhCn,
            html! { <ConflictList lang={Lang::ZhCn} now={Some(NOW)} remote={failed}
            selected={None::<DocId>} on_select={Callback::noop()} on_retry={Callback::noop()} /> },
        );
        assert!(html.contains("连不上同步服务器"), "{html}");
        assert!(html.contains("data-testid=\"retry\""));
        let empty = Remote::Ready(Page {
            items: vec![],
            next: None,
        });
        let html = render(
            Lang::En,
            html! { <ConflictList lang={Lang::En} now={Some(NOW)} remote={empty}
            selected={None::<DocId>} on_select={Callback::noop()} on_retry={Callback::noop()} /> },
        );
        assert!(html.contains("Nothing matches"), "{html}");
    }

    #[test]
    fn a_conflict_opens_side_by_side_with_each_values_source() {
        let html = render(
            Lang::ZhCn,
            html! { <ConflictDetailView lang={Lang::ZhCn} detail={detail(vec![field()], true)}
            listed={Some(listed())} on_resolve={Callback::noop()} /> },
        );
        assert_eq!(
            html.matches("data-testid=\"value-card\"").count(),
            2,
            "{html}"
        );
        for text in [
            "当前显示",
            "设备：张三的手机 · android",
            "设备：张三的平板 · android",
            "填写人：张三",
            "采用这个值",
            "或者填写新值",
            "这条记录还有 1 个字段待解决",
            "记录内容",
            "北苑社区",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(!html.contains("opened-offline"));
    }

    #[test]
    fn offline_the_device_says_what_it_knows_and_a_resolved_record_shows_who_resolved() {
        let html = render(
            Lang::ZhCn,
            html! { <ConflictDetailView lang={Lang::ZhCn} detail={detail(vec![field()], false)}
            listed={None::<ConflictedRecord>} on_resolve={Callback::noop()} /> },
        );
        assert!(html.contains("离线：显示的是本机上的副本"), "{html}");
        assert!(html.contains("来源设备未知"), "{html}");
        assert!(html.contains("填写人：张三 · 记录作者"), "{html}");
        let html = render(
            Lang::ZhCn,
            html! { <ConflictDetailView lang={Lang::ZhCn} detail={detail(vec![], true)}
            listed={None::<ConflictedRecord>} on_resolve={Callback::noop()} /> },
        );
        assert!(html.contains("冲突已全部解决"), "{html}");
        assert!(html.contains("同步管理员"), "{html}");
        assert!(html.contains("采用：40"), "{html}");
        assert!(html.contains("被替换的值：35、40"), "{html}");
    }

    #[test]
    fn typed_values_take_the_fields_kind() {
        let n = serde_json::json!(35);
        assert_eq!(typed_value(" 40 ", Some(&n)), Some(serde_json::json!(40)));
        assert_eq!(typed_value("很多", Some(&n)), None);
        let s = serde_json::json!("茶叶");
        assert_eq!(
            typed_value("猕猴桃", Some(&s)),
            Some(serde_json::json!("猕猴桃"))
        );
        let b = serde_json::json!(true);
        assert_eq!(typed_value("否", Some(&b)), Some(serde_json::json!(false)));
    }

    #[test]
    fn offline_filters_apply_to_the_devices_records() {
        let f = ConflictFilters {
            team: Some(team_id(2)),
            ..ConflictFilters::default()
        };
        let r = RecordConflicts {
            id: log().id.into(),
            kind: RecordKind::ServiceLog,
            author: user_id(1),
            team: Some(team_id(1)),
            county: "520324".parse().unwrap(),
            village: village(),
            village_name: None,
            date: log().date,
            created_at: NOW,
            summary: String::new(),
            fields: vec![],
        };
        assert!(!f.admits(&r, Some(NOW)));
        assert!(ConflictFilters::default().admits(&r, Some(NOW)));
        let old = ConflictFilters {
            older_days: Some(1),
            ..ConflictFilters::default()
        };
        assert!(!old.admits(&r, Some(NOW)), "made just now");
    }
}
