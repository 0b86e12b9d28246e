//! What the console's sections share: lists paged by the server's cursor
//! ([`use_paged`], [`Pager`]), the plain "the server cannot be reached"
//! note ([`Unreachable`]), an inline confirmation ([`ConfirmBar`]), and
//! how times, ages, IDs, field names and values read.

use std::collections::BTreeMap;
use std::future::Future;

use app_core::admin::Page;
use app_core::domain::Timestamp;
use yew::prelude::*;

use crate::components::notice::ErrorLine;
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc::IpcError;
use crate::ipc::admin::is_offline;
use crate::state::Remote;

/// Items asked for per page.
pub const PAGE_SIZE: u32 = 50;

/// A list paged by the server's cursor: the current page, its number, and
/// moving between pages; the filters are the hook's `query`.
pub struct Paged<T> {
    /// The page on screen, or why not.
    pub remote: Remote<Page<T>>,
    /// 1 for the first page.
    pub number: usize,
    /// Goes to the next page (when there is one).
    pub next: Callback<()>,
    /// Goes back one page.
    pub prev: Callback<()>,
    /// Goes back to the first page.
    pub first: Callback<()>,
    /// Reads the current page again.
    pub reload: Callback<()>,
}

/// Fetches pages of a list with `fetch(query, cursor)`; a new `query` (the
/// filters) starts again at the first page. What the admin typed in the
/// filters lives in the caller's state, so a failed fetch loses nothing.
#[hook]
pub fn use_paged<Q, T, F, Fut>(query: Q, fetch: F) -> Paged<T>
where
    Q: PartialEq + Clone + 'static,
    T: Clone + 'static,
    F: Fn(Q, Option<String>) -> Fut + 'static,
    Fut: Future<Output = Result<Page<T>, IpcError>> + 'static,
{
    // The cursors of the pages before and of this one: [None] is page 1.
    let cursors = use_state(|| vec![None::<String>]);
    let tick = use_state(|| 0u32);
    let remote = use_state(|| Remote::<Page<T>>::Loading);
    {
        let cursors = cursors.clone();
        use_effect_with(query.clone(), move |_| {
            if cursors.len() != 1 || cursors[0].is_some() {
                cursors.set(vec![None]);
            }
        });
    }
    {
        let remote = remote.clone();
        let cursor = cursors.last().cloned().flatten();
        use_effect_with((query, cursor, *tick), move |(q, cursor, _)| {
            remote.set(Remote::Loading);
            let fut = fetch(q.clone(), cursor.clone());
            yew::platform::spawn_local(async move { remote.set(fut.await.into()) });
        });
    }
    let next = {
        let (cursors, remote) = (cursors.clone(), remote.clone());
        Callback::from(move |_| {
            if let Remote::Ready(page) = &*remote
                && let Some(next) = &page.next
            {
                let mut c = (*cursors).clone();
                c.push(Some(next.clone()));
                cursors.set(c);
            }
        })
    };
    let prev = {
        let cursors = cursors.clone();
        Callback::from(move |_| {
            if cursors.len() > 1 {
                let mut c = (*cursors).clone();
                c.pop();
                cursors.set(c);
            }
        })
    };
    let first = {
        let cursors = cursors.clone();
        Callback::from(move |_| cursors.set(vec![None]))
    };
    let reload = {
        let tick = tick.clone();
        Callback::from(move |_| tick.set(tick.wrapping_add(1)))
    };
    Paged {
        remote: (*remote).clone(),
        number: cursors.len(),
        next,
        prev,
        first,
        reload,
    }
}

/// Properties of [`Pager`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct PagerProps {
    /// Interface language.
    pub lang: Lang,
    /// 1 for the first page.
    pub number: usize,
    /// Items on this page.
    pub count: usize,
    /// Whether a next page exists.
    pub has_next: bool,
    /// To the previous page.
    pub on_prev: Callback<()>,
    /// To the next page.
    pub on_next: Callback<()>,
}

/// "Page 2 · 50 on this page · more follow", with previous and next.
#[component]
pub fn Pager(props: &PagerProps) -> Html {
    let lang = props.lang;
    let prev = props.on_prev.reform(|_: MouseEvent| ());
    let next = props.on_next.reform(|_: MouseEvent| ());
    html! {
        <div class="pager" data-testid="pager">
            <span class="pager-info">
                { tf(lang, Key::AdmPageInfo, props.number) }{ " · " }
                <span data-testid="page-count">{ tf(lang, Key::AdmOnPage, props.count) }</span>
                if props.has_next { { " · " }{ t(lang, Key::AdmMoreFollow) } }
            </span>
            <button type="button" class="ghost-button" data-testid="page-prev" disabled={props.number <= 1} onclick={prev}>
                { t(lang, Key::AdmPrevPage) }
            </button>
            <button type="button" class="ghost-button" data-testid="page-next" disabled={!props.has_next} onclick={next}>
                { t(lang, Key::AdmNextPage) }
            </button>
        </div>
    }
}

