//! Hooks shared by pages: saving form drafts as the user types, and the
//! forms that open a session (enrol, sign in, enrol again).

use std::cell::RefCell;
use std::rc::Rc;

use serde::Serialize;
use yew::prelude::*;

use app_core::api::SessionState;

use crate::ipc;
use crate::state::{Action, AppContext, Remote};

/// How long after the last keystroke a draft is written. Killing the app
/// loses at most this much typing.
pub const DRAFT_DELAY_MS: u32 = 500;

/// Saves `value` as the form draft `key` [`DRAFT_DELAY_MS`] after its last
/// change, while `enabled` (the user has typed, and no save of the record
/// is under way). A change still waiting when the page closes is written at
/// once. Drafts are local: the shell never syncs them.
#[hook]
pub fn use_draft_autosave<T>(key: String, value: T, enabled: bool)
where
    T: Serialize + PartialEq + Clone + 'static,
{
    let pending: Rc<RefCell<Option<(String, String)>>> = use_mut_ref(|| None);

    {
        let pending = Rc::clone(&pending);
        use_effect_with((key, value, enabled), move |(key, value, enabled)| {
            *pending.borrow_mut() = if *enabled {
                serde_json::to_string(value)
                    .ok()
                    .map(|json| (key.clone(), json))
            } else {
                None
            };
            let timer = schedule(Rc::clone(&pending));
            move || {
                let _timer = timer;
            }
        });
    }

    // Closing the page writes what is still waiting.
    use_effect_with((), move |_| move || flush(&pending));
}

fn flush(pending: &Rc<RefCell<Option<(String, String)>>>) {
    if let Some((key, json)) = pending.borrow_mut().take() {
        yew::platform::spawn_local(async move {
            let _ = ipc::save_form_draft(key, json).await;
        });
    }
}

#[cfg(target_arch = "wasm32")]
fn schedule(
    pending: Rc<RefCell<Option<(String, String)>>>,
) -> Option<gloo_timers::callback::Timeout> {
    pending.borrow().as_ref()?;
    Some(gloo_timers::callback::Timeout::new(
        DRAFT_DELAY_MS,
        move || flush(&pending),
    ))
}

#[cfg(not(target_arch = "wasm32"))]
fn schedule(_pending: Rc<RefCell<Option<(String, String)>>>) -> Option<()> {
    None
}

/// Calls `tick` at once and then every `millis` while `enabled` and the
/// component is mounted (browser only). The interval is made again when
/// `enabled` changes, so `tick` may read the state of that render.
#[hook]
pub fn use_interval(millis: u32, enabled: bool, tick: Callback<()>) {
    use_effect_with((millis, enabled), move |&(millis, enabled)| {
        if enabled {
            tick.emit(());
        }
        #[cfg(target_arch = "wasm32")]
        let interval =
            enabled.then(|| gloo_timers::callback::Interval::new(millis, move || tick.emit(())));
        #[cfg(not(target_arch = "wasm32"))]
        let interval: Option<()> = {
            let _ = (millis, tick);
            None
        };
        move || {
            let _interval = interval;
        }
    });
}

/// A count of tasks under way that concurrent tasks update safely (a
/// reducer always applies to the latest value).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Busy(pub u32);

impl Reducible for Busy {
    type Action = bool;
    fn reduce(self: Rc<Self>, started: bool) -> Rc<Self> {
        Rc::new(Busy(if started {
            self.0 + 1
        } else {
            self.0.saturating_sub(1)
        }))
    }
}

/// Fetches with `fetch(deps)` whenever `deps` change; starts [`Remote::Loading`].
#[hook]
pub fn use_fetch<D, T, F, Fut>(deps: D, fetch: F) -> UseStateHandle<Remote<T>>
where
    D: PartialEq + Clone + 'static,
    T: 'static,
    F: FnOnce(D) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, ipc::IpcError>> + 'static,
{
    let state = use_state(|| Remote::Loading);
    {
        let state = state.clone();
        use_effect_with(deps, move |deps| {
            let fut = fetch(deps.clone());
            yew::platform::spawn_local(async move { state.set(fut.await.into()) });
        });
    }
    state
}

/// A form that asks the shell for a session: what [`use_session_form`]
/// gives the page.
pub struct SessionForm {
    /// For the `<form>`: Enter in any field or the submit button sends it.
    pub onsubmit: Callback<SubmitEvent>,
    /// A request is under way (the button is disabled, a second submit
    /// does nothing).
    pub busy: bool,
    /// The code of the last failure, for an error line.
    pub error: Option<String>,
}

/// Submits with `call` (built from the form's current values), one request
/// at a time; on success the app loads the new session, on failure the
/// form keeps what was typed and shows the error's code in words.
#[hook]
pub fn use_session_form<F, Fut>(call: F) -> SessionForm
where
    F: Fn() -> Fut + 'static,
    Fut: std::future::Future<Output = Result<SessionState, ipc::IpcError>> + 'static,
{
    let state = use_context::<AppContext>().expect("session forms are rendered inside App");
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let onsubmit = {
        let (busy, error) = (busy.clone(), error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let (request, busy, error, state) =
                (call(), busy.clone(), error.clone(), state.clone());
            yew::platform::spawn_local(async move {
                match request.await {
                    Ok(session) => state.dispatch(Action::SessionLoaded(Ok(session))),
                    Err(e) => error.set(Some(e.code)),
                }
                busy.set(false);
            });
        })
    };
    SessionForm {
        onsubmit,
        busy: *busy,
        error: (*error).clone(),
    }
}
