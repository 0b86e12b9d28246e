//! The audit log (审计日志): every admin action and every resolution the
//! server recorded (who, what, when, from which device, before and after),
//! newest first, filtered by actor, action, subject and time, a page at a
//! time; exported as CSV into the app data directory's `exports/` folder,
//! whose path is shown.

use app_core::admin::{AuditQuery, AuditView, Page};
use app_core::api::Exported;
use app_core::domain::{Timestamp, UserId};
use chrono::NaiveDate;
use yew::prelude::*;

use super::ConsoleContext;
use super::common::{
    PAGE_SIZE, Pager, field_name, field_value_words, ready_page, short, use_paged,
};
use crate::components::field::event_value;
use crate::components::notice::ErrorLine;
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc::{self, IpcError};
use crate::state::{AppContext, Remote};

/// The log's filters, as the admin set them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilters {
    /// By this user.
    pub actor: Option<UserId>,
    /// An action or a family (`user.`).
    pub action: String,
    /// A subject's ID, as typed.
    pub subject: String,
    /// From this day (China time), as typed.
    pub from: String,
    /// To this day, inclusive.
    pub to: String,
}

fn day_start(text: &str, plus_days: i64) -> Option<Timestamp> {
    let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    let start = Timestamp::from_china_local(day.and_hms_opt(0, 0, 0)?);
    Some(start.add_millis(plus_days * 24 * 60 * 60 * 1000))
}

impl AuditFilters {
    /// The server's query.
    pub fn query(&self, cursor: Option<String>) -> AuditQuery {
        AuditQuery {
            actor: self.actor,
            action: Some(self.action.clone()).filter(|a| !a.is_empty()),
            subject: Some(self.subject.trim().to_owned()).filter(|s| !s.is_empty()),
            since: day_start(&self.from, 0),
            until: day_start(&self.to, 1),
            cursor,
            limit: Some(PAGE_SIZE),
        }
    }
}

/// Actions and families the filter offers.
const ACTIONS: [(&str, Key); 21] = [
    ("user.", Key::AdmFamilyUsers),
    ("device.", Key::AdmFamilyDevices),
    ("quarantine.", Key::AdmFamilyQuarantine),
    ("record.", Key::AdmFamilyRecords),
    ("team.create", Key::AdmActTeamCreate),
    ("user.create", Key::AdmActUserCreate),
    ("user.move", Key::AdmActUserMove),
    ("user.scope", Key::AdmActUserScope),
    ("user.disable", Key::AdmActUserDisable),
    ("user.enable", Key::AdmActUserEnable),
    ("user.password_reset", Key::AdmActPasswordReset),
    ("user.password_change", Key::AdmActPasswordChange),
    ("device.enrol", Key::AdmActDeviceEnrol),
    ("device.replace", Key::AdmActDeviceReplace),
    ("device.revoke", Key::AdmActDeviceRevoke),
    ("quarantine.release", Key::AdmActRelease),
    ("quarantine.discard", Key::AdmActDiscard),
    ("county.tag", Key::AdmActCountyTag),
    ("county.untag", Key::AdmActCountyUntag),
    ("record.admin_write", Key::AdmActAdminWrite),
    ("register.import", Key::AdmActRegisterImport),
];

/// An action in words (the code itself when the interface has none).
pub fn action_words(action: &str, lang: Lang) -> String {
    ACTIONS
        .iter()
        .find(|(code, _)| *code == action)
        .map_or_else(|| action.to_owned(), |(_, k)| t(lang, *k).to_owned())
}