/// Properties of [`Unreachable`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct UnreachableProps {
    /// Interface language.
    pub lang: Lang,
    /// The failure.
    pub error: IpcError,
    /// Tries again.
    pub on_retry: Callback<()>,
}

/// A failed server call in words: when the server cannot be reached, the
/// plain note that this screen needs it and that nothing typed is lost;
/// otherwise the error's own words. Both with "retry".
#[component]
pub fn Unreachable(props: &UnreachableProps) -> Html {
    let lang = props.lang;
    let retry = props.on_retry.reform(|_: MouseEvent| ());
    html! {
        <div class="console-alert" role="alert" data-testid="unreachable">
            if is_offline(&props.error) {
                <p data-testid="offline-note">{ t(lang, Key::AdmServerUnreachable) }</p>
            } else {
                <ErrorLine code={props.error.code.clone()} />
            }
            <button type="button" class="ghost-button" data-testid="retry" onclick={retry}>{ t(lang, Key::AdmRetry) }</button>
        </div>
    }
}

/// Properties of [`ConfirmBar`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ConfirmBarProps {
    /// Interface language.
    pub lang: Lang,
    /// The question, in words.
    pub question: AttrValue,
    /// The confirming button's label.
    pub confirm: Key,
    /// Confirmed.
    pub on_confirm: Callback<()>,
    /// Cancelled.
    pub on_cancel: Callback<()>,
    /// `data-testid` of the confirming button.
    pub test_id: AttrValue,
}

/// An inline confirmation for an action that cannot be undone.
#[component]
pub fn ConfirmBar(props: &ConfirmBarProps) -> Html {
    let lang = props.lang;
    html! {
        <div class="confirm-bar" role="alertdialog">
            <p>{ props.question.clone() }</p>
            <div class="button-row">
                <button type="button" class="danger-small" data-testid={props.test_id.clone()}
                    onclick={props.on_confirm.reform(|_: MouseEvent| ())}>{ t(lang, props.confirm) }</button>
                <button type="button" class="ghost-button" onclick={props.on_cancel.reform(|_: MouseEvent| ())}>
                    { t(lang, Key::AdmCancel) }
                </button>
            </div>
        </div>
    }
}

/// How long ago `at` was, at `now`, in words (`3 天前`).
pub fn ago(now: Timestamp, at: Timestamp, lang: Lang) -> String {
    let minutes = now.millis_since(at).max(0) / 60_000;
    match minutes {
        0..=1 => t(lang, Key::AdmJustNow).to_owned(),
        2..=59 => tf(lang, Key::AdmMinutesAgo, minutes),
        60..=2879 => tf(lang, Key::AdmHoursAgo, minutes / 60),
        _ => tf(lang, Key::AdmDaysAgo, minutes / 1440),
    }
}

/// A length of time in words (`4 天`, `5 小时`, `30 分钟`).
pub fn span_words(millis: i64, lang: Lang) -> String {
    let minutes = millis.max(0) / 60_000;
    match minutes {
        0..=59 => tf(lang, Key::Minutes, minutes),
        60..=2879 => tf(lang, Key::Hours, minutes / 60),
        _ => tf(lang, Key::Days, minutes / 1440),
    }
}

/// A time with how long ago it was: `2026-11-29 09:00（3 天前）`.
pub fn when(now: Option<Timestamp>, at: Timestamp, lang: Lang) -> String {
    match now {
        Some(now) => format!("{at} · {}", ago(now, at, lang)),
        None => at.to_string(),
    }
}

/// The first 8 characters of an ID: enough to tell records apart on
/// screen.
pub fn short(id: impl std::fmt::Display) -> String {
    id.to_string().chars().take(8).collect()
}

/// Names the server gave for the IDs and village codes a value mentions
/// (`QuarantinedDoc::names`, `AuditView::names`), keyed by the text the
/// value carries.
pub type Names = BTreeMap<String, String>;

