//! Ketepai's field interface (科特派): Yew components compiled to wasm and shown
//! in the Tauri webview.
//!
//! - [`app`]: the root component; boot, polling, routing.
//! - [`pages`]: one module per full-screen page.
//! - [`components`]: reusable pieces.
//! - [`forms`]: form data and its reducer, plain Rust.
//! - [`state`]: [`state::AppState`] and its reducer, plain Rust.
//! - [`hooks`]: draft autosave, intervals, fetching.
//! - [`i18n`]: zh-CN (default) and English text behind typed keys.
//! - [`ipc`]: the only module that talks to the Tauri shell.
//! - [`browser`]: the only module that touches other page APIs.
//!
//! Everything renders natively too (Yew's server renderer in tests), where
//! `ipc` and `browser` answer with neutral fallbacks.

pub mod app;
pub mod browser;
pub mod components;
pub mod forms;
pub mod hooks;
pub mod i18n;
pub mod ipc;
pub mod pages;
pub mod state;

#[cfg(test)]
pub(crate) mod testing;

/// Mounts the interface on the page. Called by the wasm entry point.
#[cfg(target_arch = "wasm32")]
pub fn start() {
    browser::remove_boot_note();
    yew::Renderer::<app::App>::new().render();
}
