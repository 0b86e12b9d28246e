//! The desktop entry point: everything lives in [`ketepai_lib::run`].

// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    ketepai_lib::run();
}
