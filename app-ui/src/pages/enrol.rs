//! Enrolment (注册本设备): the first start, online once — server address,
//! user name, password. Afterwards sign-in works without a signal.

use app_core::api::EnrolInput;
use yew::prelude::*;

use crate::components::field::TextField;
use crate::components::notice::ErrorLine;
use crate::hooks::use_session_form;
use crate::i18n::{Key, t};
use crate::ipc;
use crate::state::AppContext;

/// The enrolment page.
#[component]
pub fn EnrolPage() -> Html {
    let state = use_context::<AppContext>().expect("EnrolPage is rendered inside App");
    let lang = state.lang;
    let input = use_state(EnrolInput::default);

    let set = |f: fn(&mut EnrolInput, String)| {
        let input = input.clone();
        Callback::from(move |v: String| {
            let mut next = (*input).clone();
            f(&mut next, v);
            input.set(next);
        })
    };
    // A real form: Enter in any field submits, as on every sign-in page.
    // `novalidate`: the browser's own checks would refuse an address such
    // as 192.168.1.10:8750 in its own words; the core checks and the page
    // explains in the user's language.
    let form = {
        let input = input.clone();
        use_session_form(move || ipc::enrol_device((*input).clone()))
    };
    let (onsubmit, busy) = (form.onsubmit, form.busy);

    html! {
        <section class="enrol narrow" data-testid="enrol-page">
            <h1 class="app-title">{ t(lang, Key::AppTitle) }</h1>
            <h2>{ t(lang, Key::EnrolTitle) }</h2>
            <p class="muted">{ t(lang, Key::EnrolIntro) }</p>
            <form class="form" novalidate=true {onsubmit}>
                <TextField {lang} label={Key::ServerAddress} hint={Key::ServerHint} kind="url" inputmode="url"
                    value={input.server.clone()} on_change={set(|i, v| i.server = v)} test_id="enrol-server" />
                <TextField {lang} label={Key::Username} value={input.username.clone()}
                    on_change={set(|i, v| i.username = v)} test_id="enrol-username" />
                <TextField {lang} label={Key::Password} kind="password" value={input.password.clone()}
                    on_change={set(|i, v| i.password = v)} test_id="enrol-password" />
                <TextField {lang} label={Key::DeviceName} value={input.device_name.clone()}
                    on_change={set(|i, v| i.device_name = v)} test_id="enrol-device" />
                if let Some(code) = form.error {
                    <ErrorLine {code} />
                }
                <button type="submit" class="primary-button" data-testid="enrol-submit" disabled={busy}>
                    { t(lang, if busy { Key::Enrolling } else { Key::EnrolButton }) }
                </button>
            </form>
        </section>
    }
}
