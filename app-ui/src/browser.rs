//! The page environment other than Tauri: connectivity and the document language.
//!
//! Components call these small functions instead of `web_sys` so that they still
//! compile and render natively (tests, server-side rendering), where each
//! function has a neutral fallback. Tauri calls live in [`crate::ipc`], not here.

use crate::state::Connectivity;

/// What the webview believes about the network right now (`navigator.onLine`).
///
/// `Online` only means a network interface is up; whether the sync server is
/// reachable is the sync module's business.
pub fn connectivity() -> Connectivity {
    #[cfg(target_arch = "wasm32")]
    {
        let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
        if online {
            Connectivity::Online
        } else {
            Connectivity::Offline
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Connectivity::Offline
    }
}

/// Calls `on_change` whenever the browser's `online`/`offline` events fire.
/// Dropping the returned guard removes the listeners.
pub fn watch_connectivity(on_change: impl Fn(Connectivity) + 'static) -> ConnectivityWatch {
    #[cfg(target_arch = "wasm32")]
    {
        use std::rc::Rc;

        let on_change = Rc::new(on_change);
        let listeners = web_sys::window()
            .map(|window| {
                ["online", "offline"]
                    .into_iter()
                    .map(|event| {
                        let on_change = Rc::clone(&on_change);
                        gloo_events::EventListener::new(&window, event, move |_| {
                            on_change(connectivity())
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        ConnectivityWatch {
            _listeners: listeners,
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        drop(on_change);
        ConnectivityWatch {}
    }
}

/// Keeps the connectivity listeners alive; see [`watch_connectivity`].
#[must_use = "the listeners are removed when this is dropped"]
pub struct ConnectivityWatch {
    #[cfg(target_arch = "wasm32")]
    _listeners: Vec<gloo_events::EventListener>,
}

/// Sets `<html lang>`, which screen readers use and which picks CJK glyphs.
pub fn set_document_lang(tag: &str) {
    #[cfg(target_arch = "wasm32")]
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        // Cannot fail for a valid attribute name.
        let _ = root.set_attribute("lang", tag);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = tag;
}

/// Removes the static "loading" note that index.html shows until wasm starts.
pub fn remove_boot_note() {
    #[cfg(target_arch = "wasm32")]
    if let Some(boot) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("boot"))
    {
        boot.remove();
    }
}

/// Copies `text` to the clipboard (`navigator.clipboard.writeText`);
/// whether the page could ask for it. Natively: `false`.
pub fn copy_to_clipboard(text: &str) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::{JsCast, JsValue};
        let get = |target: &JsValue, key: &str| {
            js_sys::Reflect::get(target, &JsValue::from_str(key))
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_null())
        };
        let Some(clipboard) =
            get(&js_sys::global(), "navigator").and_then(|n| get(&n, "clipboard"))
        else {
            return false;
        };
        let Some(write) =
            get(&clipboard, "writeText").and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        else {
            return false;
        };
        write.call1(&clipboard, &JsValue::from_str(text)).is_ok()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = text;
        false
    }
}
