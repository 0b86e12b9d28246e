//! Ketepai's field interface (科特派): Yew components compiled to wasm and shown
//! in the Tauri webview.
//!
//! - [`app`]: the root component and routing by [`state::Page`].
//! - [`pages`]: one module per full-screen page.
//! - [`components`]: reusable pieces.
//! - [`state`]: [`state::AppState`] and its reducer, plain Rust.
//! - [`i18n`]: zh-CN (default) and English text behind typed keys.
//! - [`ipc`]: the only module that talks to the Tauri shell.
//! - [`browser`]: the only module that touches other page APIs.
//!
//! Everything renders natively too (`yew::ServerRenderer` in tests), where
//! `ipc` and `browser` answer with neutral fallbacks.

pub mod app;
pub mod browser;
pub mod components;
pub mod i18n;
pub mod ipc;
pub mod pages;
pub mod state;

/// Mounts the interface on the page. Called by the wasm entry point.
#[cfg(target_arch = "wasm32")]
pub fn start() {
    browser::remove_boot_note();
    yew::Renderer::<app::App>::new().render();
}
