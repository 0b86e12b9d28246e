//! The only module that talks to the Tauri shell.
//!
//! Every command is a typed async function here (`app_info`, …) over one private
//! `invoke`, which calls `window.__TAURI__.core.invoke` (the shell sets
//! `app.withGlobalTauri`). Components never name a command string.
//!
//! Failures come back as [`IpcError`]: a stable `code` that the interface
//! translates with [`IpcError::key`], and a `message` for the console only. Raw
//! error text is never shown to the user.
//!
//! The wire types mirror `src-tauri/src/commands.rs`; they belong in app-core's
//! wasm-safe part once it has a module for command types.
//!
//! Outside the browser (native tests, server-side rendering) there is no Tauri,
//! and every call returns [`codes::UNAVAILABLE`].

use serde::Deserialize;

use crate::i18n::Key;

/// Stable error codes produced by this module (the shell adds its own).
pub mod codes {
    /// `window.__TAURI__` is missing: not running inside the Ketepai shell.
    pub const UNAVAILABLE: &str = "ipc.unavailable";
    /// The shell answered, but not with the expected shape.
    pub const BAD_RESPONSE: &str = "ipc.bad_response";
    /// The shell rejected the call without a `{ code, message }` error
    /// (for example an unknown command).
    pub const REJECTED: &str = "ipc.rejected";
}

/// A failed IPC call: a stable code for the interface, a message for logs.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct IpcError {
    /// Stable, dotted, lowercase code such as `ipc.unavailable`; what the UI
    /// branches on and translates.
    pub code: String,
    /// Developer-facing detail. Log it; never show it.
    #[serde(default)]
    pub message: String,
}

impl IpcError {
    /// An error with `code` and a developer-facing `message`.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// The interface text for this error's code.
    pub fn key(&self) -> Key {
        match self.code.as_str() {
            codes::UNAVAILABLE => Key::ErrIpcUnavailable,
            codes::BAD_RESPONSE => Key::ErrIpcBadResponse,
            _ => Key::ErrUnexpected,
        }
    }
}

/// What `app_info` answers: facts about the running app.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AppInfo {
    /// The app version, e.g. `0.1.0`.
    pub version: String,
    /// Where this instance keeps its store, as an absolute path.
    pub data_dir: String,
}

/// Arguments of a command that takes none.
#[derive(serde::Serialize)]
struct NoArgs {}

/// Asks the shell for its version and data directory.
pub async fn app_info() -> Result<AppInfo, IpcError> {
    invoke("app_info", &NoArgs {}).await
}

#[cfg(target_arch = "wasm32")]
async fn invoke<A, T>(command: &str, args: &A) -> Result<T, IpcError>
where
    A: serde::Serialize,
    T: serde::de::DeserializeOwned,
{
    use wasm_bindgen::{JsCast, JsValue};

    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let args = args.serialize(&serializer).map_err(|e| {
        IpcError::new(
            codes::BAD_RESPONSE,
            format!("cannot encode {command} arguments: {e}"),
        )
    })?;

    let invoke = tauri_invoke().ok_or_else(|| {
        IpcError::new(
            codes::UNAVAILABLE,
            "window.__TAURI__.core.invoke is missing",
        )
    })?;
    let promise = invoke
        .call2(&JsValue::NULL, &JsValue::from_str(command), &args)
        .map_err(|e| rejection(command, e))?;
    let promise: js_sys::Promise = promise.dyn_into().map_err(|_| {
        IpcError::new(
            codes::BAD_RESPONSE,
            format!("{command}: invoke did not return a promise"),
        )
    })?;

    match wasm_bindgen_futures::JsFuture::from(promise).await {
        Ok(value) => serde_wasm_bindgen::from_value(value).map_err(|e| {
            IpcError::new(
                codes::BAD_RESPONSE,
                format!("{command}: unexpected answer: {e}"),
            )
        }),
        Err(error) => Err(rejection(command, error)),
    }
}

/// `window.__TAURI__.core.invoke`, if present.
#[cfg(target_arch = "wasm32")]
fn tauri_invoke() -> Option<js_sys::Function> {
    use wasm_bindgen::JsCast;

    let get = |target: &wasm_bindgen::JsValue, key: &str| {
        js_sys::Reflect::get(target, &wasm_bindgen::JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    };
    let tauri = get(&js_sys::global(), "__TAURI__")?;
    let core = get(&tauri, "core")?;
    get(&core, "invoke")?.dyn_into().ok()
}

/// Turns a rejected call into an [`IpcError`], keeping the shell's code when
/// it sent a `{ code, message }` object.
#[cfg(target_arch = "wasm32")]
fn rejection(command: &str, error: wasm_bindgen::JsValue) -> IpcError {
    match serde_wasm_bindgen::from_value::<IpcError>(error.clone()) {
        Ok(e) => e,
        Err(_) => IpcError::new(
            codes::REJECTED,
            format!(
                "{command}: {}",
                error.as_string().unwrap_or_else(|| format!("{error:?}"))
            ),
        ),
    }
}

#[cfg(not(target_arch = "wasm32"))]
async fn invoke<A, T>(command: &str, _args: &A) -> Result<T, IpcError>
where
    A: serde::Serialize,
    T: serde::de::DeserializeOwned,
{
    Err(IpcError::new(
        codes::UNAVAILABLE,
        format!("{command}: no Tauri outside the browser build"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_their_own_text() {
        assert_eq!(
            IpcError::new(codes::UNAVAILABLE, "").key(),
            Key::ErrIpcUnavailable
        );
        assert_eq!(
            IpcError::new(codes::BAD_RESPONSE, "").key(),
            Key::ErrIpcBadResponse
        );
    }

    #[test]
    fn unknown_codes_fall_back_to_a_generic_text() {
        assert_eq!(
            IpcError::new("store.disk_full", "").key(),
            Key::ErrUnexpected
        );
        assert_eq!(IpcError::new(codes::REJECTED, "").key(), Key::ErrUnexpected);
    }

    /// The same JSON that `src-tauri`'s tests pin for the shell's side.
    #[test]
    fn reads_the_shells_wire_format() {
        let info: AppInfo =
            serde_json::from_str(r#"{"version":"0.1.0","data_dir":"/data/ketepai"}"#).unwrap();
        assert_eq!(info.data_dir, "/data/ketepai");
        let error: IpcError = serde_json::from_str(
            r#"{"code":"data_dir.not_utf8","message":"data directory /data/x is not valid UTF-8"}"#,
        )
        .unwrap();
        assert_eq!(error.code, "data_dir.not_utf8");
    }

    #[test]
    fn outside_the_browser_calls_are_unavailable() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = rt.block_on(app_info()).unwrap_err();
        assert_eq!(err.code, codes::UNAVAILABLE);
    }
}
