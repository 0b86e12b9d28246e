//! Enrolment (注册本设备): the first start, online once — server address,
//! user name, password. Afterwards sign-in works without a signal. A
//! one-time password from a sync admin (a new account, a reset) is
//! answered with a request for a new password, set before enrolling.

use app_core::api::EnrolInput;
use yew::prelude::*;

use crate::components::field::TextField;
use crate::components::new_password::{NewPasswordFields, NewPasswordStep};
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
    let step = use_state(NewPasswordStep::default);
    let form = {
        let (input, step) = (input.clone(), step.clone());
        use_session_form(move || {
            let (input, new_password) = ((*input).clone(), step.to_send());
            async move {
                ipc::enrol_device(EnrolInput {
                    new_password: new_password?,
                    ..input
                })
                .await
            }
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
    let (onsubmit, busy) = (form.onsubmit, form.busy);
    let asked = step.asked;
    // Once the new password is asked for, the server's request is not an
    // error to show: the boxes below say what to do.
    let error = form
        .error
        .filter(|c| !(asked && c == ipc::codes::PASSWORD_CHANGE_REQUIRED));

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
                <NewPasswordFields {lang} step={(*step).clone()} on_change={on_step} test_id="enrol-password" />
                if let Some(code) = error {
                    <ErrorLine {code} />
                }
                <button type="submit" class="primary-button" data-testid="enrol-submit" disabled={busy}>
                    { t(lang, if busy { Key::Enrolling } else if asked { Key::SetPasswordAndEnrol } else { Key::EnrolButton }) }
                </button>
            </form>
        </section>
    }
}