/// The value of `field` (a record's field, or a key of an audit entry) as
/// a person reads it: IDs and village codes by the names the server gave,
/// codes (activity, status, channel, role, scope) in words, instants in
/// China time, yes and no, a nested value (a review) by what it holds;
/// empty as `（空）`.
pub fn field_value_words(
    field: &str,
    value: &serde_json::Value,
    names: &Names,
    lang: Lang,
) -> String {
    use serde_json::Value;
    let key = field.rsplit('.').next().unwrap_or(field);
    let empty = || t(lang, Key::AdmEmptyValue).to_owned();
    match value {
        Value::Null => empty(),
        Value::String(s) if s.is_empty() => empty(),
        Value::String(s) => names
            .get(s)
            .cloned()
            .or_else(|| code_words(key, s, lang))
            .unwrap_or_else(|| s.clone()),
        Value::Number(n) => {
            let text = n.to_string();
            match (names.get(&text), n.as_i64()) {
                (Some(name), _) => name.clone(),
                (None, Some(millis)) if key == "at" || key.ends_with("_at") => {
                    Timestamp::from_millis(millis).to_string()
                }
                _ => text,
            }
        }
        Value::Bool(b) => t(lang, if *b { Key::AdmYes } else { Key::AdmNo }).to_owned(),
        _ if is_empty_value(value) => empty(),
        Value::Array(items) => items
            .iter()
            .map(|v| field_value_words(field, v, names, lang))
            .collect::<Vec<_>>()
            .join(t(lang, crate::i18n::Mark::ListSeparator)),
        Value::Object(map) => {
            if let Ok(scope) = serde_json::from_value::<app_core::domain::Scope>(value.clone()) {
                let team = match scope {
                    app_core::domain::Scope::Team(id) => names.get(&id.to_string()).cloned(),
                    _ => None,
                };
                return super::people::scope_words(scope, lang, team);
            }
            let parts: Vec<String> = map
                .iter()
                .filter(|(_, v)| !is_empty_value(v))
                .map(|(k, v)| {
                    format!(
                        "{}：{}",
                        part_name(key, k, lang),
                        field_value_words(k, v, names, lang)
                    )
                })
                .collect();
            if parts.is_empty() {
                empty()
            } else {
                parts.join("；")
            }
        }
    }
}

/// Whether a value shows nothing: null, an empty text, a list or map of
/// nothing but such (a review not yet given).
pub fn is_empty_value(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.iter().all(is_empty_value),
        Value::Object(o) => o.values().all(is_empty_value),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// The name of `part` of a nested value of `field` (a review's `by`).
fn part_name(field: &str, part: &str, lang: Lang) -> String {
    match (field, part) {
        ("review", "comment") => t(lang, Key::ReviewComment).to_owned(),
        ("review", "by") => t(lang, Key::AdmFieldReviewBy).to_owned(),
        ("review", "at") => t(lang, Key::AdmFieldReviewAt).to_owned(),
        _ => field_name(part, lang),
    }
}

/// A code of one of the core's enums in words, by the field it is in.
fn code_words(key: &str, code: &str, lang: Lang) -> Option<String> {
    use crate::i18n::labels::Label;
    use app_core::domain::{ActivityType, Channel, ConsultationStatus, LogStatus, Role};
    fn parse<T: serde::de::DeserializeOwned>(code: &str) -> Option<T> {
        serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
    }
    let label = match key {
        "activity" => parse::<ActivityType>(code).map(|a| a.label(lang)),
        "status" => parse::<LogStatus>(code)
            .map(|s| s.label(lang))
            .or_else(|| parse::<ConsultationStatus>(code).map(|s| s.label(lang))),
        "channel" => parse::<Channel>(code).map(|c| c.label(lang)),
        "role" => parse::<Role>(code).map(|r| r.label(lang)),
        "industry" => Some(crate::i18n::labels::industry(code, lang)),
        _ => None,
    };
    label.map(str::to_owned)
}

/// A JSON text of `field` (as resolutions keep values) as a person reads
/// it.
pub fn json_text_words(field: &str, text: &str, lang: Lang) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|v| field_value_words(field, &v, &Names::new(), lang))
        .unwrap_or_else(|_| text.to_owned())
}

