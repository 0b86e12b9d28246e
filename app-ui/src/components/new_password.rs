//! The new-password step of enrolling with a one-time password: a sync
//! admin's new account or reset gives a password that only sets a new one
//! (the server answers `password_change_required`), so the form asks for a
//! new password twice, and the shell sets it before enrolling with it.
//!
//! [`NewPasswordStep`] holds the state a form needs; [`NewPasswordFields`]
//! shows the two boxes.

use yew::prelude::*;

use crate::components::field::TextField;
use crate::i18n::{Key, Lang, t};
use crate::ipc::{self, IpcError};

/// What the form knows about the new-password step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewPasswordStep {
    /// The server said the password is one-time: ask for a new one.
    pub asked: bool,
    /// The new password.
    pub new: String,
    /// It again.
    pub repeat: String,
}

impl NewPasswordStep {
    /// After an answer with `error` code: the step is asked for once the
    /// server says so, and stays asked (a weak new password is another
    /// error of the same step).
    pub fn after(&self, error: Option<&str>) -> NewPasswordStep {
        NewPasswordStep {
            asked: self.asked || error == Some(ipc::codes::PASSWORD_CHANGE_REQUIRED),
            ..self.clone()
        }
    }

    /// The new password to send, `None` before the step is asked, or the
    /// form's own error when the two boxes differ.
    pub fn to_send(&self) -> Result<Option<String>, IpcError> {
        if !self.asked {
            return Ok(None);
        }
        if self.new != self.repeat {
            return Err(IpcError::new(
                ipc::codes::PASSWORDS_DIFFER,
                "the new passwords differ",
            ));
        }
        Ok(Some(self.new.clone()))
    }
}

/// Properties of [`NewPasswordFields`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct NewPasswordFieldsProps {
    /// Interface language.
    pub lang: Lang,
    /// The step.
    pub step: NewPasswordStep,
    /// Called with the changed step.
    pub on_change: Callback<NewPasswordStep>,
    /// `data-testid` prefix of the two inputs.
    pub test_id: AttrValue,
}

/// The intro and the two boxes, once the step is asked for.
#[component]
pub fn NewPasswordFields(props: &NewPasswordFieldsProps) -> Html {
    if !props.step.asked {
        return html! {};
    }
    let lang = props.lang;
    let set = |f: fn(&mut NewPasswordStep, String)| {
        let (step, cb) = (props.step.clone(), props.on_change.clone());
        Callback::from(move |v: String| {
            let mut next = step.clone();
            f(&mut next, v);
            cb.emit(next);
        })
    };
    html! {
        <div class="new-password" data-testid={format!("{}-step", props.test_id)}>
            <h3>{ t(lang, Key::SetNewPasswordTitle) }</h3>
            <p class="muted">{ t(lang, Key::SetNewPasswordIntro) }</p>
            <TextField {lang} label={Key::NewPassword} kind="password" value={props.step.new.clone()}
                on_change={set(|s, v| s.new = v)} test_id={format!("{}-new", props.test_id)} />
            <TextField {lang} label={Key::RepeatPassword} kind="password" value={props.step.repeat.clone()}
                on_change={set(|s, v| s.repeat = v)} test_id={format!("{}-repeat", props.test_id)} />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_is_asked_once_the_server_says_so_and_checks_the_repetition() {
        let step = NewPasswordStep::default();
        assert_eq!(step.to_send(), Ok(None), "an ordinary enrolment");
        assert!(!step.after(Some("sync.bad_credentials")).asked);
        let asked = step.after(Some(ipc::codes::PASSWORD_CHANGE_REQUIRED));
        assert!(asked.asked);
        assert!(asked.after(Some("sync.weak_password")).asked, "it stays");
        let typed = NewPasswordStep {
            new: "茶园新密码2026".into(),
            repeat: "茶园新密码2025".into(),
            ..asked
        };
        assert_eq!(
            typed.to_send().unwrap_err().code,
            ipc::codes::PASSWORDS_DIFFER
        );
        let same = NewPasswordStep {
            repeat: typed.new.clone(),
            ..typed
        };
        assert_eq!(same.to_send(), Ok(Some("茶园新密码2026".into())));
    }
}
