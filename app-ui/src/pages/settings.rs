//! Settings (设置): language, the account and its team, the server and this
//! device, the app's version and data directory, and signing out.

use yew::prelude::*;

use crate::components::about::About;
use crate::components::lang_switch::switch_to;
use crate::components::page_header::PageHeader;
use crate::i18n::labels::Label;
use crate::i18n::{Key, Lang, t};
use crate::ipc;
use crate::state::{Action, AppContext};

/// The settings page.
#[component]
pub fn SettingsPage() -> Html {
    let state = use_context::<AppContext>().expect("SettingsPage is rendered inside App");
    let lang = state.lang;
    let switch = switch_to(&state);
    let sign_out = {
        let state = state.clone();
        Callback::from(move |_| {
            let state = state.clone();
            yew::platform::spawn_local(async move {
                let result = ipc::sign_out().await;
                state.dispatch(Action::SessionLoaded(result));
            });
        })
    };
    let profile = state.profile().cloned();
    let lead = state.is_lead();
    let prefetch = crate::hooks::use_fetch(lead, |lead| async move {
        if lead {
            ipc::get_prefetch_setting().await.map(Some)
        } else {
            Ok(None)
        }
    });
    let prefetch_now = match &*prefetch {
        crate::state::Remote::Ready(Some(p)) => Some(*p),
        _ => None,
    };
    let shown_prefetch = use_state(|| None::<app_core::api::PrefetchSetting>);
    let setting = (*shown_prefetch).or(prefetch_now);
    let on_prefetch = {
        let shown = shown_prefetch.clone();
        Callback::from(move |e: Event| {
            use yew::TargetCast;
            let on = e
                .target_dyn_into::<web_sys::HtmlInputElement>()
                .is_some_and(|i| i.checked());
            let shown = shown.clone();
            yew::platform::spawn_local(async move {
                if let Ok(p) = ipc::set_prefetch_setting(on).await {
                    shown.set(Some(p));
                }
            });
        })
    };
    html! {
        <section class="settings" data-testid="settings-page">
            <PageHeader title={t(lang, Key::SettingsTitle)} />
            <h2>{ t(lang, Key::Language) }</h2>
            <div class="chips">
                { for Lang::ALL.into_iter().map(|l| {
                    let switch = switch.clone();
                    html! {
                        <button type="button" lang={l.tag()} data-testid={format!("lang-{}", l.tag())}
                            class={classes!("chip", (l == lang).then_some("chosen"))}
                            onclick={Callback::from(move |_| switch.emit(l))}>
                            { l.native_name() }
                        </button>
                    }
                }) }
            </div>
            if let Some(p) = profile {
                <h2>{ t(lang, Key::Account) }</h2>
                <dl class="facts">
                    <dt>{ t(lang, Key::Username) }</dt>
                    <dd data-testid="settings-user">{ format!("{} ({})", p.display_name, p.username) }</dd>
                    <dt>{ t(lang, Key::Role) }</dt><dd>{ p.role.label(lang) }</dd>
                    if let Some(team) = p.team_name {
                        <dt>{ t(lang, Key::Team) }</dt><dd>{ team }</dd>
                    }
                    if let Some(county) = p.county_name {
                        <dt>{ t(lang, Key::County) }</dt><dd>{ county }</dd>
                    }
                    <dt>{ t(lang, Key::Server) }</dt><dd class="path" data-testid="settings-server">{ p.server }</dd>
                    <dt>{ t(lang, Key::Device) }</dt><dd class="path">{ p.device.to_string() }</dd>
                </dl>
            }
            if let Some(p) = setting {
                <h2>{ t(lang, Key::PrefetchTitle) }</h2>
                <label class="check" data-testid="prefetch">
                    <input type="checkbox" checked={p.enabled} onchange={on_prefetch} data-testid="prefetch-toggle" />
                    <span>{ t(lang, Key::PrefetchLabel) }</span>
                </label>
                if !p.unmetered {
                    <p class="muted small">{ t(lang, Key::PrefetchMetered) }</p>
                }
            }
            <h2>{ t(lang, Key::AboutApp) }</h2>
            <About />
            <button type="button" class="danger-button" data-testid="sign-out" onclick={sign_out}>
                { t(lang, Key::SignOut) }
            </button>
        </section>
    }
}
