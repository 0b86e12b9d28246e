//! The sync state card (同步状态): online or offline in words and colour,
//! what waits to upload (records, photo bytes), the last sync, progress
//! while syncing, and a "sync now" button; when the device was revoked or
//! its enrolment expired, a password box to enrol it again in its own place
//! (its records stay and sync as before).
//!
//! [`SyncView::of`] decides what to say from the status, as plain Rust.

use app_core::sync::status::{Remedy, SyncPhase, SyncStatus};
use yew::prelude::*;

use crate::components::field::TextField;
use crate::components::icon::{Icon, IconKind};
use crate::components::new_password::{NewPasswordFields, NewPasswordStep};
use crate::components::notice::ErrorLine;
use crate::components::notices::NoticeList;
use crate::hooks::use_session_form;
use crate::i18n::{Key, Lang, Mark, t, tf};
use crate::ipc;
use crate::state::{AppContext, Connectivity};

/// What the card says.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncView {
    /// CSS class: `online`, `offline` or `syncing`.
    pub class: &'static str,
    /// The big word.
    pub state: Key,
    /// Lines under it, already in the interface language.
    pub lines: Vec<String>,
    /// Progress of the current phase, as a percentage when the total is known.
    pub percent: Option<u8>,
    /// Whether to offer enrolling the device again (revoked or expired).
    pub re_enrol: bool,
}

/// `1234567` bytes → `1.2 MB`, with the units of `lang`.
pub fn human_bytes(bytes: u64, lang: Lang) -> String {
    match bytes {
        0..=1023 => tf(lang, Mark::Bytes, bytes),
        1024..=1_048_575 => tf(lang, Mark::Kilobytes, bytes.div_ceil(1024)),
        _ => tf(
            lang,
            Mark::Megabytes,
            format!("{:.1}", bytes as f64 / 1_048_576.0),
        ),
    }
}

impl SyncView {
    /// The card for `status` (`None`: the device is not enrolled).
    pub fn of(status: Option<&SyncStatus>, connectivity: Connectivity, lang: Lang) -> SyncView {
        let Some(s) = status else {
            return SyncView {
                class: "offline",
                state: Key::SyncOffline,
                lines: vec![t(lang, Key::SyncNotEnrolled).to_owned()],
                percent: None,
                re_enrol: false,
            };
        };
        let syncing = matches!(
            s.phase,
            SyncPhase::UploadingPhotos | SyncPhase::Pushing | SyncPhase::Pulling
        );
        let online = s.online && (connectivity == Connectivity::Online || syncing);
        let (class, state) = if syncing {
            ("syncing", Key::SyncSyncing)
        } else if online {
            ("online", Key::SyncOnline)
        } else {
            ("offline", Key::SyncOffline)
        };
        let mut lines = Vec::new();
        let mut re_enrol = false;
        match s.phase {
            SyncPhase::UploadingPhotos => lines.push(t(lang, Key::SyncPhaseUploadingPhotos).into()),
            SyncPhase::Pushing => lines.push(t(lang, Key::SyncPhasePushing).into()),
            SyncPhase::Pulling => lines.push(t(lang, Key::SyncPhasePulling).into()),
            SyncPhase::Stopped => {
                let code = s.last_error.as_ref().map_or("", |e| e.code.as_str());
                // What to do comes from the core's remedy, so the card and
                // the engine agree on which stops enrolling again fixes.
                let key = match s.remedy() {
                    Some(Remedy::EnrolAgain) => match code {
                        "token_revoked" => Key::SyncStoppedRevoked,
                        "token_expired" => Key::SyncStoppedExpired,
                        _ => Key::SyncStoppedUnknown,
                    },
                    Some(Remedy::SetNewPassword) => Key::SyncStoppedPassword,
                    Some(Remedy::UpdateApp) => Key::SyncStoppedUpdate,
                    Some(Remedy::ContactAdmin) if code == "account_disabled" => {
                        Key::SyncStoppedDisabled
                    }
                    _ => Key::SyncStoppedOther,
                };
                re_enrol = matches!(
                    s.remedy(),
                    Some(Remedy::EnrolAgain | Remedy::SetNewPassword)
                );
                lines.push(t(lang, key).into());
            }
            SyncPhase::Idle | SyncPhase::Backoff => {}
        }
        if s.is_up_to_date() {
            if s.last_success.is_some() {
                lines.push(t(lang, Key::SyncUpToDate).into());
            }
        } else {
            if s.pending_records > 0 {
                lines.push(tf(lang, Key::PendingRecords, s.pending_records));
            }
            if s.pending_photo_bytes > 0 {
                lines.push(tf(
                    lang,
                    Key::PendingPhotos,
                    human_bytes(s.pending_photo_bytes, lang),
                ));
            }
        }
        if s.refused_changes > 0 {
            lines.push(tf(lang, Key::SyncRefused, s.refused_changes));
        }
        lines.push(match s.last_success {
            Some(at) => tf(lang, Key::LastSync, at),
            None => t(lang, Key::NeverSynced).to_owned(),
        });
        if !online && !syncing && s.phase != SyncPhase::Stopped {
            lines.push(t(lang, Key::SyncOfflineHint).into());
        }
        let percent = s.progress.filter(|_| syncing).and_then(|p| {
            p.total
                .filter(|&n| n > 0)
                .map(|n| (p.done.min(n) * 100 / n) as u8)
        });
        SyncView {
            class,
            state,
            lines,
            percent,
            re_enrol,
        }
    }
}