/// The name of a record field (`farmers_served`, `farmer.name`) in words,
/// or the path itself for a field the interface has no name for.
pub fn field_name(path: &str, lang: Lang) -> String {
    let key = match path.split('.').next().unwrap_or(path) {
        "date" => Some(Key::FieldDate),
        "start_time" => Some(Key::FieldStartTime),
        "end_time" => Some(Key::FieldEndTime),
        "village" => Some(Key::FieldVillage),
        "location" => Some(Key::FieldLocation),
        "activity" => Some(Key::FieldActivity),
        "industry" => Some(Key::FieldIndustry),
        "farmers_served" => Some(Key::FieldFarmersServed),
        "trainees" => Some(Key::FieldTrainees),
        "served" => Some(Key::AdmFieldServed),
        "technologies" => Some(Key::FieldTechnologies),
        "varieties" => Some(Key::FieldVarieties),
        "description" => Some(Key::FieldDescription),
        "photos" => Some(Key::FieldPhotos),
        "status" => Some(Key::AdmFieldStatus),
        "review" => Some(Key::ReviewComment),
        "duplicate" => Some(Key::AdmFieldDuplicate),
        "team" => Some(Key::AdmFieldTeam),
        "author" => Some(Key::AdmColAuthor),
        "farmer" => match path {
            "farmer.phone" => Some(Key::FieldFarmerPhone),
            "farmer.village" => Some(Key::FieldFarmerVillage),
            _ => Some(Key::FieldFarmerName),
        },
        "subject" => Some(Key::FieldSubject),
        "problem" => Some(Key::FieldProblem),
        "channel" => Some(Key::FieldChannel),
        "asked_at" => Some(Key::FieldAskedAt),
        "advice" => Some(Key::Advice),
        "follow_ups" => Some(Key::FollowUps),
        "created_at" => Some(Key::AdmFieldCreatedAt),
        "updated_at" => Some(Key::AdmFieldUpdatedAt),
        "revoked_at" => Some(Key::AdmFieldRevokedAt),
        "must_change_password" => Some(Key::AdmFieldMustChange),
        "active" => Some(Key::AdmFieldActive),
        "name" => Some(Key::AdmFieldName),
        "display_name" => Some(Key::AdmDisplayName),
        "username" => Some(Key::AdmFieldUsername),
        "role" => Some(Key::Role),
        "scope" => Some(Key::AdmScope),
        "county" => Some(Key::AdmColCounty),
        "team_name" => Some(Key::AdmFieldTeam),
        "leading_industry" => Some(Key::AdmFieldLeadingIndustry),
        "device" => Some(Key::AdmColDevice),
        "open" => Some(Key::AdmQOpen),
        "stored" => Some(Key::AdmFieldStored),
        "still_open" => Some(Key::AdmFieldStillOpen),
        "still_refused" => Some(Key::AdmFieldStillRefused),
        _ => None,
    };
    match key {
        Some(k) if path.contains('.') && !path.starts_with("farmer.") => {
            format!("{} · {path}", t(lang, k))
        }
        Some(k) => t(lang, k).to_owned(),
        None => path.to_owned(),
    }
}

/// What a list from the server shows before its rows: "loading", or the
/// plain note that the server cannot be reached, with a retry; else the
/// answer.
pub fn ready<'a, T>(
    remote: &'a Remote<T>,
    lang: Lang,
    on_retry: &Callback<()>,
) -> Result<&'a T, Html> {
    match remote {
        Remote::Loading => Err(html! { <p class="muted">{ t(lang, Key::Loading) }</p> }),
        Remote::Failed(e) => Err(html! {
            <Unreachable {lang} error={e.clone()} on_retry={on_retry.clone()} />
        }),
        Remote::Ready(answer) => Ok(answer),
    }
}

/// [`ready`], and "nothing here" for a page without items.
pub fn ready_page<'a, T>(
    remote: &'a Remote<Page<T>>,
    lang: Lang,
    on_retry: &Callback<()>,
) -> Result<&'a Page<T>, Html> {
    let page = ready(remote, lang, on_retry)?;
    if page.items.is_empty() {
        return Err(
            html! { <p class="muted empty" data-testid="empty">{ t(lang, Key::AdmNothing) }</p> },
        );
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_values_read_plainly() {
        let now = Timestamp::from_millis(1_795_914_000_000);
        let back = |mins: i64| now.add_millis(-mins * 60_000);
        assert_eq!(ago(now, back(0), Lang::ZhCn), "刚才");
        assert_eq!(ago(now, back(30), Lang::ZhCn), "30 分钟前");
        assert_eq!(ago(now, back(300), Lang::En), "5 h ago");
        assert_eq!(ago(now, back(3 * 1440), Lang::ZhCn), "3 天前");
        assert_eq!(
            when(Some(now), back(3 * 1440), Lang::ZhCn),
            "2026-11-26 09:00 · 3 天前"
        );
        let words = |field: &str, v: serde_json::Value| {
            field_value_words(field, &v, &Names::new(), Lang::ZhCn)
        };
        assert_eq!(words("farmers_served", serde_json::json!(35)), "35");
        assert_eq!(words("description", serde_json::json!("")), "（空）");
        assert_eq!(
            words("technologies", serde_json::json!(["绿色防控", "测土配方"])),
            "绿色防控、测土配方"
        );
        assert_eq!(words("activity", serde_json::json!("training")), "技术培训");
        assert_eq!(words("status", serde_json::json!("answered")), "已答复");
        assert_eq!(
            words("description", serde_json::json!("training")),
            "training"
        );
        assert_eq!(json_text_words("industry", "\"茶叶\"", Lang::En), "Tea");
        assert_eq!(field_name("farmers_served", Lang::ZhCn), "服务农户数");
        assert_eq!(field_name("farmer.name", Lang::ZhCn), "农户姓名");
        assert_eq!(
            field_name("served.1.name", Lang::ZhCn),
            "服务对象 · served.1.name"
        );
        assert_eq!(field_name("mystery", Lang::ZhCn), "mystery");
        assert_eq!(short("0192f000-0000-7000"), "0192f000");
    }
}