/// The audit screen.
#[component]
pub fn AuditSection() -> Html {
    let app = use_context::<AppContext>().expect("inside App");
    let console = use_context::<ConsoleContext>().expect("inside the console");
    let lang = app.lang;
    let filters = use_state(AuditFilters::default);
    let exported = use_state(|| None::<Result<Exported, IpcError>>);
    let paged = use_paged(
        ((*filters).clone(), console.revision),
        |(f, _): (AuditFilters, u32), cursor| ipc::admin::list_audit(f.query(cursor)),
    );
    let set = |f: fn(&mut AuditFilters, String)| {
        let filters = filters.clone();
        Callback::from(move |e: Event| {
            let mut next = (*filters).clone();
            f(&mut next, event_value(&e));
            filters.set(next);
        })
    };
    let export = {
        let (filters, exported) = (filters.clone(), exported.clone());
        Callback::from(move |_: MouseEvent| {
            let (query, exported) = (filters.query(None), exported.clone());
            yew::platform::spawn_local(async move {
                exported.set(Some(
                    ipc::admin::export_audit(AuditQuery {
                        limit: None,
                        ..query
                    })
                    .await,
                ));
            });
        })
    };
    let mut people: Vec<(UserId, String)> =
        console.names.iter().map(|(k, v)| (*k, v.clone())).collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    html! {
        <div class="console-page" data-testid="audit-section">
            <div class="filters">
                <label class="filter">
                    <span>{ t(lang, Key::AdmActor) }</span>
                    <select data-testid="filter-actor" onchange={set(|f, v| f.actor = v.parse().ok())}>
                        <option value="" selected={filters.actor.is_none()}>{ t(lang, Key::AdmAll) }</option>
                        { for people.into_iter().map(|(id, name)| html! {
                            <option value={id.to_string()} selected={filters.actor == Some(id)}>{ name }</option>
                        }) }
                    </select>
                </label>
                <label class="filter">
                    <span>{ t(lang, Key::AdmAction) }</span>
                    <select data-testid="filter-action" onchange={set(|f, v| f.action = v)}>
                        <option value="" selected={filters.action.is_empty()}>{ t(lang, Key::AdmAll) }</option>
                        { for ACTIONS.iter().map(|(code, k)| html! {
                            <option value={*code} selected={filters.action == *code}>{ t(lang, *k) }</option>
                        }) }
                    </select>
                </label>
                <label class="filter grow">
                    <span>{ t(lang, Key::AdmSubject) }</span>
                    <input type="text" data-testid="filter-subject" value={filters.subject.clone()}
                        placeholder={t(lang, Key::AdmSubjectHint)} onchange={set(|f, v| f.subject = v)} />
                </label>
                <label class="filter">
                    <span>{ t(lang, Key::AdmFrom) }</span>
                    <input type="date" data-testid="filter-from" value={filters.from.clone()} onchange={set(|f, v| f.from = v)} />
                </label>
                <label class="filter">
                    <span>{ t(lang, Key::AdmTo) }</span>
                    <input type="date" data-testid="filter-to" value={filters.to.clone()} onchange={set(|f, v| f.to = v)} />
                </label>
                <button type="button" class="primary-small" data-testid="export-audit" onclick={export}>{ t(lang, Key::AdmExportCsv) }</button>
            </div>
            { match &*exported {
                Some(Ok(x)) => html! {
                    <div class="ok-box" data-testid="exported">
                        <p>{ tf(lang, Key::AdmExported, "") }<span class="path" data-testid="export-path">{ x.path.clone() }</span></p>
                        if x.truncated { <p>{ t(lang, Key::AdmExportTruncated) }</p> }
                    </div>
                },
                Some(Err(e)) if ipc::admin::is_offline(e) => html! {
                    <p class="console-alert" role="alert">{ t(lang, Key::AdmServerUnreachable) }</p>
                },
                Some(Err(e)) => html! { <ErrorLine code={e.code.clone()} /> },
                None => html! {},
            } }
            <AuditTable {lang} remote={paged.remote.clone()} on_retry={paged.reload.clone()} />
            if let Remote::Ready(page) = &paged.remote {
                <Pager {lang} number={paged.number} count={page.items.len()} has_next={page.next.is_some()}
                    on_prev={paged.prev.clone()} on_next={paged.next.clone()} />
            }
        </div>
    }
}

/// Properties of [`AuditTable`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct AuditTableProps {
    /// Interface language.
    pub lang: Lang,
    /// The page.
    pub remote: Remote<Page<AuditView>>,
    /// Try again after a failure.
    pub on_retry: Callback<()>,
}

/// What changed, in words: the keys whose value differs, `key: before →
/// after` (an ID's name beside it left out: the ID is shown by that name),
/// else the detail; IDs and village codes by the names the server gave.
pub fn change_words(e: &AuditView, lang: Lang) -> String {
    use serde_json::Value;
    // A key absent on one side reads like an empty value.
    let words = |key: &str, v: Option<&Value>| {
        field_value_words(key, v.unwrap_or(&Value::Null), &e.names, lang)
    };
    if let (Some(Value::Object(b)), Some(Value::Object(a))) = (&e.before, &e.after) {
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        let changed: Vec<&String> = keys
            .into_iter()
            .filter(|k| a.get(*k).unwrap_or(&Value::Null) != b.get(*k).unwrap_or(&Value::Null))
            .collect();
        let named_by_id = |k: &str| {
            k.strip_suffix("_name")
                .is_some_and(|id| changed.iter().any(|c| c.as_str() == id))
        };
        let diff: Vec<String> = changed
            .iter()
            .filter(|k| !named_by_id(k))
            .map(|k| {
                format!(
                    "{}：{} → {}",
                    field_name(k, lang),
                    words(k, b.get(*k)),
                    words(k, a.get(*k))
                )
            })
            .collect();
        if !diff.is_empty() {
            return diff.join("；");
        }
    }
    match &e.detail {
        Value::Object(m) if m.is_empty() => String::new(),
        Value::Null => String::new(),
        other => field_value_words("detail", other, &e.names, lang),
    }
}