/// The card.
#[component]
pub fn SyncStatusCard() -> Html {
    let state = use_context::<AppContext>().expect("SyncStatusCard is rendered inside App");
    let lang = state.lang;
    let enrolled = state.profile().is_some();
    let view = SyncView::of(
        state.sync.as_ref().filter(|_| enrolled),
        state.connectivity,
        lang,
    );
    let s_notice_ids: Vec<i64> = state
        .sync
        .as_ref()
        .map(|s| s.notices.iter().map(|n| n.id).collect())
        .unwrap_or_default();
    let view_one_time =
        state.sync.as_ref().and_then(|s| s.remedy()) == Some(Remedy::SetNewPassword);
    let sync_now = Callback::from(|_| {
        yew::platform::spawn_local(async {
            let _ = ipc::sync_now().await;
        })
    });
    html! {
        <section class={classes!("sync-status", view.class)} data-testid="sync-status" aria-live="polite">
            <h2 class="sync-heading">{ t(lang, Key::SyncHeading) }</h2>
            <p class="sync-state">
                <span class="sync-dot" aria-hidden="true"></span>
                <strong data-testid="sync-state">{ t(lang, view.state) }</strong>
            </p>
            { for view.lines.iter().map(|line| html! { <p class="sync-hint" data-testid="sync-line">{ line.clone() }</p> }) }
            if let Some(p) = view.percent {
                <div class="progress" role="progressbar" aria-valuenow={p.to_string()} aria-valuemin="0" aria-valuemax="100">
                    <div class="progress-bar" style={format!("width: {p}%")}></div>
                </div>
            }
            if enrolled {
                <NoticeList ids={s_notice_ids} />
            }
            if enrolled && view.re_enrol {
                <ReEnrolForm one_time={view_one_time} />
            } else if enrolled {
                <button type="button" class="secondary-button" data-testid="sync-now" onclick={sync_now}>
                    <Icon kind={IconKind::Sync} />{ t(lang, Key::SyncNow) }
                </button>
            }
        </section>
    }
}

/// Properties of [`ReEnrolForm`].
#[derive(Clone, Debug, PartialEq, Properties)]
struct ReEnrolFormProps {
    /// The password is known to be one-time: ask for a new one at once.
    one_time: bool,
}

