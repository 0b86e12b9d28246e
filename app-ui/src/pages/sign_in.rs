//! Sign-in (登录): the enrolled user's name and a password box, checked on
//! the device against the hash kept at enrolment, with no network.

use yew::prelude::*;

use crate::components::field::TextField;
use crate::components::notice::ErrorLine;
use crate::hooks::use_session_form;
use crate::i18n::{Key, t, tf};
use crate::ipc;
use crate::state::AppContext;

/// The sign-in page.
#[component]
pub fn SignInPage() -> Html {
    let state = use_context::<AppContext>().expect("SignInPage is rendered inside App");
    let lang = state.lang;
    let password = use_state(String::new);
    let name = match &state.session {
        crate::state::Remote::Ready(s) => s
            .profile
            .as_ref()
            .map(|p| p.display_name.clone())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let on_change = {
        let password = password.clone();
        Callback::from(move |v: String| password.set(v))
    };
    // A real form: Enter in any field submits, as on every sign-in page.
    // `novalidate`: the browser's own checks would refuse an address such
    // as 192.168.1.10:8750 in its own words; the core checks and the page
    // explains in the user's language.
    let form = {
        let password = password.clone();
        use_session_form(move || ipc::sign_in((*password).clone()))
    };
    let onsubmit = form.onsubmit;
    html! {
        <section class="sign-in narrow" data-testid="sign-in-page">
            <h1 class="app-title">{ t(lang, Key::AppTitle) }</h1>
            <h2 data-testid="sign-in-greeting">{ tf(lang, Key::SignInGreeting, name) }</h2>
            <p class="muted">{ t(lang, Key::SignInOffline) }</p>
            <form class="form" novalidate=true {onsubmit}>
                <TextField {lang} label={Key::Password} kind="password" value={(*password).clone()}
                    {on_change} test_id="sign-in-password" />
                if let Some(code) = form.error {
                    <ErrorLine {code} />
                }
                <button type="submit" class="primary-button" data-testid="sign-in-submit" disabled={form.busy}>
                    { t(lang, Key::SignInButton) }
                </button>
            </form>
        </section>
    }
}
