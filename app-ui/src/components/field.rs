//! Form fields with large touch targets: a label above, the input, and the
//! field's error (translated) right under it.

use yew::prelude::*;

use crate::i18n::{Key, Lang, t};
use crate::ipc::field_error_key;

/// The value of the input or text area an event came from.
pub fn event_value(e: &Event) -> String {
    use yew::TargetCast;
    if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
        input.value()
    } else if let Some(area) = e.target_dyn_into::<web_sys::HtmlTextAreaElement>() {
        area.value()
    } else if let Some(select) = e.target_dyn_into::<web_sys::HtmlSelectElement>() {
        select.value()
    } else {
        String::new()
    }
}

/// Properties of [`TextField`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct TextFieldProps {
    /// Interface language.
    pub lang: Lang,
    /// Label.
    pub label: Key,
    /// Current value.
    pub value: AttrValue,
    /// Called with the new value on every change.
    pub on_change: Callback<String>,
    /// A `FieldError` code to show under the field.
    #[prop_or_default]
    pub error: Option<AttrValue>,
    /// A hint under the label.
    #[prop_or_default]
    pub hint: Option<Key>,
    /// `text`, `date`, `time`, `password`, `tel`, `url`.
    #[prop_or(AttrValue::Static("text"))]
    pub kind: AttrValue,
    /// `numeric` for counts (a digit keyboard on phones).
    #[prop_or_default]
    pub inputmode: Option<AttrValue>,
    /// A text area instead of a one-line input.
    #[prop_or_default]
    pub multiline: bool,
    /// Placeholder.
    #[prop_or_default]
    pub placeholder: Option<AttrValue>,
    /// `data-testid` of the input.
    pub test_id: AttrValue,
}

/// A labelled input.
#[component]
pub fn TextField(props: &TextFieldProps) -> Html {
    let lang = props.lang;
    let oninput = {
        let cb = props.on_change.clone();
        Callback::from(move |e: InputEvent| cb.emit(event_value(&e)))
    };
    let invalid = props.error.is_some();
    let input = if props.multiline {
        html! {
            <textarea rows="4" data-testid={props.test_id.clone()} value={props.value.clone()}
                aria-invalid={invalid.then_some("true")} placeholder={props.placeholder.clone()} {oninput} />
        }
    } else {
        html! {
            <input type={props.kind.clone()} data-testid={props.test_id.clone()} value={props.value.clone()}
                inputmode={props.inputmode.clone()} aria-invalid={invalid.then_some("true")}
                placeholder={props.placeholder.clone()} {oninput} />
        }
    };
    html! {
        <label class={classes!("field", invalid.then_some("invalid"))}>
            <span class="field-label">{ t(lang, props.label) }</span>
            if let Some(hint) = props.hint {
                <span class="field-hint">{ t(lang, hint) }</span>
            }
            { input }
            <FieldErrorText {lang} code={props.error.clone()} field={props.test_id.clone()} />
        </label>
    }
}

/// Properties of [`FieldErrorText`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct FieldErrorTextProps {
    /// Interface language.
    pub lang: Lang,
    /// The error code, if any.
    pub code: Option<AttrValue>,
    /// Which field (for tests).
    pub field: AttrValue,
}

/// The translated error of one field.
#[component]
pub fn FieldErrorText(props: &FieldErrorTextProps) -> Html {
    match &props.code {
        Some(code) => html! {
            <span class="field-error" role="alert" data-testid={format!("error-{}", props.field)}>
                { t(props.lang, field_error_key(code)) }
            </span>
        },
        None => html! {},
    }
}

/// Properties of [`Chips`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ChipsProps {
    /// `(code, label)` of each choice.
    pub options: Vec<(AttrValue, AttrValue)>,
    /// The chosen code.
    pub selected: AttrValue,
    /// Called with a tapped code.
    pub on_pick: Callback<String>,
    /// `data-testid` prefix; each chip is `<prefix>-<code>`.
    pub test_id: AttrValue,
}

/// One-tap choices (activity type, channel, status): large buttons, the
/// chosen one filled.
#[component]
pub fn Chips(props: &ChipsProps) -> Html {
    html! {
        <div class="chips" role="radiogroup">
            { for props.options.iter().map(|(code, label)| {
                let chosen = *code == props.selected;
                let onclick = {
                    let cb = props.on_pick.clone();
                    let code = code.to_string();
                    Callback::from(move |_| cb.emit(code.clone()))
                };
                html! {
                    <button type="button" role="radio" aria-checked={if chosen { "true" } else { "false" }}
                        class={classes!("chip", chosen.then_some("chosen"))}
                        data-testid={format!("{}-{}", props.test_id, code)} {onclick}>
                        { label.clone() }
                    </button>
                }
            }) }
        </div>
    }
}