/// The password box that enrols a revoked or expired device again; with a
/// one-time password (a reset), the new password's two boxes.
#[component]
fn ReEnrolForm(props: &ReEnrolFormProps) -> Html {
    let state = use_context::<AppContext>().expect("ReEnrolForm is rendered inside App");
    let lang = state.lang;
    let password = use_state(String::new);
    let one_time = props.one_time;
    let step = use_state(move || NewPasswordStep {
        asked: one_time,
        ..NewPasswordStep::default()
    });
    let on_change = {
        let password = password.clone();
        Callback::from(move |v: String| password.set(v))
    };
    let form = {
        let (password, step) = (password.clone(), step.clone());
        use_session_form(move || {
            let (password, new_password) = ((*password).clone(), step.to_send());
            async move { ipc::re_enrol_device(password, new_password?).await }
        })
    };
    {
        let step = step.clone();
        use_effect_with(form.error.clone(), move |error| {
            let next = step.after(error.as_deref());
            if next != *step {
                step.set(next);
            }
        });
    }
    let on_step = {
        let step = step.clone();
        Callback::from(move |s: NewPasswordStep| step.set(s))
    };
    let (onsubmit, busy, asked) = (form.onsubmit, form.busy, step.asked);
    let error = form
        .error
        .filter(|c| !(asked && c == ipc::codes::PASSWORD_CHANGE_REQUIRED));
    html! {
        <form class="form re-enrol" novalidate=true {onsubmit} data-testid="re-enrol">
            <TextField {lang} label={Key::Password} kind="password" value={(*password).clone()}
                {on_change} test_id="re-enrol-password" />
            <NewPasswordFields {lang} step={(*step).clone()} on_change={on_step} test_id="re-enrol-password" />
            if let Some(code) = error {
                <ErrorLine {code} />
            }
            <button type="submit" class="primary-button" data-testid="re-enrol-submit" disabled={busy}>
                { t(lang, if busy { Key::Enrolling } else if asked { Key::SetPasswordAndEnrol } else { Key::ReEnrolButton }) }
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use app_core::domain::Timestamp;
    use app_core::sync::status::{Progress, SyncErrorInfo};

    use super::*;

    fn status() -> SyncStatus {
        SyncStatus::default()
    }

    #[test]
    fn offline_with_pending_work_says_what_waits() {
        let s = SyncStatus {
            pending_records: 2,
            pending_changes: 3,
            pending_photo_bytes: 300 * 1024,
            ..status()
        };
        let v = SyncView::of(Some(&s), Connectivity::Offline, Lang::ZhCn);
        assert_eq!((v.class, v.state), ("offline", Key::SyncOffline));
        assert!(
            v.lines.contains(&"待上传 2 条记录".to_owned()),
            "{:?}",
            v.lines
        );
        assert!(
            v.lines.contains(&"照片 300 KB 待上传".to_owned()),
            "{:?}",
            v.lines
        );
        assert!(v.lines.contains(&"尚未同步".to_owned()));
    }

    #[test]
    fn online_and_up_to_date_shows_the_last_sync() {
        let s = SyncStatus {
            online: true,
            last_success: Some(Timestamp::from_millis(1_795_914_000_000)),
            ..status()
        };
        let v = SyncView::of(Some(&s), Connectivity::Online, Lang::ZhCn);
        assert_eq!(v.state, Key::SyncOnline);
        assert!(v.lines.contains(&"全部已上传".to_owned()));
        assert!(
            v.lines.contains(&"上次同步：2026-11-29 09:00".to_owned()),
            "{:?}",
            v.lines
        );
    }

    #[test]
    fn a_server_that_did_not_answer_is_offline_even_with_a_network() {
        let s = SyncStatus {
            online: false,
            ..status()
        };
        assert_eq!(
            SyncView::of(Some(&s), Connectivity::Online, Lang::ZhCn).state,
            Key::SyncOffline
        );
    }

    #[test]
    fn syncing_shows_the_phase_and_a_percentage() {
        let s = SyncStatus {
            online: true,
            phase: SyncPhase::UploadingPhotos,
            progress: Some(Progress {
                done: 50,
                total: Some(200),
            }),
            pending_photo_bytes: 150,
            ..status()
        };
        let v = SyncView::of(Some(&s), Connectivity::Online, Lang::En);
        assert_eq!(v.state, Key::SyncSyncing);
        assert_eq!(v.percent, Some(25));
        assert!(v.lines.contains(&"Uploading photos".to_owned()));
    }

    #[test]
    fn a_revoked_device_says_so() {
        let s = SyncStatus {
            phase: SyncPhase::Stopped,
            last_error: Some(SyncErrorInfo {
                code: "token_revoked".into(),
                retryable: false,
                at: Timestamp::from_millis(0),
            }),
            ..status()
        };
        let v = SyncView::of(Some(&s), Connectivity::Online, Lang::ZhCn);
        assert!(
            v.lines
                .contains(&t(Lang::ZhCn, Key::SyncStoppedRevoked).to_owned()),
            "{:?}",
            v.lines
        );
        assert!(v.re_enrol, "a revoked device is offered enrolling again");
        let other = SyncStatus {
            last_error: Some(SyncErrorInfo {
                code: "sync.protocol".into(),
                retryable: false,
                at: Timestamp::from_millis(0),
            }),
            ..s
        };
        assert!(!SyncView::of(Some(&other), Connectivity::Online, Lang::ZhCn).re_enrol);
    }

    #[test]
    fn the_card_offers_enrolling_again_instead_of_sync_now_when_revoked() {
        let mut state = crate::testing::signed_in(Lang::ZhCn);
        state.sync = Some(SyncStatus {
            phase: SyncPhase::Stopped,
            pending_records: 3,
            pending_changes: 4,
            last_error: Some(SyncErrorInfo {
                code: "token_revoked".into(),
                retryable: false,
                at: Timestamp::from_millis(0),
            }),
            ..status()
        });
        let html = crate::testing::render(state.clone(), html! { <SyncStatusCard /> });
        assert!(html.contains("data-testid=\"re-enrol-password\""), "{html}");
        assert!(html.contains("重新注册本设备"), "{html}");
        assert!(!html.contains("data-testid=\"sync-now\""), "{html}");
        assert!(html.contains("待上传 3 条记录"), "{html}");

        state.sync = Some(status());
        let html = crate::testing::render(state, html! { <SyncStatusCard /> });
        assert!(!html.contains("re-enrol"), "{html}");
        assert!(html.contains("data-testid=\"sync-now\""), "{html}");
    }

    #[test]
    fn bytes_read_like_a_phone_shows_them() {
        assert_eq!(human_bytes(512, Lang::ZhCn), "512 B");
        assert_eq!(human_bytes(250 * 1024, Lang::En), "250 KB");
        assert_eq!(human_bytes(3 * 1_048_576 + 100_000, Lang::ZhCn), "3.1 MB");
    }
}
