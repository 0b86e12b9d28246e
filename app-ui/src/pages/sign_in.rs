//! Sign-in (登录): the enrolled user's name and a password box, checked on
//! the device against the hash kept at enrolment, with no network.

use yew::prelude::*;

use crate::components::field::TextField;
use crate::components::notice::ErrorLine;
use crate::i18n::{Key, t, tf};
use crate::ipc;
use crate::state::{Action, AppContext};

/// The sign-in page.
#[component]
pub fn SignInPage() -> Html {
    let state = use_context::<AppContext>().expect("SignInPage is rendered inside App");
    let lang = state.lang;
    let password = use_state(String::new);
    let error = use_state(|| None::<String>);
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
    let onsubmit = {
        let (password, error, state) = (password.clone(), error.clone(), state.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (pw, error, state) = ((*password).clone(), error.clone(), state.clone());
            yew::platform::spawn_local(async move {
                match ipc::sign_in(pw).await {
                    Ok(session) => state.dispatch(Action::SessionLoaded(Ok(session))),
                    Err(e) => error.set(Some(e.code)),
                }
            });
        })
    };
    html! {
        <section class="sign-in narrow" data-testid="sign-in-page">
            <h1 class="app-title">{ t(lang, Key::AppTitle) }</h1>
            <h2 data-testid="sign-in-greeting">{ tf(lang, Key::SignInGreeting, name) }</h2>
            <p class="muted">{ t(lang, Key::SignInOffline) }</p>
            <form class="form" novalidate=true {onsubmit}>
                <TextField {lang} label={Key::Password} kind="password" value={(*password).clone()}
                    {on_change} test_id="sign-in-password" />
                if let Some(code) = (*error).clone() {
                    <ErrorLine {code} />
                }
                <button type="submit" class="primary-button" data-testid="sign-in-submit">
                    { t(lang, Key::SignInButton) }
                </button>
            </form>
        </section>
    }
}
