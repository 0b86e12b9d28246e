//! Devices and sync health (设备): every device of the area with its user,
//! name, platform, app version, last contact, last push and pull, what it
//! still holds unsent (size, oldest waiting change), and the flags the
//! core defines (`app_core::admin::DeviceFlags`): silent for more than 7
//! days, a growing backlog. Revoking asks first; the device's user then
//! sees what to do (enrol again with their password; nothing is lost).

use app_core::admin::{DeviceFlag, DeviceQuery, DeviceState, DeviceView, Page};
use app_core::domain::{DeviceId, TeamId, Timestamp};
use yew::prelude::*;

use super::common::{ConfirmBar, PAGE_SIZE, Pager, ago, ready_page, span_words, use_paged};
use super::{ConsoleAction, ConsoleContext};
use crate::components::field::event_value;
use crate::components::notice::ErrorLine;
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc::{self, IpcError};
use crate::state::{AppContext, Remote};

/// The list's filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceFilters {
    /// Active or revoked (all when none).
    pub state: Option<DeviceState>,
    /// Only flagged devices.
    pub flagged: bool,
    /// Devices of this team's users.
    pub team: Option<TeamId>,
}

impl Default for DeviceFilters {
    fn default() -> Self {
        DeviceFilters {
            state: Some(DeviceState::Active),
            flagged: false,
            team: None,
        }
    }
}

/// The devices screen.
#[component]
pub fn DevicesSection() -> Html {
    let app = use_context::<AppContext>().expect("inside App");
    let console = use_context::<ConsoleContext>().expect("inside the console");
    let lang = app.lang;
    let filters = use_state(DeviceFilters::default);
    let result = use_state(|| None::<Result<DeviceId, IpcError>>);
    let paged = use_paged(
        ((*filters).clone(), console.revision),
        |(f, _): (DeviceFilters, u32), cursor| {
            ipc::admin::list_devices(DeviceQuery {
                state: f.state,
                flag: f.flagged.then_some(DeviceFlag::Any),
                team: f.team,
                cursor,
                limit: Some(PAGE_SIZE),
                ..DeviceQuery::default()
            })
        },
    );
    let on_revoke = {
        let (console, result) = (console.clone(), result.clone());
        Callback::from(move |id: DeviceId| {
            let (console, result) = (console.clone(), result.clone());
            yew::platform::spawn_local(async move {
                match ipc::admin::revoke_device(id).await {
                    Ok(_) => {
                        result.set(Some(Ok(id)));
                        console.dispatch(ConsoleAction::Changed);
                    }
                    Err(e) => result.set(Some(Err(e))),
                }
            });
        })
    };
    let set_state = {
        let filters = filters.clone();
        Callback::from(move |e: Event| {
            filters.set(DeviceFilters {
                state: match event_value(&e).as_str() {
                    "active" => Some(DeviceState::Active),
                    "revoked" => Some(DeviceState::Revoked),
                    _ => None,
                },
                ..(*filters).clone()
            })
        })
    };
    let set_team = {
        let filters = filters.clone();
        Callback::from(move |e: Event| {
            filters.set(DeviceFilters {
                team: event_value(&e).parse().ok(),
                ..(*filters).clone()
            })
        })
    };
    let toggle_flagged = {
        let filters = filters.clone();
        Callback::from(move |_: Event| {
            filters.set(DeviceFilters {
                flagged: !filters.flagged,
                ..(*filters).clone()
            })
        })
    };
    let state_value = match filters.state {
        Some(DeviceState::Active) => "active",
        Some(DeviceState::Revoked) => "revoked",
        None => "",
    };
    html! {
        <div class="console-page" data-testid="devices-section">
            <div class="filters">
                <label class="filter">
                    <span>{ t(lang, Key::AdmColState) }</span>
                    <select data-testid="filter-device-state" onchange={set_state}>
                        { for [("active", Key::AdmStateActive), ("revoked", Key::AdmStateRevoked), ("", Key::AdmAll)]
                            .into_iter().map(|(v, k)| html! { <option value={v} selected={state_value == v}>{ t(lang, k) }</option> }) }
                    </select>
                </label>
                <label class="filter">
                    <span>{ t(lang, Key::AdmColTeam) }</span>
                    <select data-testid="filter-device-team" onchange={set_team}>
                        <option value="" selected={filters.team.is_none()}>{ t(lang, Key::AdmAll) }</option>
                        { for console.teams.iter().map(|tv| html! {
                            <option value={tv.team.id.to_string()} selected={filters.team == Some(tv.team.id)}>{ tv.team.name.clone() }</option>
                        }) }
                    </select>
                </label>
                <label class="check filter-check">
                    <input type="checkbox" data-testid="filter-flagged" checked={filters.flagged} onchange={toggle_flagged} />
                    <span>{ t(lang, Key::AdmFlaggedOnly) }</span>
                </label>
            </div>
            { match &*result {
                Some(Ok(_)) => html! { <p class="ok-box" data-testid="revoke-done">{ t(lang, Key::AdmRevokeDone) }</p> },
                Some(Err(e)) => html! { <ErrorLine code={e.code.clone()} /> },
                None => html! {},
            } }
            <DeviceTable {lang} now={console.now} remote={paged.remote.clone()} {on_revoke} on_retry={paged.reload.clone()} />
            if let Remote::Ready(page) = &paged.remote {
                <Pager {lang} number={paged.number} count={page.items.len()} has_next={page.next.is_some()}
                    on_prev={paged.prev.clone()} on_next={paged.next.clone()} />
            }
        </div>
    }
}

