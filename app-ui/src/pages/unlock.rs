//! Unlock (解锁): the device's store is encrypted and locked (at each start
//! on a desktop, and after the device learned it was revoked); the password
//! opens it, checked on the device with no network.

use yew::prelude::*;

use crate::components::field::TextField;
use crate::components::notice::ErrorLine;
use crate::hooks::use_session_form;
use crate::i18n::{Key, t};
use crate::ipc;
use crate::state::AppContext;

/// The unlock page.
#[component]
pub fn UnlockPage() -> Html {
    let state = use_context::<AppContext>().expect("UnlockPage is rendered inside App");
    let lang = state.lang;
    let password = use_state(String::new);
    let on_change = {
        let password = password.clone();
        Callback::from(move |v: String| password.set(v))
    };
    let form = {
        let password = password.clone();
        use_session_form(move || ipc::unlock((*password).clone()))
    };
    let onsubmit = form.onsubmit;
    html! {
        <section class="sign-in narrow" data-testid="unlock-page">
            <h1 class="app-title">{ t(lang, Key::AppTitle) }</h1>
            <h2>{ t(lang, Key::UnlockTitle) }</h2>
            <p class="muted">{ t(lang, Key::UnlockIntro) }</p>
            <form class="form" novalidate=true {onsubmit}>
                <TextField {lang} label={Key::Password} kind="password" value={(*password).clone()}
                    {on_change} test_id="unlock-password" />
                if let Some(code) = form.error {
                    <ErrorLine {code} />
                }
                <button type="submit" class="primary-button" data-testid="unlock-submit" disabled={form.busy}>
                    { if form.busy { t(lang, Key::Unlocking) } else { t(lang, Key::UnlockButton) } }
                </button>
            </form>
        </section>
    }
}
