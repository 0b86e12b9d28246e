//! What a sync admin decided about this device's refused changes (管理员的
//! 处理结果), on the sync card: a released change (uploaded now), a change
//! still refused after a new check, or a discarded one with the admin's
//! reason, the record it concerns, and the later edits of it on this
//! device that were lost with it. Each is dismissed once read.
//!
//! [`NoticeLines::of`] decides the words from a notice, as plain Rust.

use app_core::api::{NoticeView, RecordBrief};
use app_core::domain::RecordKind;
use app_core::sync::protocol::NoticeKind;
use yew::prelude::*;

use crate::i18n::{Key, Lang, t, tf};
use crate::ipc;
use crate::state::{AppContext, Remote};

/// The words of one notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeLines {
    /// `released`, `refused` or `discarded` (a CSS class).
    pub class: &'static str,
    /// The main line, naming the record.
    pub main: String,
    /// Why, and what else happened, one line each.
    pub details: Vec<String>,
}

/// A record in words: `服务日志 2026-11-29 北苑社区「茶园修剪…」`.
pub fn record_words(record: Option<&RecordBrief>, lang: Lang) -> String {
    let Some(r) = record else {
        return t(lang, Key::NoticeSomeRecord).to_owned();
    };
    let kind = t(
        lang,
        match r.kind {
            RecordKind::ServiceLog => Key::AdmKindLog,
            RecordKind::Consultation => Key::AdmKindConsultation,
        },
    );
    let mut words = format!("{kind} {}", r.date);
    if let Some(v) = &r.village_name {
        words.push(' ');
        words.push_str(v);
    }
    if !r.summary.is_empty() {
        words.push_str(&format!(" “{}”", r.summary));
    }
    words
}

impl NoticeLines {
    /// The words for `view` in `lang`.
    pub fn of(view: &NoticeView, lang: Lang) -> NoticeLines {
        let n = &view.notice;
        let record = record_words(view.record.as_ref(), lang);
        let mut details = Vec::new();
        let (class, main) = match n.kind {
            NoticeKind::Released => ("released", tf(lang, Key::NoticeReleased, record)),
            NoticeKind::Refused => {
                details.push(tf(lang, Key::NoticeReason, &n.reason));
                ("refused", tf(lang, Key::NoticeRefusedAgain, record))
            }
            NoticeKind::Discarded => {
                details.push(tf(lang, Key::NoticeReason, &n.reason));
                if view.lost_edits > 0 {
                    details.push(tf(lang, Key::NoticeLostEdits, view.lost_edits));
                }
                if view.record.is_none() {
                    details.push(t(lang, Key::NoticeRecordGone).to_owned());
                }
                ("discarded", tf(lang, Key::NoticeDiscarded, record))
            }
        };
        NoticeLines {
            class,
            main,
            details,
        }
    }
}

/// Properties of [`NoticeList`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct NoticeListProps {
    /// The IDs of the notices the sync status holds: the list is read again
    /// when they change.
    pub ids: Vec<i64>,
}

/// The notices, newest first, each with a "got it" button.
#[component]
pub fn NoticeList(props: &NoticeListProps) -> Html {
    let state = use_context::<AppContext>().expect("NoticeList is rendered inside App");
    let lang = state.lang;
    let list = crate::hooks::use_fetch(props.ids.clone(), |_| ipc::admin::list_notices());
    let Remote::Ready(notices) = &*list else {
        return html! {};
    };
    html! { <NoticeListView {lang} notices={notices.clone()} on_dismiss={{
        let list = list.clone();
        Callback::from(move |id: i64| {
            let list = list.clone();
            yew::platform::spawn_local(async move {
                if let Ok(left) = ipc::admin::dismiss_notice(id).await {
                    list.set(Remote::Ready(left));
                }
            });
        })
    }} /> }
}

/// Properties of [`NoticeListView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct NoticeListViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The notices, newest first.
    pub notices: Vec<NoticeView>,
    /// Called with a notice's ID when it is dismissed.
    pub on_dismiss: Callback<i64>,
}

/// The notices as plain props (what tests render).
#[component]
pub fn NoticeListView(props: &NoticeListViewProps) -> Html {
    if props.notices.is_empty() {
        return html! {};
    }
    let lang = props.lang;
    html! {
        <div class="device-notices" data-testid="device-notices">
            <h3>{ t(lang, Key::NoticesTitle) }</h3>
            { for props.notices.iter().map(|v| {
                let lines = NoticeLines::of(v, lang);
                let id = v.notice.id;
                let dismiss = props.on_dismiss.reform(move |_| id);
                html! {
                    <div class={classes!("device-notice", lines.class)} data-testid="device-notice">
                        <p class="device-notice-main">{ lines.main }</p>
                        { for lines.details.into_iter().map(|d| html! { <p class="device-notice-detail">{ d }</p> }) }
                        <button type="button" class="link-button" data-testid="notice-dismiss" onclick={dismiss}>
                            { t(lang, Key::NoticeDismiss) }
                        </button>
                    </div>
                }
            }) }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use app_core::domain::Timestamp;
    use app_core::sync::protocol::Notice;

    use super::*;

    fn view(kind: NoticeKind, record: bool, lost: u64) -> NoticeView {
        NoticeView {
            notice: Notice {
                id: 3,
                doc: "0192f000-0000-7000-8000-0000000000e1".parse().unwrap(),
                hash: Some("00".repeat(32)),
                kind,
                code: kind.as_str().into(),
                reason: "村填错了，请重新录入".into(),
                at: Timestamp::from_millis(1_795_914_000_000),
            },
            record: record.then(|| RecordBrief {
                kind: RecordKind::ServiceLog,
                date: "2026-11-29".parse().unwrap(),
                village_name: Some("北苑社区".into()),
                summary: "茶园修剪".into(),
            }),
            lost_edits: lost,
        }
    }

    #[test]
    fn a_discard_names_the_record_the_reason_and_what_was_lost() {
        let lines = NoticeLines::of(&view(NoticeKind::Discarded, true, 2), Lang::ZhCn);
        assert_eq!(lines.class, "discarded");
        assert_eq!(
            lines.main,
            "管理员放弃了您对这条记录的修改：服务日志 2026-11-29 北苑社区 “茶园修剪”"
        );
        assert_eq!(lines.details[0], "原因：村填错了，请重新录入");
        assert!(
            lines.details[1].starts_with("之后在本机对它的 2 处修改"),
            "{lines:?}"
        );
        let gone = NoticeLines::of(&view(NoticeKind::Discarded, false, 0), Lang::En);
        assert!(gone.main.ends_with("a record"), "{gone:?}");
        assert_eq!(gone.details.len(), 2, "reason, and the record is gone");
        let released = NoticeLines::of(&view(NoticeKind::Released, true, 0), Lang::ZhCn);
        assert!(released.main.starts_with("管理员已放行"));
        assert!(released.details.is_empty());
    }

    #[test]
    fn the_list_renders_each_notice_with_a_dismiss_button() {
        let html = crate::testing::render(
            crate::testing::signed_in(Lang::ZhCn),
            html! { <NoticeListView lang={Lang::ZhCn}
            notices={vec![view(NoticeKind::Discarded, true, 1), view(NoticeKind::Released, true, 0)]}
            on_dismiss={Callback::noop()} /> },
        );
        assert!(html.contains("管理员的处理结果"), "{html}");
        assert_eq!(html.matches("data-testid=\"notice-dismiss\"").count(), 2);
        assert!(html.contains("原因：村填错了"));
    }
}