/// Properties of [`DeviceTable`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct DeviceTableProps {
    /// Interface language.
    pub lang: Lang,
    /// The time, for ages.
    pub now: Option<Timestamp>,
    /// The page.
    pub remote: Remote<Page<DeviceView>>,
    /// Revokes a device (after the confirmation).
    pub on_revoke: Callback<DeviceId>,
    /// Try again after a failure.
    pub on_retry: Callback<()>,
}

/// The devices, one row each, with their health and flags.
#[component]
pub fn DeviceTable(props: &DeviceTableProps) -> Html {
    let lang = props.lang;
    let confirming = use_state(|| None::<DeviceId>);
    let page = match ready_page(&props.remote, lang, &props.on_retry) {
        Ok(page) => page,
        Err(shown) => return shown,
    };
    let since = |at: Option<Timestamp>| match (at, props.now) {
        (Some(at), Some(now)) => ago(now, at, lang),
        (Some(at), None) => at.to_string(),
        (None, _) => t(lang, Key::AdmNever).to_owned(),
    };
    html! {
        <table class="console-table devices" data-testid="device-table">
            <thead><tr>
                <th>{ t(lang, Key::AdmColUser) }</th>
                <th>{ t(lang, Key::AdmColName) }</th>
                <th>{ t(lang, Key::AdmColVersion) }</th>
                <th>{ t(lang, Key::AdmColLastSeen) }</th>
                <th>{ t(lang, Key::AdmColLastPush) }</th>
                <th>{ t(lang, Key::AdmColLastPull) }</th>
                <th>{ t(lang, Key::AdmColBacklog) }</th>
                <th>{ t(lang, Key::AdmColFlags) }</th>
                <th></th>
            </tr></thead>
            <tbody>
            { for page.items.iter().map(|d| {
                let id = d.id;
                let ask = {
                    let confirming = confirming.clone();
                    Callback::from(move |_: MouseEvent| confirming.set(Some(id)))
                };
                let flagged = d.flags.silent || d.flags.growing_backlog;
                let backlog = match &d.backlog {
                    Some(b) if b.changes > 0 => {
                        let mut s = tf(lang, Key::AdmBacklog, b.changes);
                        if let (Some(oldest), Some(now)) = (b.oldest_at, props.now) {
                            s.push_str(" · ");
                            s.push_str(&tf(lang, Key::AdmOldestWaiting, span_words(now.millis_since(oldest), lang)));
                        }
                        s
                    }
                    Some(_) => "0".to_owned(),
                    None => "—".to_owned(),
                };
                html! {
                    <>
                    <tr class={classes!(flagged.then_some("flagged"), d.revoked_at.is_some().then_some("revoked"))} data-testid="device-row">
                        <td><strong>{ d.display_name.clone() }</strong><div class="row-sub">{ d.username.clone() }</div></td>
                        <td>{ d.name.clone() }<div class="row-sub">{ d.platform.clone() }</div></td>
                        <td>{ d.app_version.clone().unwrap_or_else(|| "—".into()) }</td>
                        <td>{ since(Some(d.last_seen_at)) }</td>
                        <td>{ since(d.last_push_at) }</td>
                        <td>{ since(d.last_pull_at) }</td>
                        <td data-testid="device-backlog">{ backlog }
                            if d.notices_pending > 0 { <div class="row-sub">{ tf(lang, Key::AdmNoticesWaiting, d.notices_pending) }</div> }</td>
                        <td class="flags">
                            if d.flags.silent { <span class="flag warn" data-testid="flag-silent">{ t(lang, Key::AdmFlagSilent) }</span> }
                            if d.flags.growing_backlog { <span class="flag warn" data-testid="flag-backlog">{ t(lang, Key::AdmFlagBacklog) }</span> }
                            if let Some(at) = d.revoked_at { <span class="flag" data-testid="flag-revoked">{ tf(lang, Key::AdmRevokedOn, at) }</span> }
                        </td>
                        <td>
                            if d.revoked_at.is_none() {
                                <button type="button" class="ghost-button danger-text" data-testid="revoke" onclick={ask}>{ t(lang, Key::AdmRevoke) }</button>
                            }
                        </td>
                    </tr>
                    if *confirming == Some(id) {
                        <tr class="confirm-row"><td colspan="9">
                            <ConfirmBar {lang} question={tf(lang, Key::AdmRevokeConfirm, format!("{} · {}", d.display_name, d.name))}
                                confirm={Key::AdmRevoke} test_id="revoke-confirm"
                                on_confirm={{
                                    let (cb, confirming) = (props.on_revoke.clone(), confirming.clone());
                                    Callback::from(move |_| { confirming.set(None); cb.emit(id); })
                                }}
                                on_cancel={{
                                    let confirming = confirming.clone();
                                    Callback::from(move |_| confirming.set(None))
                                }} />
                        </td></tr>
                    }
                    </>
                }
            }) }
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use app_core::admin::{Backlog, DeviceFlags};
    use app_core::testing::{device_id, user_id};

    use super::super::testing::{NOW, render};
    use super::*;

    const DAY: i64 = 24 * 60 * 60 * 1000;

    fn device(silent: bool, growing: bool) -> DeviceView {
        DeviceView {
            id: device_id(1),
            user: user_id(1),
            username: "zhengan-zhang".into(),
            display_name: "张三".into(),
            name: "张三的手机".into(),
            platform: "android".into(),
            app_version: Some("0.1.0".into()),
            created_at: NOW.add_millis(-30 * DAY),
            last_seen_at: NOW.add_millis(if silent { -9 * DAY } else { -3_600_000 }),
            last_push_at: Some(NOW.add_millis(-9 * DAY)),
            last_pull_at: None,
            backlog: Some(Backlog {
                changes: 12,
                oldest_at: Some(NOW.add_millis(-4 * DAY)),
                reported_at: NOW,
                rises: 3,
                growing,
            }),
            revoked_at: None,
            notices_pending: 1,
            flags: DeviceFlags {
                silent,
                growing_backlog: growing,
            },
        }
    }

    #[test]
    fn each_device_shows_its_health_and_its_flags() {
        let page = Page {
            items: vec![device(true, true)],
            next: None,
        };
        let html = render(
            Lang::ZhCn,
            html! { <DeviceTable lang={Lang::ZhCn} now={Some(NOW)} remote={Remote::Ready(page)}
            on_revoke={Callback::noop()} on_retry={Callback::noop()} /> },
        );
        for text in [
            "张三",
            "张三的手机",
            "android",
            "0.1.0",
            "9 天前",
            "从未",
            "12 处修改 · 最早的已等 4 天",
            "超过 7 天未联系",
            "待上传在增加",
            "1 条通知未取",
            "停用",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        let calm = Page {
            items: vec![device(false, false)],
            next: None,
        };
        let html = render(
            Lang::ZhCn,
            html! { <DeviceTable lang={Lang::ZhCn} now={Some(NOW)} remote={Remote::Ready(calm)}
            on_revoke={Callback::noop()} on_retry={Callback::noop()} /> },
        );
        assert!(
            !html.contains("flag-silent") && !html.contains("flag-backlog"),
            "{html}"
        );
    }

    #[test]
    fn the_table_says_when_the_server_cannot_be_reached() {
        let html = render(
            Lang::ZhCn,
            html! { <DeviceTable lang={Lang::ZhCn} now={Some(NOW)}
            remote={Remote::Failed(IpcError::new("sync.network", "x"))}
            on_revoke={Callback::noop()} on_retry={Callback::noop()} /> },
        );
        assert!(html.contains("连不上同步服务器"), "{html}");
    }
}