/// The log, one row per entry.
#[component]
pub fn AuditTable(props: &AuditTableProps) -> Html {
    let lang = props.lang;
    let page = match ready_page(&props.remote, lang, &props.on_retry) {
        Ok(page) => page,
        Err(shown) => return shown,
    };
    html! {
        <table class="console-table audit" data-testid="audit-table">
            <thead><tr>
                <th>{ t(lang, Key::AdmColTime) }</th>
                <th>{ t(lang, Key::AdmActor) }</th>
                <th>{ t(lang, Key::AdmAction) }</th>
                <th>{ t(lang, Key::AdmSubject) }</th>
                <th>{ t(lang, Key::AdmDetail) }</th>
            </tr></thead>
            <tbody>
            { for page.items.iter().map(|e| html! {
                <tr data-testid="audit-row" data-action={e.action.clone()}>
                    <td class="nowrap">{ e.at.to_string() }</td>
                    <td>{ e.actor_name.clone().unwrap_or_else(|| t(lang, Key::AdmOperator).to_owned()) }
                        if let Some(d) = e.device { <div class="row-sub">{ short(d) }</div> }</td>
                    <td>{ action_words(&e.action, lang) }<div class="row-sub">{ e.action.clone() }</div></td>
                    <td class="path">{ e.names.get(&e.subject).cloned().unwrap_or_else(|| e.subject.clone()) }
                        if e.names.contains_key(&e.subject) { <div class="row-sub">{ short(&e.subject) }</div> }
                        if let Some(c) = e.county { <div class="row-sub">{ c.to_string() }</div> }</td>
                    <td class="change">{ change_words(e, lang) }</td>
                </tr>
            }) }
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{NOW, render};
    use super::*;

    fn entry() -> AuditView {
        use app_core::testing::{team_id, user_id};
        let (a, b) = (team_id(1).to_string(), team_id(2).to_string());
        let scope = |t: &str| serde_json::json!({ "level": "team", "code": t });
        AuditView {
            id: 12,
            at: NOW,
            actor: Some(user_id(9)),
            actor_name: Some("zhengan-admin".into()),
            device: Some(app_core::testing::device_id(9)),
            action: "user.move".into(),
            subject: user_id(1).to_string(),
            county: Some("520324".parse().unwrap()),
            province: None,
            detail: serde_json::json!({}),
            before: Some(serde_json::json!({
                "team": a, "team_name": "白茶团", "scope": scope(&a), "role": "commissioner",
            })),
            after: Some(serde_json::json!({
                "team": b, "team_name": "科技团", "scope": scope(&b), "role": "commissioner",
            })),
            names: [
                (a, "白茶团"),
                (b, "科技团"),
                (user_id(1).to_string(), "王芳"),
            ]
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect(),
        }
    }

    #[test]
    fn entries_read_who_what_when_and_what_changed_by_name() {
        let page = Page {
            items: vec![entry()],
            next: Some("c".into()),
        };
        let html = render(
            Lang::ZhCn,
            html! { <AuditTable lang={Lang::ZhCn} remote={Remote::Ready(page)} on_retry={Callback::noop()} /> },
        );
        for text in [
            "2026-11-29 09:00",
            "zhengan-admin",
            "调动团队",
            "user.move",
            "王芳",
            "所属团队：白茶团 → 科技团",
            "数据范围：白茶团 → 科技团",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(
            !html.contains("角色"),
            "unchanged keys are left out: {html}"
        );
        assert!(
            !html.contains(&app_core::testing::team_id(1).to_string()),
            "a team is shown by its name, not its ID: {html}"
        );
    }

    #[test]
    fn instants_and_yes_no_read_as_words_and_ids_without_a_name_stay() {
        let mut e = entry();
        e.action = "device.revoke".into();
        e.before = Some(serde_json::json!({ "revoked_at": null, "active": true }));
        e.after = Some(serde_json::json!({ "revoked_at": NOW.as_millis(), "active": false }));
        assert_eq!(
            change_words(&e, Lang::ZhCn),
            "账号启用：是 → 否；停用时间：（空） → 2026-11-29 09:00"
        );
        // A key absent on one side and empty on the other did not change.
        e.before = Some(serde_json::json!({ "active": true }));
        e.after = Some(serde_json::json!({ "active": false, "revoked_at": null }));
        assert_eq!(change_words(&e, Lang::ZhCn), "账号启用：是 → 否");
        e.before = None;
        e.after = None;
        let stranger = app_core::testing::user_id(7).to_string();
        e.detail = serde_json::json!({ "user": stranger, "county": "520324" });
        let words = change_words(&e, Lang::ZhCn);
        assert!(
            words.contains(&stranger) && words.contains("县：520324"),
            "{words}"
        );
    }

    #[test]
    fn filters_become_the_servers_query_in_china_days() {
        let f = AuditFilters {
            action: "user.".into(),
            from: "2026-11-29".into(),
            to: "2026-11-29".into(),
            ..AuditFilters::default()
        };
        let q = f.query(None);
        assert_eq!(q.action.as_deref(), Some("user."));
        assert_eq!(q.since, Some(Timestamp::from_millis(1_795_881_600_000)));
        assert_eq!(
            q.until,
            Some(Timestamp::from_millis(1_795_881_600_000 + 86_400_000)),
            "to is inclusive: until the next midnight"
        );
        assert_eq!(AuditFilters::default().query(None).subject, None);
        assert_eq!(
            action_words("quarantine.release", Lang::ZhCn),
            "放行隔离的修改"
        );
        assert_eq!(action_words("future.thing", Lang::ZhCn), "future.thing");
    }
}
